#pragma once
// The two offline simulations behind `cachefwd replay --simulate`, each one function from a spec
// to results: simulate_trace (a sizes-only cache trace through the store with each eviction
// policy and cache size, plus Belady's bound) and simulate_capture (a HAR or access log through
// the RFC 9111 policy functions as well, see http_simulator.h). cmd/ maps flags to a spec and
// hands the results to lib/report; nothing here prints.
//
// Pure: the input is opened through the spec's `open` (the caller decides how: a file, `xz -dc`,
// a string in a test), and the per-policy throughput figures use the spec's injected clock.
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/policy/config.h"
#include "replay/http_simulator.h"
#include "replay/http_trace.h"
#include "replay/simulator.h"
#include "replay/trace_reader.h"

namespace cachefwd::replay {

// One opened input. finish() is called after the last read and returns why the input was not
// read completely (a decompressor that failed), or an empty string.
class Input {
 public:
  virtual ~Input() = default;
  virtual std::istream& stream() = 0;
  virtual std::string finish() { return {}; }
};
// Opens the input from its start; the simulations call it once per pass (up to twice).
using OpenInput = std::function<std::unique_ptr<Input>()>;
// Seconds on a monotonic clock; only differences are used. Empty: throughput is not measured.
using SecondsClock = std::function<double()>;

// A simulation that cannot run at all (unreadable input, nothing to simulate): the message is for
// the user, one line.
class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Splits "lru,s3fifo,belady" into names; throws SimulationError naming an unknown policy.
// `allow_belady` = false drops "belady" (the HTTP simulation streams and has no future to look at).
std::vector<std::string> parse_policy_list(const std::string& list, bool allow_belady);

struct TraceSimSpec {
  std::string name;  // shown in reports (a file name)
  OpenInput open;
  TraceFormat format = TraceFormat::kCsv;
  std::vector<CacheSizeSpec> sizes;
  std::vector<std::string> policies;  // eviction policy names; "belady" adds the offline bound
  bool unit_sizes = false;            // every object has size 1: sizes count objects
  SecondsClock clock;
};

struct TraceSimRun {
  std::string policy;
  std::string size_text;  // as given ("10%", "1GiB")
  std::uint64_t cache_bytes = 0;
  SimCounters counters;
  double seconds = 0;  // time spent in this simulator (0 without a clock)
};

struct TraceSimResults {
  std::string name;
  TraceFormat format = TraceFormat::kCsv;
  bool unit_sizes = false;
  bool has_belady = false;
  std::uint64_t requests = 0;
  std::uint64_t objects = 0, footprint_bytes = 0;
  std::uint64_t positions = 0;  // lines / records read, bad ones included
  std::uint64_t filtered = 0;
  ReadErrors errors;
  std::vector<TraceSimRun> runs;  // sizes in spec order, policies in spec order within each size
};

// Throws SimulationError when the input cannot be read (the decompressor failed).
TraceSimResults simulate_trace(const TraceSimSpec& spec);

struct CaptureSimSpec {
  std::string name;
  OpenInput open;
  HttpFormat format = HttpFormat::kLog;
  std::vector<CacheSizeSpec> sizes;
  std::vector<std::string> policies;  // no belady
  cache::policy::PolicyConfig policy_config;
  std::string ttl_text;  // --ttl as given, for the report
  SecondsClock clock;
};

struct CaptureSimRun {
  std::string policy;
  std::string size_text;
  std::uint64_t cache_bytes = 0;
  HttpSimCounters counters;
  double seconds = 0;
};

struct CaptureSimResults {
  std::string name;
  HttpFormat format = HttpFormat::kLog;
  std::string ttl_text;
  std::uint64_t requests = 0;
  bool footprint_known = false;  // computed only for percentage sizes
  std::uint64_t objects = 0, footprint_bytes = 0;
  std::uint64_t positions = 0, filtered = 0;
  ReadErrors errors;
  std::string document_error;  // HAR: why the document could not be read at all
  std::vector<CaptureSimRun> runs;
};

CaptureSimResults simulate_capture(const CaptureSimSpec& spec);

}  // namespace cachefwd::replay
