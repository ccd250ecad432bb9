#include "metrics/access_log_reader.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <vector>

#include "base/strings.h"
#include "http/http_date.h"

// The reader half of the access log (replay, and plain nginx/Apache logs); the writer is
// access_log.cpp.
namespace cachefwd::metrics {

namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kMsPerDay = 86'400'000;

// Validated civil time to UnixMillis; nullopt for a day that does not exist (31 Apr).
std::optional<UnixMillis> millis_from_civil(std::int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                                            unsigned s, unsigned ms) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || ms > 999) return std::nullopt;
  std::int64_t days = http::days_from_civil(y, mo, d);
  http::CivilDate back = http::civil_from_days(days);
  if (back.month != mo || back.day != d) return std::nullopt;
  return days * kMsPerDay + (h * 3600 + mi * 60 + s) * 1000LL + ms;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Undoes nginx's \xHH and Apache's ap_escape_logitem (\" \\ \b \n \r \t \v \xhh). An unknown
// escape is kept as written: old or unescaped logs may contain a literal backslash.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char n = s[i + 1];
    if (n == 'x' && i + 3 < s.size() && hex_value(s[i + 2]) >= 0 && hex_value(s[i + 3]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3])));
      i += 3;
      continue;
    }
    char decoded = 0;
    switch (n) {
      case '"':
        decoded = '"';
        break;
      case '\\':
        decoded = '\\';
        break;
      case 'b':
        decoded = '\b';
        break;
      case 'n':
        decoded = '\n';
        break;
      case 'r':
        decoded = '\r';
        break;
      case 't':
        decoded = '\t';
        break;
      case 'v':
        decoded = '\v';
        break;
      default:
        break;
    }
    if (decoded != 0) {
      out.push_back(decoded);
      ++i;
    } else {
      out.push_back('\\');
    }
  }
  return out;
}

std::string dash_empty(std::string s) { return s == "-" ? std::string() : s; }

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  void skip_spaces() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t') ++i_;
    return s_.substr(start, i_ - start);
  }
  std::optional<std::string_view> until(char c) {
    size_t end = s_.find(c, i_);
    if (end == std::string_view::npos) return std::nullopt;
    auto out = s_.substr(i_, end - i_);
    i_ = end + 1;
    return out;
  }
  // The raw (still escaped) content of a "..." field; a backslash escapes the next byte.
  std::optional<std::string_view> quoted() {
    if (!eat('"')) return std::nullopt;
    size_t start = i_;
    while (i_ < s_.size()) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        i_ += 2;
      } else if (s_[i_] == '"') {
        return s_.substr(start, i_++ - start);
      } else {
        ++i_;
      }
    }
    return std::nullopt;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::optional<unsigned> fixed_digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// "+hhmm" or "+hh:mm" (or with '-') -> the milliseconds local time is ahead of UTC.
std::optional<std::int64_t> zone_offset_ms(std::string_view zone) {
  if (!((zone.size() == 6 && zone[3] == ':') || zone.size() == 5) || (zone[0] != '+' && zone[0] != '-'))
    return std::nullopt;
  auto oh = fixed_digits(zone.substr(1, 2));
  auto om = fixed_digits(zone.substr(zone.size() - 2, 2));
  if (!oh || !om || *om > 59) return std::nullopt;
  return (*oh * 60LL + *om) * 60'000 * (zone[0] == '+' ? 1 : -1);
}

}  // namespace

