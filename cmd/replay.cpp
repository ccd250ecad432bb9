// `cachefwd replay`: replay a capture live through a proxy (FILE --proxy/--url/--origin), or
// simulate it offline (--simulate FILE): a request trace (sizes only) through the real cache store
// with each eviction policy and cache size (plus Belady's bound), or a HAR / access log through the
// RFC 9111 policy functions as well. This file only opens files, times runs and renders results;
// the readers and simulators are lib/replay, the live driver lib/load/replay_driver.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <unordered_map>
#include <vector>

#include <map>
#include <thread>

#include "base/hash.h"
#include "base/strings.h"
#include "cache/flow/flow.h"
#include "cache/policy/config.h"
#include "cache/store/eviction_policy.h"
#include "commands.h"
#include "load/origin.h"
#include "load/process.h"
#include "load/replay_driver.h"
#include "load/report.h"
#include "metrics/json_writer.h"
#include "replay/http_simulator.h"
#include "replay/http_trace.h"
#include "replay/mrc_plot.h"
#include "replay/simulator.h"
#include "replay/trace_reader.h"

namespace {

using cachefwd::replay::BeladySimulator;
using cachefwd::replay::CacheSizeSpec;
using cachefwd::replay::FootprintCounter;
using cachefwd::replay::Request;
using cachefwd::replay::SimCounters;
using cachefwd::replay::StoreSimulator;
using cachefwd::replay::TraceFormat;
using cachefwd::replay::TraceReader;

// Reads a decompressor's stdout. liblzma would avoid the child process, but the cmd target does
// not link it; `xz -dc` streams just as well and keeps memory flat.
class PipeBuf final : public std::streambuf {
 public:
  explicit PipeBuf(FILE* f) : f_(f) {}
  ~PipeBuf() override { close(); }
  int close() {
    if (!f_) return status_;
    status_ = pclose(f_);
    f_ = nullptr;
    return status_;
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!f_) return traits_type::eof();
    const size_t n = std::fread(buf_, 1, sizeof(buf_), f_);
    if (n == 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  FILE* f_;
  int status_ = 0;
  char buf_[1 << 16];
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// One opened input: a plain file or the output of `xz -dc`.
struct Input {
  std::unique_ptr<std::ifstream> file;
  std::unique_ptr<PipeBuf> pipe;
  std::unique_ptr<std::istream> pipe_stream;
  std::istream* stream = nullptr;

  // Returns an error message when decompression failed.
  std::string finish() {
    if (pipe && pipe->close() != 0) return "xz failed to decompress the input";
    return {};
  }
};

Input open_input(const std::string& path) {
  Input in;
  if (cachefwd::replay::path_is_xz(path)) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw std::runtime_error("cannot open " + path);
    FILE* f = popen(("xz -dc -- " + shell_quote(path)).c_str(), "r");
    if (!f) throw std::runtime_error("cannot start xz for " + path);
    in.pipe = std::make_unique<PipeBuf>(f);
    in.pipe_stream = std::make_unique<std::istream>(in.pipe.get());
    in.stream = in.pipe_stream.get();
  } else {
    in.file = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*in.file) throw std::runtime_error("cannot open " + path);
    in.stream = in.file.get();
  }
  return in;
}

// Requests of one batch, with text keys copied out of the reader's line buffer.
struct Batch {
  std::vector<Request> reqs;
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;

  // Fills up to `max` requests; false when the reader had nothing left.
  bool fill(TraceReader& reader, size_t max, bool unit_sizes, const cachefwd::replay::ObjectSizes* sizes) {
    reqs.clear();
    arena.clear();
    spans.clear();
    Request r;
    while (reqs.size() < max && reader.next(r)) {
      if (unit_sizes) r.size = 1;
      if (sizes) sizes->apply(r);
      if (!r.text_key.empty()) {
        spans.emplace_back(arena.size(), r.text_key.size());
        arena.append(r.text_key);
      } else {
        spans.emplace_back(0, 0);
      }
      reqs.push_back(r);
    }
    for (size_t i = 0; i < reqs.size(); ++i) {
      reqs[i].text_key = spans[i].second ? std::string_view(arena).substr(spans[i].first, spans[i].second)
                                         : std::string_view();
    }
    return !reqs.empty();
  }
};

struct Run {
  std::string policy;
  const CacheSizeSpec* size;
  std::uint64_t cache_bytes;
  std::unique_ptr<StoreSimulator> store_sim;
  std::unique_ptr<BeladySimulator> belady;
  double seconds = 0;
  const SimCounters& counters() const { return store_sim ? store_sim->counters() : belady->counters(); }
};

std::string human_bytes(std::uint64_t b) { return cachefwd::format_bytes(b); }

// --plot: one miss-ratio curve per policy, written as SVG.
struct MrcPlot {
  std::vector<cachefwd::replay::MrcSeries> series;
  void add(const std::string& policy, cachefwd::replay::MrcPoint point) {
    auto it = std::find_if(series.begin(), series.end(), [&](auto& x) { return x.policy == policy; });
    if (it == series.end()) it = series.insert(series.end(), {policy, {}});
    it->points.push_back(point);
  }
  bool write(const std::string& path, const std::string& input) const {
    std::ofstream out(path);
    out << cachefwd::replay::render_mrc_svg(series, "miss ratio curve: " + input);
    if (!out) std::fprintf(stderr, "replay: cannot write %s\n", path.c_str());
    return static_cast<bool>(out);
  }
};

std::string json_escape(std::string_view s) {
  // The caller writes the surrounding quotes.
  std::string out;
  cachefwd::metrics::append_json_string(out, s);
  return out.substr(1, out.size() - 2);
}

struct Options {
  std::string file;
  std::string live_file;
  std::string format = "auto";
  std::string sizes = "10%";
  bool sizes_given = false;
  std::string policies = "lru,s3fifo,sieve,fifo,belady";
  bool policies_given = false;
  std::string json;
  std::string plot;
  bool unit_sizes = false;
  bool quiet = false;
  bool strict = false;
  // HTTP semantics (HAR, logs), live and simulated.
  std::string ttl = "0";
  // Live.
  std::string proxy, url, origin;
  int connections = 1;
  double speed = 0, rate = 0;
  double timeout_s = 10;
  int top = 10;
};

// The first bytes of a file (decompressed when it is .xz), for format sniffing.
std::string read_head(const std::string& path, size_t n = 64 * 1024) {
  Input in = open_input(path);
  std::string head(n, '\0');
  in.stream->read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.stream->gcount()));
  return head;
}

