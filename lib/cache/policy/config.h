#pragma once
// Operator choices that change RFC 9111 decisions. Everything else in cache/policy is the RFC.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace cachefwd::cache::policy {

struct PolicyConfig {
  // cachefwd is a shared cache (RFC 9111 §1): s-maxage and proxy-revalidate apply, private and
  // Authorization responses are refused (§3, §3.5).
  bool shared = true;
  // --ttl: lifetime given to a response of a default-cacheable status with no explicit
  // freshness (0 = none). Applied before the heuristic.
  std::int64_t default_ttl_ms = 0;
  // RFC 9111 §4.2.2 heuristic from Last-Modified: 10% of (Date - Last-Modified), capped.
  bool heuristic = false;
  std::int64_t heuristic_max_ms = 86'400'000;

  // --ttl-mode: respect = the origin's lifetime wins, default_ttl only fills in; override = every
  // storable response gets default_ttl_ms whatever the origin said (no-store/private still win);
  // clamp = the origin's (or default) lifetime is clamped into [min_ttl_ms, max_ttl_ms].
  enum class TtlMode { respect, override, clamp };
  TtlMode ttl_mode = TtlMode::respect;
  std::int64_t min_ttl_ms = 0;
  std::int64_t max_ttl_ms = 0;  // 0 = no upper bound
  // --cache-status 404=30s,500=5s: statuses stored for exactly this long (negative caching),
  // separate from and usually much shorter than the TTL, so a cached outage ends quickly.
  std::map<int, std::int64_t> status_ttl_ms;
  // Methods whose responses may be stored (--cache-methods). POST is keyed on a body digest.
  std::set<std::string> cacheable_methods{"GET", "HEAD"};
  // A rule may allow storing responses that set cookies (off by default: one user's cookie must
  // never reach another user).
  bool store_set_cookie = false;
  // RFC 5861 stale-if-error given by the operator (--stale-if-error): how long past expiry a
  // stored response may be served when the upstream fails or times out. 0 = only what the
  // origin's own stale-if-error allows.
  std::int64_t stale_if_error_ms = 0;
};

// Statuses that may be stored and given default_ttl_ms / the heuristic lifetime when the response
// has no explicit freshness: 200, 203, 204, 300, 301, 308.
bool default_cacheable_status(int status) noexcept;
// The heuristically cacheable statuses of RFC 9110 §15.1 that cachefwd stores only with explicit
// freshness (negative caching stays opt-in): 404, 405, 410, 414, 501.
bool explicit_only_status(int status) noexcept;

// Parses the --cache-status value "404=30s,500=5s,502=5s" (durations as base/strings.h
// parse_duration_ms: "30s", "500ms", "2m", a bare number is seconds). Elements are separated by
// commas with optional whitespace; an empty string is an empty map. nullopt on a malformed
// element, a duplicated status, or a status that can never be stored as a whole response: outside
// 200-599, 206 (partial content, RFC 9111 §3.3) or 304 (it only freshens, §4.3.4). A TTL of 0 is
// accepted and means "never store this status", whatever the origin says.
std::optional<std::map<int, std::int64_t>> parse_status_ttls(std::string_view spec);

}  // namespace cachefwd::cache::policy
