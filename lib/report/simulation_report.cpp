#include "report/simulation_report.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "metrics/json_writer.h"
#include "report/table.h"

namespace cachefwd::report {

namespace {

using Align = Table::Align;

std::string first_bad_list(const replay::ReadErrors& e) {
  std::string where;
  for (auto l : e.first_bad) where += fmt::format("{}{}", where.empty() ? "" : ", ", l);
  return where;
}

void write_errors(metrics::JsonWriter& w, const replay::ReadErrors& e) {
  w.member("bad_records", e.bad);
  w.key("first_bad").begin_array();
  for (auto l : e.first_bad) w.value(l);
  w.end_array();
}

bool text_lines(replay::TraceFormat f) {
  using F = replay::TraceFormat;
  return f == F::kCsv || f == F::kAdaptSize || f == F::kApacheLog;
}

}  // namespace

std::string render_trace_table(const replay::TraceSimResults& r) {
  std::string out = fmt::format("trace {} ({}): {} requests, {} objects, footprint {} ({} B)\n", r.name,
                                replay::trace_format_name(r.format), r.requests, r.objects,
                                format_bytes(r.footprint_bytes), r.footprint_bytes);
  Table t({{"size", Align::left},
           {"bytes"},
           {"policy", Align::left},
           {"misses"},
           {"miss"},
           {"byte miss"},
           {"hit"},
           {"Mreq/s"}});
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    t.add_row(
        {run.size_text, fmt::format("{}", run.cache_bytes), run.policy, fmt::format("{}", c.misses),
         fmt::format("{:.4f}", c.miss_ratio()), fmt::format("{:.4f}", c.byte_miss_ratio()),
         fmt::format("{:.4f}", c.requests ? 1.0 - c.miss_ratio() : 0.0),
         run.seconds > 0 ? fmt::format("{:.2f}", static_cast<double>(c.requests) / run.seconds / 1e6) : "-"});
  }
  out += t.render();
  if (r.has_belady && !r.unit_sizes) {
    out +=
        "(belady = evict the furthest next use: optimal for unit sizes only; with byte sizes a policy\n"
        " that refuses large objects, e.g. s3fifo, can miss fewer objects. --ignore-obj-size for OPT)\n";
  }
  if (r.filtered != 0)
    out += fmt::format("({} lines were not cache requests: other methods or statuses)\n", r.filtered);
  return out;
}

std::string describe_skipped(const replay::TraceSimResults& r) {
  if (r.errors.bad == 0) return {};
  return fmt::format("skipped {} malformed {} of {} (first: {})", r.errors.bad,
                     text_lines(r.format) ? "lines" : "records", r.positions, first_bad_list(r.errors));
}

std::string render_trace_json(const replay::TraceSimResults& r) {
  metrics::JsonWriter w;
  w.begin_object();
  w.member("trace", r.name).member("format", replay::trace_format_name(r.format));
  w.member("requests", r.requests).member("objects", r.objects).member("footprint_bytes", r.footprint_bytes);
  w.member("unit_sizes", r.unit_sizes).member("filtered", r.filtered);
  write_errors(w, r.errors);
  w.key("results").begin_array();
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    w.begin_object();
    w.member("policy", run.policy).member("cache_size", run.size_text).member("cache_bytes", run.cache_bytes);
    w.member("requests", c.requests).member("misses", c.misses).member("miss_ratio", c.miss_ratio());
    w.member("bytes_requested", c.bytes_requested).member("bytes_missed", c.bytes_missed);
    w.member("byte_miss_ratio", c.byte_miss_ratio()).member("not_admitted", c.not_admitted);
    w.member("seconds", run.seconds);
    w.key("requests_per_second");
    if (run.seconds > 0)
      w.value(static_cast<double>(c.requests) / run.seconds);
    else
      w.null();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take() + "\n";
}

std::vector<MrcSeries> trace_mrc_series(const replay::TraceSimResults& r) {
  std::vector<MrcSeries> out;
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    add_mrc_point(out, run.policy,
                  {run.cache_bytes, c.miss_ratio(), r.unit_sizes ? -1.0 : c.byte_miss_ratio()});
  }
  return out;
}

