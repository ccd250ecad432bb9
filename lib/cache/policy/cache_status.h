#pragma once
// Cache-Status field values (RFC 9211) for the one cache cachefwd is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachefwd::cache::policy {

inline constexpr std::string_view kCacheName = "cachefwd";

// One cache's entry in a Cache-Status list (RFC 9211 §2). Parameters are written in the RFC's
// order: hit, fwd, fwd-status, ttl, stored, collapsed, key, detail.
struct CacheStatus {
  bool hit = false;
  std::string_view fwd;  // "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale",
                         // "partial"; empty = none
  int fwd_status = 0;    // status the next hop returned; 0 = omit
  std::optional<std::int64_t> ttl;  // seconds of freshness left; negative when served stale
  bool stored = false;
  bool collapsed = false;
  std::string_view key;     // written as an sf-string when not empty
  std::string_view detail;  // written as an sf-token when it is one, else as an sf-string
};

// "cachefwd; hit; ttl=42" and the like.
std::string format_cache_status(const CacheStatus& s, std::string_view cache_name = kCacheName);

// "cachefwd; hit; ttl=42" (detail appended when not empty).
std::string cache_status_hit(std::int64_t ttl_s, std::string_view detail = {});
// "cachefwd; fwd=uri-miss; stored" / "cachefwd; fwd=miss; detail=no-store".
std::string cache_status_fwd(std::string_view fwd, bool stored, std::string_view detail = {});

}  // namespace cachefwd::cache::policy
