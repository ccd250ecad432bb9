#include "metrics/access_log.h"

#include <algorithm>
#include <vector>

#include "base/strings.h"
#include "http/cache_status.h"
#include "http/http_date.h"
#include "metrics/json_writer.h"

// The writer half of the access log (serve); the readers are access_log_reader.cpp.
namespace cachefwd::metrics {

namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kMsPerDay = 86'400'000;

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millis;
};

Civil civil_from_millis(UnixMillis t) {
  // Floor division: times before 1970 still land on the right day and second.
  std::int64_t days = t / kMsPerDay;
  std::int64_t rem = t % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  http::CivilDate d = http::civil_from_days(days);
  auto r = static_cast<unsigned>(rem);
  return Civil{d.year, d.month, d.day, r / 3'600'000, r / 60'000 % 60, r / 1000 % 60, r % 1000};
}

void append_digits(std::string& out, std::int64_t v, int width) {
  std::string s = std::to_string(v < 0 ? -v : v);
  if (v < 0) out.push_back('-');
  for (int i = static_cast<int>(s.size()); i < width; ++i) out.push_back('0');
  out += s;
}

// nginx's escaping of log variables: "\xHH" for '"', '\\', control bytes and bytes above 0x7E
// (ngx_http_log_escape); spaces too where a space would end the field.
void append_escaped(std::string& out, std::string_view s, bool escape_space) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c < 0x20 || c > 0x7E || (escape_space && c == ' ')) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
}

void append_field(std::string& out, std::string_view s, bool escape_space) {
  if (s.empty())
    out.push_back('-');
  else
    append_escaped(out, s, escape_space);
}

// ---- combined -------------------------------------------------------------------------------

std::string format_combined(const AccessRecord& r) {
  std::string out;
  out.reserve(160 + r.target.size() + r.user_agent.size());
  append_field(out, r.client_addr, true);
  out += " - - [";
  out += format_clf_time(r.time);
  out += "] \"";
  if (r.method.empty() && r.target.empty()) {
    out.push_back('-');
  } else {
    append_escaped(out, r.method, true);
    out.push_back(' ');
    append_escaped(out, r.target, true);
    if (!r.http_version.empty()) {
      out += " HTTP/";
      append_escaped(out, r.http_version, true);
    }
  }
  out += "\" ";
  out += std::to_string(r.status);
  out.push_back(' ');
  out += std::to_string(r.response_bytes);
  out += " \"";
  append_field(out, r.referer, false);
  out += "\" \"";
  append_field(out, r.user_agent, false);
  out += "\" cache=";
  append_field(out, cache_status_token(r.cache_status), true);
  out += " upstream_ms=";
  if (r.upstream_ms < 0)
    out.push_back('-');
  else
    out += std::to_string(r.upstream_ms);
  return out;
}

// ---- json -----------------------------------------------------------------------------------

std::string format_json(const AccessRecord& r) {
  JsonWriter w;
  w.begin_object()
      .member("client_addr", r.client_addr)
      .member("time", format_iso8601_utc(r.time))
      .member("method", r.method)
      .member("target", r.target)
      .member("http_version", r.http_version)
      .member("status", r.status)
      .member("response_bytes", r.response_bytes)
      .member("referer", r.referer)
      .member("user_agent", r.user_agent)
      .member("cache_status", r.cache_status);
  w.key("upstream_ms");
  if (r.upstream_ms < 0)
    w.null();
  else
    w.value(r.upstream_ms);
  w.key("total_ms");
  if (r.total_ms < 0)
    w.null();
  else
    w.value(r.total_ms);
  if (r.key) {
    // The key's parts are joined with an internal separator byte (cache/key); a log shows spaces.
    std::string key = *r.key;
    std::replace(key.begin(), key.end(), '\x1f', ' ');
    w.member("key", key);
  }
  w.end_object();
  return w.take();
}

}  // namespace

std::string cache_status_token(std::string_view cache_status) {
  if (cache_status.empty()) return {};
  // The proxy logs its value without the cache name ("hit; ttl=3"): give it one back.
  const std::string value = cache_status.starts_with("cachefwd") ? std::string(cache_status)
                                                                 : "cachefwd; " + std::string(cache_status);
  const auto list = http::parse_cache_status(value);
  if (!list || list->empty()) return std::string(cache_status);
  const auto& e = list->back();
  std::string out;
  if (e.hit) {
    out = e.ttl && *e.ttl < 0 ? "hit-stale" : "hit";
  } else if (!e.fwd.empty()) {
    out = e.fwd == "uri-miss" ? "miss" : e.fwd;
  } else {
    return std::string(cache_status);
  }
  if (e.stored) out += "+stored";
  if (e.collapsed) out += "+collapsed";
  if (!e.detail.empty()) out += ":" + e.detail;
  return out;
}

std::optional<AccessLogFormat> parse_access_log_format(std::string_view name) {
  if (name == "combined") return AccessLogFormat::combined;
  if (name == "json") return AccessLogFormat::json;
  return std::nullopt;
}

std::string format_clf_time(UnixMillis t) {
  Civil c = civil_from_millis(t);
  std::string out;
  append_digits(out, c.day, 2);
  out.push_back('/');
  out += kMonths[c.month - 1];
  out.push_back('/');
  append_digits(out, c.year, 4);
  out.push_back(':');
  append_digits(out, c.hour, 2);
  out.push_back(':');
  append_digits(out, c.minute, 2);
  out.push_back(':');
  append_digits(out, c.second, 2);
  out += " +0000";
  return out;
}

std::string format_iso8601_utc(UnixMillis t) {
  Civil c = civil_from_millis(t);
  std::string out;
  append_digits(out, c.year, 4);
  out.push_back('-');
  append_digits(out, c.month, 2);
  out.push_back('-');
  append_digits(out, c.day, 2);
  out.push_back('T');
  append_digits(out, c.hour, 2);
  out.push_back(':');
  append_digits(out, c.minute, 2);
  out.push_back(':');
  append_digits(out, c.second, 2);
  out.push_back('.');
  append_digits(out, c.millis, 3);
  out.push_back('Z');
  return out;
}

std::string format_access_log_line(const AccessRecord& record, AccessLogFormat format) {
  return format == AccessLogFormat::json ? format_json(record) : format_combined(record);
}

}  // namespace cachefwd::metrics
