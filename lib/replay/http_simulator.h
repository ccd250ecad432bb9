#pragma once
// The HTTP-aware simulation: a request stream with recorded responses (HAR, access logs) drives
// the proxy's own cache flow (cache/flow: lookup with Vary, freshness with Age and Date,
// revalidation, stale-while-revalidate / stale-if-error, storability, §4.4 invalidation,
// coalescing state, hit-for-miss) with each request's recorded time as `now`, over the real store
// and eviction policy. "Same core, same answers": the simulation of a capture and its live replay
// through `cachefwd serve` with the embedded origin (`replay FILE`, --speed 1) give the same
// outcome for each request (tests/unit/replay checks it on every test capture and shared HAR).
//
// What the simulated origin answers is what the embedded origin answers for the capture
// (http_trace.h embedded_origin_target): the recorded status (a 304 as a 200) and size, Date =
// now, the recorded Cache-Control and Expires (relative to Date); no validators, so a stored
// response is revalidated by a full response. The request carries the fields a live replay sends
// (replayed_request_field). The key is the proxy's key (cache/key build_key, default key policy)
// of the URL the live replay sends, which folds in the recorded status, size and freshness.
// Sizes: the store is charged what serve charges a response (head, fields, body, bookkeeping);
// bodies themselves are not kept.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "cache/flow/flow.h"
#include "cache/policy/config.h"
#include "cache/store/store.h"
#include "replay/http_trace.h"

namespace cachefwd::replay {

struct HttpSimCounters {
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;    // answered from the store without validation (hit, stale-while-revalidate)
  std::uint64_t misses = 0;  // requests - hits
  std::uint64_t stale_misses =
      0;  // a stored response needed validation (expired, revalidated, stale-if-error)
  std::uint64_t bytes = 0, hit_bytes = 0;
  std::uint64_t stored = 0;                         // responses inserted
  std::uint64_t invalidated = 0;                    // entries removed by unsafe methods
  std::uint64_t not_replayable = 0;                 // statuses the embedded origin cannot answer
  std::map<std::string, std::uint64_t> not_stored;  // reason (Cache-Status detail token) -> count
  // cache/flow outcome_label -> requests: the "outcomes" object, same keys as the live replay's.
  std::map<std::string, std::uint64_t> outcomes;

  double hit_ratio() const {
    return requests ? static_cast<double>(hits) / static_cast<double>(requests) : 0;
  }
  double byte_hit_ratio() const {
    return bytes ? static_cast<double>(hit_bytes) / static_cast<double>(bytes) : 0;
  }
};

class HttpSimulator {
 public:
  using Outcome = cache::flow::Outcome;
  // Throws std::invalid_argument for an unknown eviction policy name.
  HttpSimulator(std::string_view policy, std::uint64_t cache_bytes, cache::policy::PolicyConfig cfg);
  ~HttpSimulator();
  Outcome access(const HttpRequest& r);
  const HttpSimCounters& counters() const { return c_; }

 private:
  cache::policy::PolicyConfig cfg_;
  cache::store::Store store_;
  std::unique_ptr<cache::flow::Cache> flow_;
  cache::flow::Waiter next_id_ = 1;
  HttpSimCounters c_;
};

}  // namespace cachefwd::replay
