#include "cache/policy/cache_status.h"

namespace cachefwd::cache::policy {

namespace {

// RFC 8941 §3.3.4 sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" ).
bool is_sf_token(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(s[0]) && s[0] != '*') return false;
  for (char c : s) {
    bool tchar = alpha(c) || (c >= '0' && c <= '9') ||
                 std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!tchar && c != ':' && c != '/') return false;
  }
  return true;
}

// RFC 8941 §3.3.3 sf-string: printable ASCII, with '"' and '\' escaped; anything else dropped
// (the value is for humans and logs; it must not break the field).
void append_sf_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string format_cache_status(const CacheStatus& s, std::string_view cache_name) {
  std::string out(cache_name);
  if (s.hit) out += "; hit";
  if (!s.fwd.empty()) {
    out += "; fwd=";
    out += s.fwd;
  }
  if (s.fwd_status > 0) {
    out += "; fwd-status=";
    out += std::to_string(s.fwd_status);
  }
  if (s.ttl) {
    out += "; ttl=";
    out += std::to_string(*s.ttl);
  }
  if (s.stored) out += "; stored";
  if (s.collapsed) out += "; collapsed";
  if (!s.key.empty()) {
    out += "; key=";
    append_sf_string(out, s.key);
  }
  if (!s.detail.empty()) {
    out += "; detail=";
    if (is_sf_token(s.detail))
      out += s.detail;
    else
      append_sf_string(out, s.detail);
  }
  return out;
}

std::string cache_status_hit(std::int64_t ttl_s, std::string_view detail) {
  CacheStatus s;
  s.hit = true;
  s.ttl = ttl_s;
  s.detail = detail;
  return format_cache_status(s);
}

std::string cache_status_fwd(std::string_view fwd, bool stored, std::string_view detail) {
  CacheStatus s;
  s.fwd = fwd;
  s.stored = stored;
  s.detail = detail;
  return format_cache_status(s);
}

}  // namespace cachefwd::cache::policy
