#pragma once
// Operator choices that change RFC 9111 decisions. Everything else in cache/policy is the RFC.
#include <cstdint>

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
};

// Statuses that may be stored and given default_ttl_ms / the heuristic lifetime when the response
// has no explicit freshness: 200, 203, 204, 300, 301, 308.
bool default_cacheable_status(int status) noexcept;
// The heuristically cacheable statuses of RFC 9110 §15.1 that cachefwd stores only with explicit
// freshness (negative caching stays opt-in): 404, 405, 410, 414, 501.
bool explicit_only_status(int status) noexcept;

}  // namespace cachefwd::cache::policy