// HAR or access log, by --format or, for auto, by name (.har) and then by content.
std::optional<cachefwd::replay::HttpFormat> http_format_of(const std::string& path,
                                                           const std::string& format) {
  if (format != "auto") return cachefwd::replay::parse_http_format(format);
  std::string base = path;
  for (const char* suf : {".xz", ".zst"}) {
    if (base.size() > std::strlen(suf) &&
        base.compare(base.size() - std::strlen(suf), std::string::npos, suf) == 0)
      base.resize(base.size() - std::strlen(suf));
  }
  if (base.size() > 4 && cachefwd::iequals(std::string_view(base).substr(base.size() - 4), ".har"))
    return cachefwd::replay::HttpFormat::kHar;
  return cachefwd::replay::sniff_http_format(read_head(path));
}

void report_bad(const cachefwd::replay::HttpReader& reader, bool har) {
  const auto& e = reader.errors();
  if (e.bad == 0) return;
  std::string where;
  for (auto l : e.first_bad) where += fmt::format("{}{}", where.empty() ? "" : ", ", l);
  if (!reader.document_error().empty()) {
    std::fprintf(stderr, "replay: %s\n", reader.document_error().c_str());
    return;
  }
  std::fprintf(stderr, "replay: skipped %llu malformed %s of %llu (first at %s %s)\n",
               static_cast<unsigned long long>(e.bad), har ? "entries" : "lines",
               static_cast<unsigned long long>(reader.position()), har ? "entries" : "lines", where.c_str());
}

std::optional<cachefwd::cache::policy::PolicyConfig> policy_config(const Options& o) {
  cachefwd::cache::policy::PolicyConfig cfg;
  const auto ttl = cachefwd::parse_duration_ms(o.ttl);
  if (!ttl || *ttl < 0) return std::nullopt;
  cfg.default_ttl_ms = *ttl;
  return cfg;
}

int run_http_simulate(const Options& o, cachefwd::replay::HttpFormat format);

