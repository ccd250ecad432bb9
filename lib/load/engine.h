#pragma once
// The load engine: keep-alive HTTP/1.1 connections on one libuv loop, a closed model (each
// connection keeps `pipeline` requests in flight, as fast as the target answers) or an open model
// (requests are due at start + k/rate whatever the target does; latency counts from that intended
// time, as wrk2 does, so a stalled target cannot hide behind requests that were never sent:
// no coordinated omission).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "load/address.h"
#include "load/histogram.h"
#include "load/workload.h"

namespace cachefwd::load {

struct LoadOptions {
  HostPort connect_to;
  bool absolute_form = false;  // through a forward proxy
  int connections = 64;
  int pipeline = 1;
  double rate = 0;  // requests/s; 0 = closed model
  double duration_s = 10;
  double warmup_s = 0;
  std::uint64_t requests = 0;  // stop after this many measured requests; 0 = no limit
  double timeout_s = 10;
  double head_fraction = 0;
  std::uint64_t seed = 1;
  int rss_pid = 0;         // sample /proc/<pid>/status VmRSS every second; 0 = none
  bool progress = false;   // a live line on stdout, once a second
  double sample_s = 0.25;  // length of one Sample of the series (the plot's time resolution)
  // Called on the load loop when measurement starts (after the warmup): where bench snapshots the
  // proxy's and origin's counters, so their deltas cover the same requests as the report.
  std::function<void()> on_measure_start;
};

// One sample interval (LoadOptions::sample_s) of the measured run.
struct Sample {
  double t_s = 0;  // end of the interval, from the start of measurement
  std::uint64_t responses = 0, hits = 0, misses = 0, errors = 0;
  std::uint64_t body_bytes = 0, hit_body_bytes = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0;
  std::uint64_t rss_bytes = 0;  // 0 when not sampled
};

struct LoadResult {
  double elapsed_s = 0;  // measured window
  std::uint64_t responses = 0;
  Histogram latency, hit_latency, miss_latency;
  // Classified from Cache-Status (RFC 9211) or X-Cache: "hit" anywhere in it is a hit, any other
  // value a miss; responses with neither are `unclassified`.
  std::uint64_t hits = 0, misses = 0, unclassified = 0;
  std::uint64_t body_bytes = 0, hit_body_bytes = 0, miss_body_bytes = 0;
  std::uint64_t status_1xx_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0;
  std::uint64_t err_connect = 0, err_timeout = 0, err_io = 0, err_parse = 0;
  std::uint64_t sent = 0;
  std::uint64_t late_sends = 0;   // open model: sent more than 1 ms after the intended time
  std::uint64_t max_backlog = 0;  // open model: most requests waiting for a free connection
  std::uint64_t reconnects = 0;
  std::vector<Sample> series;
  std::uint64_t rss_start = 0, rss_end = 0, rss_max = 0;

  std::uint64_t errors() const { return err_connect + err_timeout + err_io + err_parse; }
  double throughput() const { return elapsed_s > 0 ? static_cast<double>(responses) / elapsed_s : 0; }
  double hit_ratio() const {
    return hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0;
  }
  double byte_hit_ratio() const {
    const auto b = hit_body_bytes + miss_body_bytes;
    return b ? static_cast<double>(hit_body_bytes) / static_cast<double>(b) : 0;
  }
};

// Resident set size of a process from /proc/<pid>/status (VmRSS), in bytes; 0 if unreadable.
std::uint64_t read_rss_bytes(int pid);

// Runs the load to completion on a private loop (blocking). Throws std::runtime_error on bad
// options.
LoadResult run_load(const Workload& workload, const LoadOptions& opts);

}  // namespace cachefwd::load