// "10/Oct/2000:13:55:36 -0700" -> UTC milliseconds.
std::optional<UnixMillis> parse_clf_time(std::string_view s) {
  if (s.size() != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
      s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
    return std::nullopt;
  unsigned month = 0;
  for (unsigned m = 0; m < 12; ++m)
    if (iequals(s.substr(3, 3), kMonths[m])) month = m + 1;
  auto day = fixed_digits(s.substr(0, 2));
  auto year = fixed_digits(s.substr(7, 4));
  auto hour = fixed_digits(s.substr(12, 2));
  auto minute = fixed_digits(s.substr(15, 2));
  auto second = fixed_digits(s.substr(18, 2));
  auto offset_ms = zone_offset_ms(s.substr(21));
  if (!month || !day || !year || !hour || !minute || !second || !offset_ms) return std::nullopt;
  auto local = millis_from_civil(*year, month, *day, *hour, *minute, *second, 0);
  if (!local) return std::nullopt;
  // Local time = UTC + offset, so UTC = local - offset.
  return *local - *offset_ms;
}

namespace {

std::optional<std::int64_t> parse_nonneg(std::string_view s) { return parse_decimal(s); }

std::optional<AccessRecord> parse_combined(std::string_view line) {
  Cursor c(line);
  AccessRecord r;
  r.http_version.clear();
  c.skip_spaces();
  r.client_addr = dash_empty(unescape(c.token()));
  c.skip_spaces();
  if (c.token().empty()) return std::nullopt;  // ident
  c.skip_spaces();
  if (c.peek() == '"') {  // some formats quote the user
    if (!c.quoted()) return std::nullopt;
  } else if (c.token().empty()) {
    return std::nullopt;
  }
  c.skip_spaces();
  if (!c.eat('[')) return std::nullopt;
  auto time_text = c.until(']');
  if (!time_text) return std::nullopt;
  auto t = parse_clf_time(*time_text);
  if (!t) return std::nullopt;
  r.time = *t;

  c.skip_spaces();
  auto request = c.quoted();
  if (!request) return std::nullopt;
  // Split on raw spaces before unescaping: an escaped space (\x20) belongs to its field.
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= request->size();) {
    size_t sp = request->find(' ', start);
    if (sp == std::string_view::npos) sp = request->size();
    if (sp > start) parts.push_back(request->substr(start, sp - start));
    start = sp + 1;
  }
  if (parts.size() == 1 && parts[0] == "-") parts.clear();
  if (parts.size() >= 3 && parts.back().substr(0, 5) == "HTTP/") {
    r.method = unescape(parts.front());
    r.http_version = unescape(parts.back().substr(5));
    // A garbage request line with inner spaces keeps them in the target.
    auto first = parts[1].data() - request->data();
    auto last = parts[parts.size() - 2].data() + parts[parts.size() - 2].size() - request->data();
    r.target = unescape(request->substr(first, last - first));
  } else if (parts.size() == 2) {  // HTTP/0.9 style "GET /"
    r.method = unescape(parts[0]);
    r.target = unescape(parts[1]);
  } else if (!parts.empty()) {
    r.method = unescape(*request);  // not a request line (e.g. TLS bytes on a plain port)
  }

  c.skip_spaces();
  auto status = parse_nonneg(c.token());
  if (!status || *status > 999) return std::nullopt;
  r.status = static_cast<int>(*status);
  c.skip_spaces();
  auto bytes_text = c.token();
  if (bytes_text == "-") {
    r.response_bytes = 0;
  } else {
    auto bytes = parse_nonneg(bytes_text);
    if (!bytes) return std::nullopt;
    r.response_bytes = static_cast<std::uint64_t>(*bytes);
  }

  // Combined adds "referer" "user-agent"; common stops here.
  c.skip_spaces();
  if (c.peek() == '"') {
    auto referer = c.quoted();
    if (!referer) return std::nullopt;
    r.referer = dash_empty(unescape(*referer));
    c.skip_spaces();
    if (c.peek() == '"') {
      auto ua = c.quoted();
      if (!ua) return std::nullopt;
      r.user_agent = dash_empty(unescape(*ua));
    }
  }

  // Extra fields: ours are cache= and upstream_ms=; others (nginx's rt=, "$http_x_forwarded_for",
  // ...) are skipped.
  while (true) {
    c.skip_spaces();
    if (c.done()) break;
    if (c.peek() == '"') {
      if (!c.quoted()) break;
      continue;
    }
    std::string_view field = c.token();
    if (field.substr(0, 6) == "cache=") {
      r.cache_status = dash_empty(unescape(field.substr(6)));
    } else if (field.substr(0, 12) == "upstream_ms=") {
      auto v = field.substr(12);
      if (v == "-") {
        r.upstream_ms = -1;
      } else {
        auto ms = parse_nonneg(v);
        if (!ms) return std::nullopt;
        r.upstream_ms = *ms;
      }
    }
  }
  return r;
}

}  // namespace

