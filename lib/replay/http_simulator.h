#pragma once
// The HTTP-aware simulation: a request stream with recorded responses (HAR, access logs) drives
// cachefwd's own RFC 9111 decisions (cache/policy storability(), freshness_lifetime_ms(),
// can_serve_stored()) with each request's recorded time as `now`, over the real store and
// eviction policy. "Same core, same answers": a live replay through `cachefwd serve` with the
// embedded origin should classify the same requests as hits (tests/unit/replay checks it).
//
// Model (what the proxy does for a client that is not itself revalidating):
//  - the key is the URL; HEAD is answered from a stored GET response but a HEAD miss stores nothing
//    (there is no body to store);
//  - a stored response is a hit when can_serve_stored() says fresh or stale_allowed at age
//    now - stored_at; otherwise the request is a miss and the recorded response replaces it;
//  - a miss stores the recorded response when storability() allows it and its lifetime > 0;
//  - an unsafe method (POST, PUT, DELETE, PATCH) answered with a non-error status invalidates the
//    stored response for its URL (RFC 9111 §4.4);
//  - the recorded 304s count as 200s (replay_status()), as the live replay sends them.
// Sizes: the response body bytes; the store is charged that (plus nothing for headers), so cache
// sizes are body bytes.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/policy/config.h"
#include "cache/policy/storability.h"
#include "cache/store/store.h"
#include "http/cache_control.h"
#include "replay/http_trace.h"

namespace cachefwd::replay {

struct HttpSimCounters {
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;        // requests - hits
  std::uint64_t stale_misses = 0;  // misses on a resident but stale (or no-cache) response
  std::uint64_t bytes = 0, hit_bytes = 0;
  std::uint64_t stored = 0;                         // responses inserted
  std::uint64_t invalidated = 0;                    // by unsafe methods
  std::map<std::string, std::uint64_t> not_stored;  // reason (Cache-Status detail token) -> count

  double hit_ratio() const {
    return requests ? static_cast<double>(hits) / static_cast<double>(requests) : 0;
  }
  double byte_hit_ratio() const {
    return bytes ? static_cast<double>(hit_bytes) / static_cast<double>(bytes) : 0;
  }
};

class HttpSimulator {
 public:
  enum class Outcome { hit, miss, stale_miss };
  // Throws std::invalid_argument for an unknown eviction policy name.
  HttpSimulator(std::string_view policy, std::uint64_t cache_bytes, cache::policy::PolicyConfig cfg);
  Outcome access(const HttpRequest& r);
  const HttpSimCounters& counters() const { return c_; }

 private:
  struct Entry {
    UnixMillis stored_at = 0;
    std::int64_t lifetime_ms = 0;
    http::CacheControl cc;
  };
  cache::policy::PolicyConfig cfg_;
  cache::store::Store store_;
  // Freshness data of stored responses; an entry evicted from the store lingers here until its
  // URL is stored again (the store decides residency).
  std::unordered_map<std::string, Entry> entries_;
  HttpSimCounters c_;
};

}  // namespace cachefwd::replay
