#include "replay/json.h"

#include <charconv>
#include <cstdlib>

namespace cachefwd::replay {

JsonValue::JsonValue() = default;
JsonValue::JsonValue(const JsonValue&) = default;
JsonValue::JsonValue(JsonValue&&) noexcept = default;
JsonValue& JsonValue::operator=(const JsonValue&) = default;
JsonValue& JsonValue::operator=(JsonValue&&) noexcept = default;
JsonValue::~JsonValue() = default;

const JsonValue* JsonValue::get(std::string_view name) const {
  if (type != Type::object) return nullptr;
  for (const auto& [k, v] : object) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool parse_document(JsonValue& out) {
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    if (i_ != s_.size()) return fail("trailing characters after the JSON value");
    return true;
  }
  JsonError error() const {
    std::uint64_t line = 1;
    for (size_t k = 0; k < err_pos_ && k < s_.size(); ++k) line += s_[k] == '\n';
    return JsonError{line, err_};
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
  std::string err_;
  size_t err_pos_ = 0;

  bool fail(const char* what) {
    if (err_.empty()) {
      err_ = what;
      err_pos_ = i_;
    }
    return false;
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("invalid literal");
    i_ += word.size();
    return true;
  }
  bool value(JsonValue& out, int depth) {
    if (depth > 256) return fail("nesting too deep");
    if (i_ >= s_.size()) return fail("unexpected end of input");
    switch (s_[i_]) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"':
        out.type = JsonValue::Type::string;
        return string(out.string);
      case 't':
        out.type = JsonValue::Type::boolean;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.type = JsonValue::Type::boolean;
        return literal("false");
      case 'n':
        out.type = JsonValue::Type::null;
        return literal("null");
      default:
        return number(out);
    }
  }
  bool object(JsonValue& out, int depth) {
    out.type = JsonValue::Type::object;
    ++i_;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expected a member name");
      std::string name;
      if (!string(name)) return false;
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':'");
      ++i_;
      skip_ws();
      out.object.emplace_back(std::move(name), JsonValue{});
      if (!value(out.object.back().second, depth + 1)) return false;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }
  bool array(JsonValue& out, int depth) {
    out.type = JsonValue::Type::array;
    ++i_;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_ws();
      out.array.emplace_back();
      if (!value(out.array.back(), depth + 1)) return false;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }
  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(std::uint32_t& cp) {
    if (i_ + 4 > s_.size()) return fail("truncated \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    for (;;) {
      if (i_ >= s_.size()) return fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(cp)) return false;
          // A surrogate pair encodes one code point above U+FFFF (RFC 8259 §7); a lone surrogate
          // becomes U+FFFD rather than invalid UTF-8.
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            std::uint32_t lo;
            if (!hex4(lo)) return false;
            cp = (lo >= 0xDC00 && lo < 0xE000) ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : 0xFFFD;
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return fail("bad escape");
      }
    }
  }
  bool number(JsonValue& out) {
    const size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') return fail("unexpected character");
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    const std::string text(s_.substr(start, i_ - start));
    char* end = nullptr;
    out.type = JsonValue::Type::number;
    out.number = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) {
      i_ = start;
      return fail("malformed number");
    }
    return true;
  }
};

}  // namespace

std::optional<JsonValue> parse_json(std::string_view text, JsonError* error) {
  Parser p(text);
  JsonValue v;
  if (!p.parse_document(v)) {
    if (error) *error = p.error();
    return std::nullopt;
  }
  return v;
}

}  // namespace cachefwd::replay
