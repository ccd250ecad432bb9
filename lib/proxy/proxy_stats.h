#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "cache/flow/flow.h"
#include "metrics/latency_histogram.h"

namespace cachefwd::proxy {

// Counters the server keeps; rendered by the admin API (issue #4) and read by tests.
struct ProxyStats {
  std::uint64_t connections = 0;
  std::uint64_t connections_refused = 0;  // over --max-connections or --max-connections-per-client
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // went upstream although the method is cacheable
  std::uint64_t bypasses = 0;     // forwarded without a lookup: by_method + by_rule
  std::uint64_t bypass_method = 0;  // the method is not cacheable here (POST, PUT, ...)
  std::uint64_t bypass_rule = 0;    // a rule (or --no-cache) turned caching off for the route
  std::uint64_t stored = 0;
  std::uint64_t not_stored = 0;
  std::uint64_t too_large = 0;    // streamed through uncached: over --max-object-size
  std::uint64_t upstream_errors = 0;
  std::uint64_t client_errors = 0;  // 400/413/431/403 answered by the proxy
  std::uint64_t tunnels = 0;
  std::uint64_t coalesced = 0;      // requests that joined another request's fetch
  std::uint64_t revalidated = 0;    // stale entries refreshed by a 304
  std::uint64_t stale_served = 0;   // stale-while-revalidate and stale-if-error answers
  std::uint64_t purged = 0;         // entries removed by purge and invalidation
  std::uint64_t invalidations = 0;  // unsafe requests that invalidated stored responses (§4.4)
  std::uint64_t bytes_sent = 0;     // response body bytes to clients
  std::uint64_t hit_bytes = 0;      // of which served from the store
  std::uint64_t upstream_connect_errors = 0;
  std::uint64_t upstream_timeouts = 0;
  // Answered requests by the cache flow's outcome, and not-stored ones by reason: the names of
  // `replay --json`'s "outcomes".
  std::array<std::uint64_t, cache::flow::kOutcomeCount> outcomes{};
  std::array<std::uint64_t, cache::flow::kReasonCount> not_stored_by_reason{};
  // The same per service: requests a rule's upstream= routed, by the rule's name.
  std::map<std::string, std::array<std::uint64_t, cache::flow::kOutcomeCount>, std::less<>> service_outcomes;
  metrics::LatencyHistogram hit_latency;       // request complete → response handed to the socket
  metrics::LatencyHistogram upstream_latency;  // fetch started → response head received
};

}  // namespace cachefwd::proxy
