#include "http/cache_status.h"

#include "base/strings.h"

namespace cachefwd::http {

namespace {

// A cursor over an RFC 8941 list, with just the bare items Cache-Status uses.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  void skip_sp() {
    while (!done() && s_[i_] == ' ') ++i_;
  }
  void skip_ows() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  // sf-token: ALPHA / "*" first, then tchar / ":" / "/".
  std::optional<std::string> token() {
    const char c = peek();
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*')) return std::nullopt;
    const size_t start = i_;
    while (!done() && (is_tchar(s_[i_]) || s_[i_] == ':' || s_[i_] == '/')) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }
  // sf-key: lcalpha / "*" first, then lcalpha / DIGIT / "_" / "-" / "." / "*".
  std::optional<std::string> key() {
    const char c = peek();
    if (!((c >= 'a' && c <= 'z') || c == '*')) return std::nullopt;
    const size_t start = i_;
    while (!done()) {
      const char k = s_[i_];
      if (!((k >= 'a' && k <= 'z') || (k >= '0' && k <= '9') || k == '_' || k == '-' || k == '.' || k == '*'))
        break;
      ++i_;
    }
    return std::string(s_.substr(start, i_ - start));
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (!done()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (done() || (s_[i_] != '"' && s_[i_] != '\\')) return std::nullopt;
        out += s_[i_++];
      } else if (c < 0x20 || c == 0x7f) {
        return std::nullopt;
      } else {
        out += c;
      }
    }
    return std::nullopt;  // unterminated
  }
  std::optional<std::int64_t> integer() {
    const size_t start = i_;
    if (peek() == '-') ++i_;
    const size_t digits = i_;
    while (!done() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == digits || i_ - digits > 15) return std::nullopt;
    if (peek() == '.') return std::nullopt;  // decimals: no Cache-Status parameter we read is one
    return std::stoll(std::string(s_.substr(start, i_ - start)));
  }

 private:
  static bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }
  std::string_view s_;
  size_t i_ = 0;
};

// A bare item's value as text (tokens and strings), integer, or boolean.
struct Bare {
  std::optional<std::string> text;
  std::optional<std::int64_t> number;
  std::optional<bool> boolean;
};

std::optional<Bare> bare_item(Cursor& c) {
  Bare b;
  if (c.peek() == '"') {
    b.text = c.string();
    if (!b.text) return std::nullopt;
  } else if (c.peek() == '?') {
    c.eat('?');
    if (c.eat('1'))
      b.boolean = true;
    else if (c.eat('0'))
      b.boolean = false;
    else
      return std::nullopt;
  } else if (c.peek() == '-' || (c.peek() >= '0' && c.peek() <= '9')) {
    b.number = c.integer();
    if (!b.number) return std::nullopt;
  } else {
    b.text = c.token();
    if (!b.text) return std::nullopt;
  }
  return b;
}

}  // namespace

std::optional<std::vector<CacheStatusEntry>> parse_cache_status(std::string_view value) {
  Cursor c(value);
  std::vector<CacheStatusEntry> out;
  c.skip_sp();
  while (!c.done()) {
    CacheStatusEntry e;
    // The member's item: the cache's name, a token or a string.
    auto name = bare_item(c);
    if (!name || !name->text) return std::nullopt;
    e.cache = *name->text;
    while (c.eat(';')) {
      c.skip_sp();
      auto k = c.key();
      if (!k) return std::nullopt;
      Bare v;
      v.boolean = true;  // a parameter without a value is ?1
      if (c.eat('=')) {
        auto b = bare_item(c);
        if (!b) return std::nullopt;
        v = *b;
      }
      if (*k == "hit")
        e.hit = v.boolean.value_or(false);
      else if (*k == "stored")
        e.stored = v.boolean.value_or(false);
      else if (*k == "collapsed")
        e.collapsed = v.boolean.value_or(false);
      else if (*k == "fwd" && v.text)
        e.fwd = *v.text;
      else if (*k == "fwd-status" && v.number)
        e.fwd_status = static_cast<int>(*v.number);
      else if (*k == "ttl" && v.number)
        e.ttl = *v.number;
      else if (*k == "key" && v.text)
        e.key = *v.text;
      else if (*k == "detail" && v.text)
        e.detail = *v.text;
    }
    out.push_back(std::move(e));
    c.skip_ows();
    if (c.done()) break;
    if (!c.eat(',')) return std::nullopt;
    c.skip_ows();
    if (c.done()) return std::nullopt;  // a trailing comma
  }
  return out;
}

CacheOutcome cache_outcome(const std::optional<std::string_view>& cache_status,
                           const std::optional<std::string_view>& x_cache) {
  if (cache_status) {
    const auto list = parse_cache_status(*cache_status);
    if (!list || list->empty()) return CacheOutcome::unknown;
    return list->back().hit ? CacheOutcome::hit : CacheOutcome::miss;
  }
  if (x_cache) {
    std::string_view v = *x_cache;
    if (const size_t comma = v.rfind(','); comma != std::string_view::npos) v = v.substr(comma + 1);
    v = trim_ows(v);
    if (v.empty()) return CacheOutcome::unknown;
    return istarts_with(v, "hit") ? CacheOutcome::hit : CacheOutcome::miss;
  }
  return CacheOutcome::unknown;
}

}  // namespace cachefwd::http