int run_simulate(const Options& o) {
  TraceFormat format;
  if (auto hf = cachefwd::replay::parse_http_format(o.format)) return run_http_simulate(o, *hf);
  if (o.format == "auto") {
    auto f = cachefwd::replay::detect_trace_format(o.file);
    const bool har_name = o.file.find(".har") != std::string::npos;
    if (!f || har_name) {
      if (auto hf = http_format_of(o.file, "auto")) return run_http_simulate(o, *hf);
    }
    if (!f) {
      std::fprintf(stderr, "replay: cannot tell the format of %s; pass --format\n", o.file.c_str());
      return 2;
    }
    format = *f;
  } else if (auto f = cachefwd::replay::parse_trace_format(o.format)) {
    format = *f;
  } else {
    std::fprintf(stderr, "replay: unknown --format %s\n", o.format.c_str());
    return 2;
  }
  auto specs = cachefwd::replay::parse_cache_sizes(o.sizes);
  if (!specs) {
    std::fprintf(stderr, "replay: bad --cache-size %s (want e.g. 128MiB,1GiB or 1%%,10%%)\n",
                 o.sizes.c_str());
    return 2;
  }
  std::vector<std::string> policies;
  bool want_belady = false;
  {
    const auto known = cachefwd::cache::store::eviction_policy_names();
    size_t start = 0;
    for (;;) {
      const size_t comma = o.policies.find(',', start);
      std::string p =
          o.policies.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (p == "belady") {
        want_belady = true;
      } else if (std::find(known.begin(), known.end(), p) != known.end()) {
        policies.push_back(p);
      } else {
        std::fprintf(stderr,
                     "replay: unknown policy '%s' (known: lru, fifo, sieve, s3fifo, s3fifo-warm, belady)\n",
                     p.c_str());
        return 2;
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  bool any_percent = false;
  for (const auto& s : *specs) any_percent |= s.percent;

  using Clock = std::chrono::steady_clock;
  // Pass 1 (only when needed): the footprint for percentage sizes, and per-object sizes for access
  // logs (the largest size logged for a URL; 304s log 0 bytes).
  const bool per_object_sizes = format == TraceFormat::kApacheLog && !o.unit_sizes;
  cachefwd::replay::ObjectSizes object_sizes;
  FootprintCounter footprint;
  bool have_footprint = false;
  if (any_percent || per_object_sizes) {
    Input in = open_input(o.file);
    auto reader = cachefwd::replay::make_trace_reader(format, *in.stream);
    Request r;
    while (reader->next(r)) {
      if (o.unit_sizes) r.size = 1;
      if (per_object_sizes) {
        object_sizes.observe(r);
      } else {
        footprint.add(r);
      }
    }
    if (auto err = in.finish(); !err.empty()) throw std::runtime_error(err);
    if (per_object_sizes) object_sizes.footprint(footprint);
    have_footprint = true;
  }
  // Belady needs every request's next use: from the trace when it carries it, else from the key
  // sequence kept during pass 2 (16 bytes per request).
  const bool belady_streams = format == TraceFormat::kOracleGeneral;
  const bool materialise = want_belady && !belady_streams;
  std::vector<std::uint64_t> keys, sizes;
  cachefwd::replay::ReadErrors errors;
  std::uint64_t positions = 0, filtered = 0;

  std::vector<Run> runs;
  for (const auto& spec : *specs) {
    const std::uint64_t bytes = spec.resolve(footprint.bytes());
    for (const auto& p : policies) {
      runs.push_back(Run{p, &spec, bytes, std::make_unique<StoreSimulator>(p, bytes), nullptr});
    }
    if (want_belady)
      runs.push_back(Run{"belady", &spec, bytes, nullptr, std::make_unique<BeladySimulator>(bytes)});
  }

  // Pass 2: stream batches through every store simulator (and Belady when next-use is in the trace),
  // timing each simulator's share.
  {
    Input in = open_input(o.file);
    auto reader = cachefwd::replay::make_trace_reader(format, *in.stream);
    Batch batch;
    while (batch.fill(*reader, 1 << 16, o.unit_sizes, per_object_sizes ? &object_sizes : nullptr)) {
      if (!have_footprint) {
        for (const auto& r : batch.reqs) footprint.add(r);
      }
      if (materialise) {
        for (const auto& r : batch.reqs) {
          keys.push_back(r.key);
          sizes.push_back(r.size);
        }
      }
      for (auto& run : runs) {
        if (run.belady && !belady_streams) continue;
        const auto t0 = Clock::now();
        if (run.store_sim) {
          for (const auto& r : batch.reqs) run.store_sim->access(r);
        } else {
          for (const auto& r : batch.reqs) run.belady->access(r);
        }
        run.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      }
    }
    if (auto err = in.finish(); !err.empty()) throw std::runtime_error(err);
    errors = reader->errors();
    positions = reader->position();
    filtered = reader->filtered();
  }
  if (materialise) {
    const auto next = cachefwd::replay::compute_next_access(keys);
    for (auto& run : runs) {
      if (!run.belady) continue;
      const auto t0 = Clock::now();
      Request r;
      for (size_t i = 0; i < keys.size(); ++i) {
        r.key = keys[i];
        r.size = sizes[i];
        r.next_access = next[i];
        run.belady->access(r);
      }
      run.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }

  const std::uint64_t requests = runs.empty() ? 0 : runs.front().counters().requests;
  if (!o.quiet) {
    std::printf("trace %s (%s): %s requests, %s objects, footprint %s (%s B)\n", o.file.c_str(),
                std::string(cachefwd::replay::trace_format_name(format)).c_str(),
                fmt::format("{}", requests).c_str(), fmt::format("{}", footprint.objects()).c_str(),
                human_bytes(footprint.bytes()).c_str(), fmt::format("{}", footprint.bytes()).c_str());
    std::printf("%-10s %14s  %-11s %10s %10s %10s %10s %10s\n", "size", "bytes", "policy", "misses", "miss",
                "byte miss", "hit", "Mreq/s");
    for (const auto& run : runs) {
      const auto& c = run.counters();
      std::printf("%-10s %14s  %-11s %10s %10.4f %10.4f %10.4f %10.2f\n", run.size->text.c_str(),
                  fmt::format("{}", run.cache_bytes).c_str(), run.policy.c_str(),
                  fmt::format("{}", c.misses).c_str(), c.miss_ratio(), c.byte_miss_ratio(),
                  1.0 - c.miss_ratio(),
                  run.seconds > 0 ? static_cast<double>(c.requests) / run.seconds / 1e6 : 0.0);
    }
  }
  if (errors.bad != 0 && o.strict) {
    std::fprintf(stderr, "replay: %llu malformed records (--strict)\n",
                 static_cast<unsigned long long>(errors.bad));
    return 1;
  }
  if (errors.bad != 0) {
    std::string where;
    for (auto l : errors.first_bad) where += fmt::format("{}{}", where.empty() ? "" : ", ", l);
    std::fprintf(
        stderr, "replay: skipped %llu malformed %s of %llu (first: %s)\n",
        static_cast<unsigned long long>(errors.bad),
        format == TraceFormat::kCsv || format == TraceFormat::kAdaptSize || format == TraceFormat::kApacheLog
            ? "lines"
            : "records",
        static_cast<unsigned long long>(positions), where.c_str());
  }
  if (want_belady && !o.unit_sizes && !o.quiet) {
    std::printf(
        "(belady = evict the furthest next use: optimal for unit sizes only; with byte sizes a policy\n"
        " that refuses large objects, e.g. s3fifo, can miss fewer objects. --ignore-obj-size for OPT)\n");
  }
  if (filtered != 0 && !o.quiet) {
    std::printf("(%llu lines were not cache requests: other methods or statuses)\n",
                static_cast<unsigned long long>(filtered));
  }
  if (!o.json.empty()) {
    std::string j = "{\n";
    j += fmt::format("  \"trace\": \"{}\",\n  \"format\": \"{}\",\n", json_escape(o.file),
                     cachefwd::replay::trace_format_name(format));
    j += fmt::format("  \"requests\": {},\n  \"objects\": {},\n  \"footprint_bytes\": {},\n", requests,
                     footprint.objects(), footprint.bytes());
    j += fmt::format("  \"unit_sizes\": {},\n  \"filtered\": {},\n  \"bad_records\": {},\n  \"first_bad\": [",
                     o.unit_sizes, filtered, errors.bad);
    for (size_t i = 0; i < errors.first_bad.size(); ++i)
      j += fmt::format("{}{}", i ? ", " : "", errors.first_bad[i]);
    j += "],\n  \"results\": [\n";
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& run = runs[i];
      const auto& c = run.counters();
      j += fmt::format(
          "    {{\"policy\": \"{}\", \"cache_size\": \"{}\", \"cache_bytes\": {}, \"requests\": {}, "
          "\"misses\": {}, "
          "\"miss_ratio\": {:.6f}, \"bytes_requested\": {}, \"bytes_missed\": {}, \"byte_miss_ratio\": "
          "{:.6f}, "
          "\"not_admitted\": {}, \"seconds\": {:.6f}, \"requests_per_second\": {:.0f}}}{}\n",
          run.policy, json_escape(run.size->text), run.cache_bytes, c.requests, c.misses, c.miss_ratio(),
          c.bytes_requested, c.bytes_missed, c.byte_miss_ratio(), c.not_admitted, run.seconds,
          run.seconds > 0 ? static_cast<double>(c.requests) / run.seconds : 0.0,
          i + 1 < runs.size() ? "," : "");
    }
    j += "  ]\n}\n";
    std::ofstream out(o.json);
    out << j;
    if (!out) {
      std::fprintf(stderr, "replay: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  if (!o.plot.empty()) {
    MrcPlot plot;
    for (const auto& run : runs) {
      const auto& c = run.counters();
      plot.add(run.policy, {run.cache_bytes, c.miss_ratio(), o.unit_sizes ? -1.0 : c.byte_miss_ratio()});
    }
    if (!plot.write(o.plot, o.file)) return 1;
  }
  return 0;
}

// Splits a comma-separated list.
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run_http_simulate(const Options& o, cachefwd::replay::HttpFormat format) {
  using cachefwd::replay::HttpRequest;
  using cachefwd::replay::HttpSimulator;
  const bool har = format == cachefwd::replay::HttpFormat::kHar;
  const auto cfg = policy_config(o);
  if (!cfg) {
    std::fprintf(stderr, "replay: bad --ttl %s\n", o.ttl.c_str());
    return 2;
  }
  // serve's defaults (256 MiB, LRU) unless asked: the question is usually "what would my proxy do".
  const std::string size_text = o.sizes_given ? o.sizes : "256MiB";
  auto specs = cachefwd::replay::parse_cache_sizes(size_text);
  if (!specs) {
    std::fprintf(stderr, "replay: bad --cache-size %s\n", size_text.c_str());
    return 2;
  }
  std::vector<std::string> policies;
  const auto known = cachefwd::cache::store::eviction_policy_names();
  for (const auto& p : split_list(o.policies_given ? o.policies : "lru")) {
    if (p == "belady") continue;  // needs the whole future; the HTTP simulation streams
    if (std::find(known.begin(), known.end(), p) == known.end()) {
      std::fprintf(stderr, "replay: unknown policy '%s'\n", p.c_str());
      return 2;
    }
    policies.push_back(p);
  }
  // Pass 1 only for percentage sizes: the footprint (distinct URLs at their largest size).
  std::uint64_t footprint = 0, objects = 0;
  bool any_percent = false;
  for (const auto& s : *specs) any_percent |= s.percent;
  if (any_percent) {
    std::unordered_map<std::uint64_t, std::uint64_t> max_size;
    Input in = open_input(o.file);
    auto reader = cachefwd::replay::make_http_reader(format, *in.stream);
    HttpRequest r;
    while (reader->next(r)) {
      auto& m = max_size[cachefwd::hash64(r.url)];
      m = std::max(m, r.size);
    }
    for (const auto& [k, v] : max_size) footprint += v;
    objects = max_size.size();
  }
  struct HRun {
    std::string policy;
    const CacheSizeSpec* spec;
    std::uint64_t bytes;
    std::unique_ptr<HttpSimulator> sim;
    double seconds = 0;
  };
  std::vector<HRun> runs;
  for (const auto& spec : *specs) {
    for (const auto& p : policies) {
      const auto bytes = spec.resolve(footprint);
      runs.push_back(HRun{p, &spec, bytes, std::make_unique<HttpSimulator>(p, bytes, *cfg)});
    }
  }
  Input in = open_input(o.file);
  auto reader = cachefwd::replay::make_http_reader(format, *in.stream);
  HttpRequest r;
  using Clock = std::chrono::steady_clock;
  while (reader->next(r)) {
    for (auto& run : runs) {
      const auto t0 = Clock::now();
      run.sim->access(r);
      run.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    }
  }
  if (auto err = in.finish(); !err.empty()) throw std::runtime_error(err);
  report_bad(*reader, har);
  if (reader->errors().bad != 0 && o.strict) return 1;
  if (!o.quiet) {
    std::printf("capture %s (%s): %llu requests, %llu filtered, %llu malformed; --ttl %s\n", o.file.c_str(),
                std::string(cachefwd::replay::http_format_name(format)).c_str(),
                static_cast<unsigned long long>(runs.empty() ? 0 : runs[0].sim->counters().requests),
                static_cast<unsigned long long>(reader->filtered()),
                static_cast<unsigned long long>(reader->errors().bad), o.ttl.c_str());
    if (any_percent)
      std::printf("footprint %s over %llu URLs\n", human_bytes(footprint).c_str(),
                  static_cast<unsigned long long>(objects));
    std::printf("%-10s %14s  %-11s %10s %10s %10s %10s %10s %8s\n", "size", "bytes", "policy", "requests",
                "hits", "hit", "byte hit", "stale", "stored");
    for (const auto& run : runs) {
      const auto& c = run.sim->counters();
      std::printf("%-10s %14llu  %-11s %10llu %10llu %10.4f %10.4f %10llu %8llu\n", run.spec->text.c_str(),
                  static_cast<unsigned long long>(run.bytes), run.policy.c_str(),
                  static_cast<unsigned long long>(c.requests), static_cast<unsigned long long>(c.hits),
                  c.hit_ratio(), c.byte_hit_ratio(), static_cast<unsigned long long>(c.stale_misses),
                  static_cast<unsigned long long>(c.stored));
    }
    if (!runs.empty() && !runs[0].sim->counters().not_stored.empty()) {
      std::string reasons;
      for (const auto& [k, v] : runs[0].sim->counters().not_stored)
        reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", k, v);
      std::printf("not stored (first run): %s\n", reasons.c_str());
    }
  }
  if (!o.json.empty()) {
    std::string j = "{\n";
    j += fmt::format("  \"trace\": \"{}\",\n  \"format\": \"{}\",\n  \"mode\": \"http-simulate\",\n",
                     json_escape(o.file), cachefwd::replay::http_format_name(format));
    j += fmt::format("  \"ttl\": \"{}\",\n  \"filtered\": {},\n  \"bad_records\": {},\n  \"first_bad\": [",
                     json_escape(o.ttl), reader->filtered(), reader->errors().bad);
    for (size_t i = 0; i < reader->errors().first_bad.size(); ++i)
      j += fmt::format("{}{}", i ? ", " : "", reader->errors().first_bad[i]);
    j += fmt::format("],\n  \"footprint_bytes\": {},\n  \"results\": [\n", footprint);
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& c = runs[i].sim->counters();
      std::string ns;
      for (const auto& [k, v] : c.not_stored) ns += fmt::format("{}\"{}\": {}", ns.empty() ? "" : ", ", k, v);
      std::string oc;
      for (const auto& [k, v] : c.outcomes) oc += fmt::format("{}\"{}\": {}", oc.empty() ? "" : ", ", k, v);
      j += fmt::format(
          "    {{\"policy\": \"{}\", \"cache_size\": \"{}\", \"cache_bytes\": {}, \"requests\": {}, "
          "\"hits\": {}, "
          "\"misses\": {}, \"hit_ratio\": {:.6f}, \"bytes\": {}, \"hit_bytes\": {}, \"byte_hit_ratio\": "
          "{:.6f}, "
          "\"stale_misses\": {}, \"stored\": {}, \"invalidated\": {}, \"not_stored\": {{{}}}, "
          "\"outcomes\": {{{}}}, \"seconds\": {:.6f}}}{}\n",
          runs[i].policy, json_escape(runs[i].spec->text), runs[i].bytes, c.requests, c.hits, c.misses,
          c.hit_ratio(), c.bytes, c.hit_bytes, c.byte_hit_ratio(), c.stale_misses, c.stored, c.invalidated,
          ns, oc, runs[i].seconds, i + 1 < runs.size() ? "," : "");
    }
    // The first run's outcomes at the top, under the key the live replay uses for its own.
    j += "  ],\n  \"outcomes\": {";
    if (!runs.empty()) {
      bool first = true;
      for (const auto& [k, v] : runs[0].sim->counters().outcomes) {
        j += fmt::format("{}\"{}\": {}", first ? "" : ", ", k, v);
        first = false;
      }
    }
    j += "}\n}\n";
    std::ofstream out(o.json);
    out << j;
    if (!out) {
      std::fprintf(stderr, "replay: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  if (!o.plot.empty()) {
    MrcPlot plot;
    for (const auto& run : runs) {
      const auto& c = run.sim->counters();
      plot.add(run.policy, {run.bytes, 1.0 - c.hit_ratio(), 1.0 - c.byte_hit_ratio()});
    }
    if (!plot.write(o.plot, o.file)) return 1;
  }
  return 0;
}

std::string resolve_self() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

int run_live(const Options& o) {
  namespace load = cachefwd::load;
  using cachefwd::replay::HttpRequest;
  const auto format = http_format_of(o.live_file, o.format);
  if (!format) {
    std::fprintf(
        stderr,
        "replay: cannot tell the format of %s (live replay reads HAR and access logs); pass --format\n",
        o.live_file.c_str());
    return 2;
  }
  const bool har = *format == cachefwd::replay::HttpFormat::kHar;
  if (!o.proxy.empty() && !o.url.empty()) {
    std::fprintf(stderr, "replay: give --proxy or --url, not both\n");
    return 2;
  }
  if (o.speed > 0 && o.rate > 0) {
    std::fprintf(stderr, "replay: give --speed or --rate, not both\n");
    return 2;
  }
  const bool hermetic = o.proxy.empty() && o.url.empty();
  const std::string origin = o.origin.empty() && hermetic ? "embedded" : o.origin;
  if (hermetic && origin != "embedded") {
    std::fprintf(stderr,
                 "replay: without --proxy or --url the replay is hermetic: --origin must be embedded\n");
    return 2;
  }

  // Read the capture (the list is materialised: a live replay needs its order and timing).
  std::vector<HttpRequest> captured;
  std::uint64_t filtered = 0;
  {
    Input in = open_input(o.live_file);
    auto reader = cachefwd::replay::make_http_reader(*format, *in.stream);
    HttpRequest r;
    while (reader->next(r)) captured.push_back(std::move(r));
    if (auto err = in.finish(); !err.empty()) throw std::runtime_error(err);
    report_bad(*reader, har);
    if (reader->errors().bad != 0 && o.strict) return 1;
    filtered = reader->filtered();
  }

  std::unique_ptr<load::OriginThread> embedded;
  std::optional<load::HttpUrl> origin_url;
  if (origin == "embedded") {
    embedded = std::make_unique<load::OriginThread>();
    origin_url =
        load::HttpUrl{load::HostPort{"127.0.0.1", embedded->start(load::HostPort{"127.0.0.1", 0})}, "/"};
  } else if (!origin.empty()) {
    origin_url = load::parse_http_url(origin);
    if (!origin_url) {
      std::fprintf(stderr, "replay: --origin wants embedded or http://HOST:PORT, got %s\n", origin.c_str());
      return 2;
    }
  }
  std::optional<load::HttpUrl> gateway;
  if (!o.url.empty()) {
    gateway = load::parse_http_url(o.url);
    if (!gateway) {
      std::fprintf(stderr, "replay: --url wants http://HOST:PORT[/prefix], got %s\n", o.url.c_str());
      return 2;
    }
  }

  // Build the request list.
  std::vector<load::ReplayRequest> list;
  std::uint64_t skipped = 0;
  const std::int64_t t_first = captured.empty() ? 0 : captured.front().time;
  for (size_t k = 0; k < captured.size(); ++k) {
    const auto& c = captured[k];
    load::ReplayRequest rq;
    rq.method = c.method;
    rq.report_url = c.url;
    std::optional<load::HttpUrl> target;
    if (origin == "embedded") {
      auto t = cachefwd::replay::embedded_origin_target(c);
      if (!t) {
        ++skipped;
        continue;
      }
      target = load::HttpUrl{origin_url->where, *t};
    } else {
      // The path and query of the captured URL (origin-form targets are taken as they are).
      std::string pq = c.url;
      if (auto scheme = pq.find("://"); scheme != std::string::npos && pq.find('/') > scheme) {
        const auto slash = pq.find_first_of("/?", scheme + 3);
        pq = slash == std::string::npos ? "/" : pq.substr(slash);
      }
      if (pq.empty() || (pq[0] != '/')) {
        ++skipped;
        continue;
      }
      if (origin_url) {
        target = load::HttpUrl{origin_url->where, pq};
      } else if (auto u = load::parse_http_url(c.url)) {
        target = u;  // the original URL (http:// only: a forward proxy cannot see into https)
      } else if (gateway) {
        target = load::HttpUrl{gateway->where, pq};
      } else {
        ++skipped;
        continue;
      }
    }
    if (gateway) {
      // Origin-form to the gateway: its path prefix, then the target's.
      std::string prefix = gateway->target == "/" ? "" : gateway->target;
      target->target = prefix + target->target;
      target->where = gateway->where;
    }
    rq.target = *target;
    for (const auto& f : c.request_headers.fields()) {
      if (cachefwd::replay::replayed_request_field(f.name)) rq.headers.emplace_back(f.name, f.value);
    }
    if (o.speed > 0) rq.due_s = static_cast<double>(c.time - t_first) / 1000.0 / o.speed;
    if (o.rate > 0) rq.due_s = static_cast<double>(list.size()) / o.rate;
    list.push_back(std::move(rq));
  }

  load::ReplayOptions ro;
  ro.connections = std::max(1, o.connections);
  ro.paced = o.speed > 0 || o.rate > 0;
  ro.timeout_s = o.timeout_s;
  load::BenchReport rep;
  load::ChildProcess child;
  std::string serve_log;
  if (hermetic) {
    const std::uint16_t port = load::pick_free_port();
    const auto policy = split_list(o.policies_given ? o.policies : "lru").front();
    const std::string max_bytes = o.sizes_given ? split_list(o.sizes).front() : "256MiB";
    std::vector<std::string> argv{resolve_self(), "serve",  "--listen", fmt::format("127.0.0.1:{}", port),
                                  "--ttl",        o.ttl,    "--policy", policy,
                                  "--max-bytes",  max_bytes};
    serve_log = fmt::format("/tmp/cachefwd-replay-serve.{}.log", ::getpid());
    const load::HostPort where{"127.0.0.1", port};
    if (!child.start(argv, serve_log) || !load::wait_until_listening(where, 5000, &child)) {
      const std::string how = child.running() ? "not listening after 5 s" : child.describe_exit();
      child.terminate(500);
      throw std::runtime_error(fmt::format("could not start the embedded proxy ({}: {}; its output is in {})",
                                           fmt::join(argv, " "), how, serve_log));
    }
    ro.connect_to = where;
    ro.absolute_form = true;
    ro.rss_pid = child.pid();
    rep.info.target = fmt::format("embedded cachefwd serve (pid {}) on {}, embedded origin", child.pid(),
                                  where.authority());
  } else if (!o.proxy.empty()) {
    auto p = load::parse_host_port(o.proxy);
    if (!p) {
      std::fprintf(stderr, "replay: --proxy wants HOST:PORT, got %s\n", o.proxy.c_str());
      return 2;
    }
    ro.connect_to = *p;
    ro.absolute_form = true;
    rep.info.target = "forward proxy " + p->authority();
  } else {
    ro.connect_to = gateway->where;
    rep.info.target = "gateway " + gateway->where.authority();
  }
  if (origin == "embedded") rep.info.target += hermetic ? "" : ", embedded origin";

  auto res = load::run_replay(list, ro);
  if (child.pid() > 0) {
    child.terminate();
    ::unlink(serve_log.c_str());
  }
  if (embedded) embedded->stop();

  rep.info.model = o.rate > 0 ? "open" : (o.speed > 0 ? "recorded timing" : "closed");
  rep.info.connections = ro.connections;
  rep.info.rate = o.rate;
  rep.info.requests = list.size();
  rep.info.duration_s = res.load.elapsed_s;
  rep.info.workload = fmt::format("{} requests from {} ({}){}", list.size(), o.live_file,
                                  cachefwd::replay::http_format_name(*format),
                                  o.speed > 0 ? fmt::format(", speed x{}", o.speed) : std::string());
  rep.result = res.load;

  std::vector<std::pair<std::string, std::uint64_t>> top(res.missed_urls.begin(), res.missed_urls.end());
  std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > static_cast<size_t>(std::max(0, o.top)))
    top.resize(static_cast<size_t>(std::max(0, o.top)));

  if (!o.quiet) {
    std::fputs(load::render_table(rep).c_str(), stdout);
    if (skipped || filtered)
      std::printf("  (%llu captured requests not replayable here, %llu filtered by the reader)\n",
                  static_cast<unsigned long long>(skipped), static_cast<unsigned long long>(filtered));
    if (!top.empty()) {
      std::printf("top missed URLs\n");
      for (const auto& [u, n] : top)
        std::printf("  %8llu  %s\n", static_cast<unsigned long long>(n), u.c_str());
    }
  }
  if (!o.json.empty()) {
    std::string j = load::render_json(rep);
    // Append the replay section to bench's document: its figures stay where bench puts them.
    const size_t close = j.rfind('}');
    std::string extra = fmt::format(
        ",\n  \"replay\": {{\"file\": \"{}\", \"format\": \"{}\", \"requests\": {}, \"not_replayable\": {}, "
        "\"filtered\": {}, \"top_missed\": [",
        json_escape(o.live_file), cachefwd::replay::http_format_name(*format), list.size(), skipped,
        filtered);
    for (size_t i = 0; i < top.size(); ++i)
      extra += fmt::format("{}{{\"url\": \"{}\", \"misses\": {}}}", i ? ", " : "", json_escape(top[i].first),
                           top[i].second);
    // Each response's Cache-Status read back as the cache flow's outcome label: the same keys as
    // the simulation's "outcomes".
    std::map<std::string, std::uint64_t> outcomes;
    for (const auto& oc : res.outcomes) {
      if (oc.status == 0) continue;
      ++outcomes[cachefwd::cache::flow::outcome_label_from_cache_status(oc.cache_status)];
    }
    extra += "]},\n  \"outcomes\": {";
    bool first_outcome = true;
    for (const auto& [k, v] : outcomes) {
      extra += fmt::format("{}\"{}\": {}", first_outcome ? "" : ", ", k, v);
      first_outcome = false;
    }
    extra += "}\n";
    j = j.substr(0, close);
    while (!j.empty() && (j.back() == '\n' || j.back() == ' ')) j.pop_back();
    j += extra + "}\n";
    std::ofstream out(o.json);
    out << j;
    if (!out) {
      std::fprintf(stderr, "replay: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  return res.load.errors() != 0 ? 1 : 0;
}

}  // namespace

void register_replay(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("replay",
                                     "Replay a capture (HAR, access log) live through a proxy, or simulate a "
                                     "capture or cache trace offline");
  sub->add_option("file", opts->live_file,
                  "Capture to replay live (HAR or access log); without --proxy/--url the run is hermetic: an "
                  "embedded origin answers each request as recorded, through an embedded cachefwd serve");
  sub->add_option(
      "--simulate", opts->file,
      "Simulate this file offline instead: a cache trace (sizes only), or a HAR / access log with "
      "RFC 9111 semantics (xz-compressed files are piped through xz -dc)");
  sub->add_option("--format", opts->format,
                  "auto|har|log (common, combined, cachefwd combined or json)|oracle-general|scarab|cache2k|"
                  "adaptsize|csv|apache (apache and the trace formats: sizes only)")
      ->capture_default_str();
  sub->add_option(
         "--cache-size", opts->sizes,
         "Comma-separated sizes: bytes (128MiB,1GiB) or % of the footprint (1%,10%); traces default to "
         "10%, HAR/logs to 256MiB (serve's default); live: the embedded serve's --max-bytes (first)")
      ->capture_default_str();
  sub->add_option(
         "--policy", opts->policies,
         "Comma-separated: lru,fifo,sieve,s3fifo,s3fifo-warm,belady (traces; HAR/logs default lru, no "
         "belady); live: the embedded serve's --policy (first)")
      ->capture_default_str();
  sub->add_option("--ttl", opts->ttl,
                  "HAR/logs: lifetime of storable responses without their own (serve --ttl); logs record no "
                  "Cache-Control, so with 0 nothing of theirs is stored")
      ->capture_default_str();
  sub->add_option("--json", opts->json, "Also write the results as JSON to this file");
  sub->add_option("--plot", opts->plot,
                  "With --simulate: write the miss-ratio curve (miss and byte miss ratio per policy against "
                  "cache size) as SVG to this file");
  sub->add_flag("--ignore-obj-size", opts->unit_sizes, "Every object has size 1: cache sizes count objects");
  sub->add_flag("--quiet", opts->quiet, "No table on stdout (with --json)");
  sub->add_flag("--strict", opts->strict, "Malformed lines or entries are fatal (exit 1) instead of skipped");
  sub->add_option("--proxy", opts->proxy,
                  "Live: send absolute-form requests through this forward proxy HOST:PORT");
  sub->add_option("--url", opts->url, "Live: send origin-form requests to this gateway base URL");
  sub->add_option(
      "--origin", opts->origin,
      "Live: rewrite every URL to this origin: embedded (an in-process origin answering each request "
      "with the recorded status, size and Cache-Control) or http://HOST:PORT");
  sub->add_option(
         "--connections", opts->connections,
         "Live: concurrent connections, each taking the next request in capture order (1 = sequential)")
      ->capture_default_str();
  sub->add_option("--speed", opts->speed,
                  "Live: recorded timing, sped up by this factor (2 = twice as fast)");
  sub->add_option("--rate", opts->rate, "Live: requests per second, in capture order");
  sub->add_option("--timeout", opts->timeout_s, "Live: per-request timeout, seconds")->capture_default_str();
  sub->add_option("--top", opts->top, "Live: how many of the most missed URLs to list")
      ->capture_default_str();
  sub->callback([opts, sub] {
    opts->sizes_given = sub->count("--cache-size") > 0;
    opts->policies_given = sub->count("--policy") > 0;
    try {
      if (!opts->file.empty()) {
        g_exit_code = run_simulate(*opts);
      } else if (!opts->live_file.empty()) {
        g_exit_code = run_live(*opts);
      } else {
        std::fprintf(stderr, "replay: give a capture FILE to replay live, or --simulate FILE\n");
        g_exit_code = 2;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "replay: %s\n", e.what());
      g_exit_code = 1;
    }
  });
}
