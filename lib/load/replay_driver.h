#pragma once
// The live half of `cachefwd replay`: sends a fixed, ordered list of requests (a capture) to a
// proxy or gateway and classifies each response by Cache-Status. lib/load's engine draws requests
// from a popularity law, not a fixed sequence, so replay has its own driver: `connections`
// threads, each with one blocking keep-alive connection, taking the next request of the list in
// order. With one connection the requests are strictly sequential (what the hit-count tests
// need). Paced runs send request k at start + due_s[k]; latency then counts from that intended
// time, so a slow target is not hidden by late sends (no coordinated omission, as the engine).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load/address.h"
#include "load/engine.h"

namespace cachefwd::load {

struct ReplayRequest {
  std::string method;
  std::string report_url;                                    // the URL as captured, for the top-missed list
  HttpUrl target;                                            // where it goes (rewritten or original)
  std::vector<std::pair<std::string, std::string>> headers;  // extra request fields to send
  double due_s = 0;                                          // offset from the start (paced runs)
};

struct ReplayOptions {
  HostPort connect_to;
  bool absolute_form = false;  // through a forward proxy
  int connections = 1;
  bool paced = false;  // honour due_s
  double timeout_s = 10;
  int rss_pid = 0;  // sample the proxy's VmRSS at the start and end
};

struct ReplayOutcome {
  int status = 0;    // 0: transport error
  bool hit = false;  // Cache-Status / X-Cache said hit
  bool classified = false;
  std::string cache_status;  // the Cache-Status field as received (empty without one)
  std::uint64_t body_bytes = 0;
};

struct ReplayResult {
  LoadResult load;                                   // the figures bench reports
  std::vector<ReplayOutcome> outcomes;               // per request, in list order
  std::map<std::string, std::uint64_t> missed_urls;  // report_url -> misses
};

// Blocking; throws std::runtime_error when the target host does not resolve.
ReplayResult run_replay(const std::vector<ReplayRequest>& requests, const ReplayOptions& opts);

}  // namespace cachefwd::load
