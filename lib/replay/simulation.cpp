#include "replay/simulation.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "base/hash.h"
#include "cache/store/eviction_policy.h"

namespace cachefwd::replay {

namespace {

// Requests of one batch, with text keys copied out of the reader's line buffer (a reader's
// text_key is valid only until its next call).
struct Batch {
  std::vector<Request> reqs;
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;

  // Fills up to `max` requests; false when the reader had nothing left.
  bool fill(TraceReader& reader, size_t max, bool unit_sizes, const ObjectSizes* sizes) {
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

// Accumulates the time spent in one simulator when a clock was given.
class Stopwatch {
 public:
  explicit Stopwatch(const SecondsClock& clock) : clock_(clock), t0_(clock ? clock() : 0) {}
  void add_to(double& seconds) const {
    if (clock_) seconds += clock_() - t0_;
  }

 private:
  const SecondsClock& clock_;
  double t0_;
};

void finish(Input& in) {
  if (auto err = in.finish(); !err.empty()) throw SimulationError(err);
}

std::unique_ptr<Input> open_checked(const OpenInput& open) {
  if (!open) throw SimulationError("no input to simulate");
  auto in = open();
  if (!in) throw SimulationError("cannot open the input");
  return in;
}

}  // namespace

std::vector<std::string> parse_policy_list(const std::string& list, bool allow_belady) {
  const auto known = cache::store::eviction_policy_names();
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    std::string p = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (p == "belady") {
      if (allow_belady) out.push_back(p);
    } else if (std::find(known.begin(), known.end(), p) != known.end()) {
      out.push_back(p);
    } else {
      std::string names;
      for (const auto& k : known) names += std::string(k) + ", ";
      throw SimulationError("unknown policy '" + p + "' (known: " + names +
                            (allow_belady ? "belady)" : "and belady for traces only)"));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

TraceSimResults simulate_trace(const TraceSimSpec& spec) {
  TraceSimResults res;
  res.name = spec.name;
  res.format = spec.format;
  res.unit_sizes = spec.unit_sizes;
  std::vector<std::string> policies;
  bool want_belady = false;
  for (const auto& p : spec.policies) {
    if (p == "belady")
      want_belady = true;
    else
      policies.push_back(p);
  }
  res.has_belady = want_belady;
  bool any_percent = false;
  for (const auto& s : spec.sizes) any_percent |= s.percent;

  // Pass 1 (only when needed): the footprint for percentage sizes, and per-object sizes for access
  // logs (the largest size logged for a URL; 304s log 0 bytes).
  const bool per_object_sizes = spec.format == TraceFormat::kApacheLog && !spec.unit_sizes;
  ObjectSizes object_sizes;
  FootprintCounter footprint;
  bool have_footprint = false;
  if (any_percent || per_object_sizes) {
    auto in = open_checked(spec.open);
    auto reader = make_trace_reader(spec.format, in->stream());
    Request r;
    while (reader->next(r)) {
      if (spec.unit_sizes) r.size = 1;
      if (per_object_sizes)
        object_sizes.observe(r);
      else
        footprint.add(r);
    }
    finish(*in);
    if (per_object_sizes) object_sizes.footprint(footprint);
    have_footprint = true;
  }

  struct Run {
    std::unique_ptr<StoreSimulator> store_sim;
    std::unique_ptr<BeladySimulator> belady;
    TraceSimRun out;
  };
  std::vector<Run> runs;
  for (const auto& size : spec.sizes) {
    const std::uint64_t bytes = size.resolve(footprint.bytes());
    for (const auto& p : policies)
      runs.push_back(Run{std::make_unique<StoreSimulator>(p, bytes), nullptr, {p, size.text, bytes, {}, 0}});
    if (want_belady)
      runs.push_back(
          Run{nullptr, std::make_unique<BeladySimulator>(bytes), {"belady", size.text, bytes, {}, 0}});
  }

  // Belady needs every request's next use: from the trace when it carries it, else from the key
  // sequence kept during pass 2 (16 bytes per request).
  const bool belady_streams = spec.format == TraceFormat::kOracleGeneral;
  const bool materialise = want_belady && !belady_streams;
  std::vector<std::uint64_t> keys, sizes;

  // Pass 2: batches through every simulator, each timed on its own.
  {
    auto in = open_checked(spec.open);
    auto reader = make_trace_reader(spec.format, in->stream());
    Batch batch;
    while (batch.fill(*reader, 1 << 16, spec.unit_sizes, per_object_sizes ? &object_sizes : nullptr)) {
      if (!have_footprint) {
        for (const auto& r : batch.reqs) footprint.add(r);
      }
      res.requests += batch.reqs.size();
      if (materialise) {
        for (const auto& r : batch.reqs) {
          keys.push_back(r.key);
          sizes.push_back(r.size);
        }
      }
      for (auto& run : runs) {
        if (run.belady && !belady_streams) continue;
        const Stopwatch watch(spec.clock);
        if (run.store_sim) {
          for (const auto& r : batch.reqs) run.store_sim->access(r);
        } else {
          for (const auto& r : batch.reqs) run.belady->access(r);
        }
        watch.add_to(run.out.seconds);
      }
    }
    finish(*in);
    res.errors = reader->errors();
    res.positions = reader->position();
    res.filtered = reader->filtered();
  }
  if (materialise) {
    const auto next = compute_next_access(keys);
    for (auto& run : runs) {
      if (!run.belady) continue;
      const Stopwatch watch(spec.clock);
      Request r;
      for (size_t i = 0; i < keys.size(); ++i) {
        r.key = keys[i];
        r.size = sizes[i];
        r.next_access = next[i];
        run.belady->access(r);
      }
      watch.add_to(run.out.seconds);
    }
  }
  res.objects = footprint.objects();
  res.footprint_bytes = footprint.bytes();
  for (auto& run : runs) {
    run.out.counters = run.store_sim ? run.store_sim->counters() : run.belady->counters();
    res.runs.push_back(std::move(run.out));
  }
  return res;
}

CaptureSimResults simulate_capture(const CaptureSimSpec& spec) {
  CaptureSimResults res;
  res.name = spec.name;
  res.format = spec.format;
  res.ttl_text = spec.ttl_text;
  bool any_percent = false;
  for (const auto& s : spec.sizes) any_percent |= s.percent;
  // Pass 1 only for percentage sizes: the footprint (distinct URLs at their largest size).
  if (any_percent) {
    std::unordered_map<std::uint64_t, std::uint64_t> max_size;
    auto in = open_checked(spec.open);
    auto reader = make_http_reader(spec.format, in->stream());
    HttpRequest r;
    while (reader->next(r)) {
      auto& m = max_size[hash64(r.url)];
      m = std::max(m, r.size);
    }
    finish(*in);
    for (const auto& [k, v] : max_size) res.footprint_bytes += v;
    res.objects = max_size.size();
    res.footprint_known = true;
  }
  struct Run {
    std::unique_ptr<HttpSimulator> sim;
    CaptureSimRun out;
  };
  std::vector<Run> runs;
  for (const auto& size : spec.sizes) {
    const auto bytes = size.resolve(res.footprint_bytes);
    for (const auto& p : spec.policies)
      runs.push_back(
          Run{std::make_unique<HttpSimulator>(p, bytes, spec.policy_config), {p, size.text, bytes, {}, 0}});
  }
  auto in = open_checked(spec.open);
  auto reader = make_http_reader(spec.format, in->stream());
  HttpRequest r;
  while (reader->next(r)) {
    ++res.requests;
    for (auto& run : runs) {
      const Stopwatch watch(spec.clock);
      run.sim->access(r);
      watch.add_to(run.out.seconds);
    }
  }
  finish(*in);
  res.errors = reader->errors();
  res.positions = reader->position();
  res.filtered = reader->filtered();
  res.document_error = reader->document_error();
  for (auto& run : runs) {
    run.out.counters = run.sim->counters();
    res.runs.push_back(std::move(run.out));
  }
  return res;
}

}  // namespace cachefwd::replay
