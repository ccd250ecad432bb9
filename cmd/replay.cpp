// `cachefwd replay --simulate`: stream a request trace through the real cache store with each
// eviction policy and cache size, and print object/byte miss ratios (plus Belady's bound).
// This file only opens files, times runs and renders results; the readers and the simulator are
// lib/replay.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <istream>
#include <memory>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

#include "cache/store/eviction_policy.h"
#include "commands.h"
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

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

struct Options {
  std::string file;
  std::string format = "auto";
  std::string sizes = "10%";
  std::string policies = "lru,s3fifo,sieve,fifo,belady";
  std::string json;
  bool unit_sizes = false;
  bool quiet = false;
};

int run_simulate(const Options& o) {
  TraceFormat format;
  if (o.format == "auto") {
    auto f = cachefwd::replay::detect_trace_format(o.file);
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
  return 0;
}

}  // namespace

void register_replay(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("replay", "Replay a request trace: simulate hit ratios per eviction policy");
  sub->add_option("--simulate", opts->file,
                  "Trace file to simulate (xz-compressed files are piped through xz -dc)")
      ->required();
  sub->add_option("--format", opts->format,
                  "auto|oracle-general|scarab|cache2k|adaptsize|csv|apache (csv: timestamp,key,size[,ttl])")
      ->capture_default_str();
  sub->add_option("--cache-size", opts->sizes,
                  "Comma-separated sizes: bytes (128MiB,1GiB) or % of the trace footprint (1%,10%)")
      ->capture_default_str();
  sub->add_option("--policy", opts->policies, "Comma-separated: lru,fifo,sieve,s3fifo,s3fifo-warm,belady")
      ->capture_default_str();
  sub->add_option("--json", opts->json, "Also write the results as JSON to this file");
  sub->add_flag("--ignore-obj-size", opts->unit_sizes, "Every object has size 1: cache sizes count objects");
  sub->add_flag("--quiet", opts->quiet, "No table on stdout (with --json)");
  sub->callback([opts] {
    try {
      g_exit_code = run_simulate(*opts);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "replay: %s\n", e.what());
      g_exit_code = 1;
    }
  });
}
