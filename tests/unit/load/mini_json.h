#pragma once
// A small strict JSON reader for tests: flattens a document into dotted paths ("a.b", "series.0.t_s")
// → value text, and fails (nullopt) on anything malformed, so a test also proves the output parses.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace cachefwd::load::testing {

class MiniJson {
 public:
  static std::optional<std::map<std::string, std::string>> flatten(const std::string& text) {
    MiniJson j(text);
    std::map<std::string, std::string> out;
    if (!j.value("", out)) return std::nullopt;
    j.ws();
    if (j.i_ != text.size()) return std::nullopt;
    return out;
  }

 private:
  explicit MiniJson(const std::string& t) : t_(t) {}
  void ws() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  bool str(std::string& out) {
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    ++i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\') ++i_;
      if (i_ < t_.size()) out += t_[i_++];
    }
    if (i_ >= t_.size()) return false;
    ++i_;
    return true;
  }
  static std::string join(const std::string& p, const std::string& k) { return p.empty() ? k : p + "." + k; }
  bool value(const std::string& path, std::map<std::string, std::string>& out) {
    ws();
    if (i_ >= t_.size()) return false;
    const char c = t_[i_];
    if (c == '{' || c == '[') {
      const bool obj = c == '{';
      ++i_;
      ws();
      out[path] = obj ? "{}" : "[]";
      if (i_ < t_.size() && t_[i_] == (obj ? '}' : ']')) {
        ++i_;
        return true;
      }
      for (int idx = 0;; ++idx) {
        std::string key = std::to_string(idx);
        if (obj) {
          ws();
          key.clear();
          if (!str(key)) return false;
          ws();
          if (i_ >= t_.size() || t_[i_++] != ':') return false;
        }
        if (!value(join(path, key), out)) return false;
        ws();
        if (i_ >= t_.size()) return false;
        if (t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (t_[i_] != (obj ? '}' : ']')) return false;
        ++i_;
        return true;
      }
    }
    if (c == '"') {
      std::string s;
      if (!str(s)) return false;
      out[path] = s;
      return true;
    }
    for (const char* lit : {"true", "false", "null"}) {
      if (t_.compare(i_, std::strlen(lit), lit) == 0) {
        out[path] = lit;
        i_ += std::strlen(lit);
        return true;
      }
    }
    char* end = nullptr;
    std::strtod(t_.c_str() + i_, &end);
    if (end == t_.c_str() + i_) return false;
    out[path] = t_.substr(i_, static_cast<std::size_t>(end - (t_.c_str() + i_)));
    i_ = static_cast<std::size_t>(end - t_.c_str());
    return true;
  }
  const std::string& t_;
  std::size_t i_ = 0;
};

}  // namespace cachefwd::load::testing