std::string render_capture_table(const replay::CaptureSimResults& r) {
  std::string out =
      fmt::format("capture {} ({}): {} requests, {} filtered, {} malformed; --ttl {}\n", r.name,
                  replay::http_format_name(r.format), r.requests, r.filtered, r.errors.bad, r.ttl_text);
  if (r.footprint_known)
    out += fmt::format("footprint {} over {} URLs\n", format_bytes(r.footprint_bytes), r.objects);
  Table t({{"size", Align::left},
           {"bytes"},
           {"policy", Align::left},
           {"requests"},
           {"hits"},
           {"hit"},
           {"byte hit"},
           {"stale"},
           {"stored"}});
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    t.add_row({run.size_text, fmt::format("{}", run.cache_bytes), run.policy, fmt::format("{}", c.requests),
               fmt::format("{}", c.hits), fmt::format("{:.4f}", c.hit_ratio()),
               fmt::format("{:.4f}", c.byte_hit_ratio()), fmt::format("{}", c.stale_misses),
               fmt::format("{}", c.stored)});
  }
  out += t.render();
  if (!r.runs.empty() && !r.runs[0].counters.not_stored.empty()) {
    std::string reasons;
    for (const auto& [k, v] : r.runs[0].counters.not_stored)
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", k, v);
    out += "not stored (first run): " + reasons + "\n";
  }
  return out;
}

std::string describe_skipped(const replay::CaptureSimResults& r) {
  if (!r.document_error.empty()) return r.document_error;
  if (r.errors.bad == 0) return {};
  const bool har = r.format == replay::HttpFormat::kHar;
  return fmt::format("skipped {} malformed {} of {} (first at {} {})", r.errors.bad,
                     har ? "entries" : "lines", r.positions, har ? "entries" : "lines",
                     first_bad_list(r.errors));
}

std::string render_capture_json(const replay::CaptureSimResults& r) {
  metrics::JsonWriter w;
  w.begin_object();
  w.member("trace", r.name)
      .member("format", replay::http_format_name(r.format))
      .member("mode", "http-simulate");
  w.member("ttl", r.ttl_text).member("filtered", r.filtered);
  write_errors(w, r.errors);
  w.member("footprint_bytes", r.footprint_bytes);
  w.key("results").begin_array();
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    w.begin_object();
    w.member("policy", run.policy).member("cache_size", run.size_text).member("cache_bytes", run.cache_bytes);
    w.member("requests", c.requests).member("hits", c.hits).member("misses", c.misses);
    w.member("hit_ratio", c.hit_ratio()).member("bytes", c.bytes).member("hit_bytes", c.hit_bytes);
    w.member("byte_hit_ratio", c.byte_hit_ratio()).member("stale_misses", c.stale_misses);
    w.member("stored", c.stored).member("invalidated", c.invalidated);
    w.key("not_stored").begin_object();
    for (const auto& [k, v] : c.not_stored) w.member(k, v);
    w.end_object();
    w.key("outcomes").begin_object();
    for (const auto& [k, v] : c.outcomes) w.member(k, v);
    w.end_object();
    w.member("seconds", run.seconds);
    w.end_object();
  }
  w.end_array();
  // The first run's outcomes at the top, under the key the live replay uses for its own.
  w.key("outcomes").begin_object();
  if (!r.runs.empty())
    for (const auto& [k, v] : r.runs[0].counters.outcomes) w.member(k, v);
  w.end_object();
  w.end_object();
  return w.take() + "\n";
}

std::vector<MrcSeries> capture_mrc_series(const replay::CaptureSimResults& r) {
  std::vector<MrcSeries> out;
  for (const auto& run : r.runs) {
    const auto& c = run.counters;
    add_mrc_point(out, run.policy, {run.cache_bytes, 1.0 - c.hit_ratio(), 1.0 - c.byte_hit_ratio()});
  }
  return out;
}

}  // namespace cachefwd::report