// "2026-11-22T04:13:04.123Z" (also without fraction, or with a +00:00 style offset).
std::optional<UnixMillis> parse_iso8601(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto year = fixed_digits(s.substr(0, 4));
  auto month = fixed_digits(s.substr(5, 2));
  auto day = fixed_digits(s.substr(8, 2));
  auto hour = fixed_digits(s.substr(11, 2));
  auto minute = fixed_digits(s.substr(14, 2));
  auto second = fixed_digits(s.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  size_t i = 19;
  unsigned ms = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::nullopt;
    std::string frac(s.substr(start, std::min<size_t>(i - start, 3)));
    frac.resize(3, '0');
    ms = *fixed_digits(frac);
  }
  std::string_view zone = s.substr(i);
  auto offset_ms = zone == "Z" || zone == "z" ? std::optional<std::int64_t>(0) : zone_offset_ms(zone);
  if (!offset_ms) return std::nullopt;
  auto local = millis_from_civil(*year, *month, *day, *hour, *minute, *second, ms);
  if (!local) return std::nullopt;
  return *local - *offset_ms;
}

namespace {

std::optional<std::int64_t> json_integer(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();  // 12.0, 1e3: whole numbers written as floats by other tools
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e18) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

// The flat objects the json format writes. Unknown members (nested objects and arrays included)
// are ignored so that a later version may add fields; a known member of the wrong type makes the
// line malformed.
std::optional<AccessRecord> parse_json(std::string_view line) {
  const auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;  // also the "discarded" value of a syntax error
  AccessRecord r;
  bool have_time = false, have_status = false;
  auto str = [](const nlohmann::json& v, std::string& out) {
    if (v.is_null()) {
      out.clear();
      return true;
    }
    if (!v.is_string()) return false;
    out = v.get<std::string>();
    return true;
  };
  auto optional_ms = [](const nlohmann::json& v, std::int64_t& out) {
    if (v.is_null()) {
      out = -1;
      return true;
    }
    auto n = json_integer(v);
    if (!n || *n < -1) return false;
    out = *n;
    return true;
  };
  auto member = [&](const std::string& name, const nlohmann::json& v) {
    if (name == "client_addr") return str(v, r.client_addr);
    if (name == "method") return str(v, r.method);
    if (name == "target") return str(v, r.target);
    if (name == "http_version") return str(v, r.http_version);
    if (name == "referer") return str(v, r.referer);
    if (name == "user_agent") return str(v, r.user_agent);
    if (name == "cache_status") return str(v, r.cache_status);
    if (name == "upstream_ms") return optional_ms(v, r.upstream_ms);
    if (name == "total_ms") return optional_ms(v, r.total_ms);
    if (name == "key") {
      if (v.is_null()) return true;
      if (!v.is_string()) return false;
      r.key = v.get<std::string>();
      return true;
    }
    if (name == "time") {
      std::optional<UnixMillis> t;
      if (v.is_string())
        t = parse_iso8601(v.get_ref<const std::string&>());
      else
        t = json_integer(v);  // epoch milliseconds
      have_time = t.has_value();
      if (t) r.time = *t;
      return have_time;
    }
    if (name == "status") {
      auto n = json_integer(v);
      if (!n || *n < 0 || *n > 999) return false;
      r.status = static_cast<int>(*n);
      have_status = true;
      return true;
    }
    if (name == "response_bytes") {
      auto n = json_integer(v);
      if (!n || *n < 0) return false;
      r.response_bytes = static_cast<std::uint64_t>(*n);
      return true;
    }
    return true;  // unknown member
  };
  for (const auto& [name, v] : doc.items()) {
    if (!member(name, v)) return std::nullopt;
  }
  if (!have_time || !have_status) return std::nullopt;
  return r;
}

}  // namespace

std::optional<AccessRecord> parse_access_log_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  std::string_view trimmed = trim_ows(line);
  if (trimmed.empty()) return std::nullopt;
  if (trimmed.front() == '{') return parse_json(trimmed);
  return parse_combined(trimmed);
}

}  // namespace cachefwd::metrics
