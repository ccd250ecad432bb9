#pragma once
// `cachefwd replay FILE`: a capture (HAR, access log) replayed live, one function from a spec to
// results. It reads the capture, rewrites each URL for where it is sent (the embedded origin, a
// given origin, the original http:// URL, or a gateway's prefix), runs the replay driver and, for
// a hermetic run, starts and stops a `cachefwd serve` child and an in-process origin around it.
// cmd/ validates flags into the spec; lib/report-style rendering of the results is render_json()
// and render_table() here, since they extend bench's report (lib/load/report.h).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "load/address.h"
#include "load/report.h"
#include "replay/http_trace.h"
#include "replay/simulation.h"

namespace cachefwd::load {

struct LiveReplaySpec {
  std::string name;  // the capture's path, for reports
  replay::OpenInput open;
  replay::HttpFormat format = replay::HttpFormat::kHar;
  // Where requests go: through a forward proxy, to a gateway's base URL, or (neither) through an
  // embedded `cachefwd serve` started from `serve_binary` with --ttl/--policy/--max-bytes.
  std::optional<HostPort> proxy;
  std::optional<HttpUrl> gateway;
  std::string serve_binary;
  std::string serve_ttl = "0", serve_policy = "lru", serve_max_bytes = "256MiB";
  // Rewrite every URL to this origin; embedded_origin: an in-process origin answering each
  // request as recorded. Neither: the captured URLs as they are (http:// only).
  bool embedded_origin = false;
  std::optional<HttpUrl> origin;
  int connections = 1;
  double speed = 0;  // recorded timing sped up by this factor (0: not paced)
  double rate = 0;   // requests per second (0: not paced)
  double timeout_s = 10;
  size_t top = 10;
  bool strict = false;  // malformed records: stop before sending anything
};

struct LiveReplayResults {
  BenchReport report;
  std::string name;
  replay::HttpFormat format = replay::HttpFormat::kHar;
  std::uint64_t captured = 0;        // well-formed requests read
  std::uint64_t requests = 0;        // sent
  std::uint64_t not_replayable = 0;  // captured but not sendable here (e.g. https without an origin)
  std::uint64_t not_replayable_https = 0;
  std::uint64_t filtered = 0;
  replay::ReadErrors errors;
  std::uint64_t positions = 0;
  std::string document_error;
  bool ran = false;  // false: stopped by --strict, or nothing to send
  std::vector<std::pair<std::string, std::uint64_t>> top_missed;
  // cache/flow outcome label -> responses: the same keys as the simulation's "outcomes".
  std::map<std::string, std::uint64_t> outcomes;
};

// Throws std::runtime_error when the embedded proxy cannot be started or the input not read.
LiveReplayResults replay_live(const LiveReplaySpec& spec);

// bench's table plus the replay's own lines.
std::string render_live_table(const LiveReplayResults& r);
// bench's JSON document with a "replay" member.
std::string render_live_json(const LiveReplayResults& r);

}  // namespace cachefwd::load
