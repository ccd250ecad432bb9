#pragma once
// The bench report: one table for people, one JSON document with every figure of the table (and
// the per-second series), and an optional SVG plot. The table is built from report_rows(); the
// JSON is written from the structs directly, so a test can check one against the other.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "load/engine.h"
#include "metrics/json_writer.h"

namespace cachefwd::load {

struct BenchInfo {
  std::string target;  // what was measured, e.g. "proxy 127.0.0.1:3128"
  std::string model;   // "closed" or "open"
  int connections = 0;
  int pipeline = 1;
  double rate = 0;
  std::string workload;  // e.g. "1000 keys, zipf 1.0, size 1KiB"
  double duration_s = 0, warmup_s = 0;
  std::uint64_t requests = 0;  // --requests limit; 0 = none
};

// Numeric fields read from a JSON /stats endpoint (the proxy's admin API, or the origin's).
struct CounterSnapshot {
  std::vector<std::pair<std::string, double>> fields;
  std::optional<double> get(std::string_view name) const;
};

struct BenchReport {
  BenchInfo info;
  LoadResult result;
  std::optional<CounterSnapshot> origin_delta;  // embedded/known origin: what reached it
  std::optional<CounterSnapshot> admin_delta;   // proxy admin counters over the run
  std::optional<CounterSnapshot> admin_end;     // proxy admin counters at the end (entries, bytes)
};

enum class Unit { count, rate, ratio, ns, bytes, seconds };

struct ReportRow {
  std::string group;      // "throughput", "latency", "cache", "errors", ...
  std::string label;      // row label; for latency the class: "all", "hits", "misses"
  std::string column;     // latency column ("p50"), else empty
  std::string json_path;  // dotted path of the same figure in render_json()
  double value = 0;
  Unit unit = Unit::count;
};

std::vector<ReportRow> report_rows(const BenchReport& r);
std::string render_table(const BenchReport& r);
std::string render_json(const BenchReport& r);
// The members of render_json()'s object, for documents that extend bench's (live replay).
void write_bench_members(metrics::JsonWriter& w, const BenchReport& r);
// Latency percentile spectrum (all / hits / misses) and throughput + hit ratio over time.
std::string render_svg(const BenchReport& r);

// Extracts every `"name": number` pair of a JSON object (nested objects flattened to their leaf
// names; the first occurrence of a name wins). Not JSON, or not an object: no fields.
CounterSnapshot parse_counters(const std::string& json);
CounterSnapshot counter_delta(const CounterSnapshot& before, const CounterSnapshot& after);

}  // namespace cachefwd::load
