#include "load/report.h"

#include "metrics/json_writer.h"
#include "report/chart.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace cachefwd::load {

namespace {

struct LatencyClass {
  const char* name;
  const Histogram* h;
};

std::vector<LatencyClass> latency_classes(const LoadResult& r) {
  return {{"all", &r.latency}, {"hits", &r.hit_latency}, {"misses", &r.miss_latency}};
}

struct Percentile {
  const char* column;
  const char* key;
  double q;
};
constexpr Percentile kPercentiles[] = {
    {"p50", "p50_ns", 50}, {"p90", "p90_ns", 90}, {"p99", "p99_ns", 99}, {"p99.9", "p999_ns", 99.9}};

std::string format_value(double v, Unit u) {
  switch (u) {
    case Unit::count:
      return fmt::format("{}", static_cast<std::uint64_t>(v));
    case Unit::rate:
      return fmt::format("{:.1f}/s", v);
    case Unit::ratio:
      return fmt::format("{:.2f}%", v * 100);
    case Unit::ns:
      return fmt::format("{:.3f} ms", v / 1e6);
    case Unit::seconds:
      return fmt::format("{:.2f} s", v);
    case Unit::bytes: {
      const double a = std::fabs(v);
      if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", v / (1024.0 * 1024 * 1024));
      if (a >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", v / (1024.0 * 1024));
      if (a >= 1024.0) return fmt::format("{:.2f} KiB", v / 1024.0);
      return fmt::format("{} B", static_cast<std::int64_t>(v));
    }
  }
  return {};
}

std::optional<double> admin_hit_ratio(const CounterSnapshot& d) {
  const auto h = d.get("hits"), m = d.get("misses");
  if (!h || !m || *h + *m <= 0) return std::nullopt;
  return *h / (*h + *m);
}

std::optional<double> bytes_per_entry_overhead(const BenchReport& r) {
  if (!r.admin_end || r.result.rss_end == 0) return std::nullopt;
  const auto entries = r.admin_end->get("entries");
  const auto bytes = r.admin_end->get("bytes");
  if (!entries || !bytes || *entries <= 0) return std::nullopt;
  const double growth = static_cast<double>(r.result.rss_end) - static_cast<double>(r.result.rss_start);
  return (growth - *bytes) / *entries;
}

}  // namespace

std::optional<double> CounterSnapshot::get(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return std::nullopt;
}

namespace {

// Depth-first in document order; nested objects (also inside arrays) are flattened to their leaf
// names and the first occurrence of a name wins (the /stats documents have the totals first).
void collect_counters(const nlohmann::ordered_json& v, CounterSnapshot& out) {
  if (v.is_array()) {
    for (const auto& e : v) collect_counters(e, out);
    return;
  }
  if (!v.is_object()) return;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->is_number() && !out.get(it.key())) {
      out.fields.emplace_back(it.key(), it->get<double>());
    } else if (it->is_structured()) {
      collect_counters(*it, out);
    }
  }
}

}  // namespace

CounterSnapshot parse_counters(const std::string& json) {
  CounterSnapshot out;
  collect_counters(nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false), out);
  return out;
}

CounterSnapshot counter_delta(const CounterSnapshot& before, const CounterSnapshot& after) {
  CounterSnapshot d;
  for (const auto& [k, v] : after.fields) d.fields.emplace_back(k, v - before.get(k).value_or(0));
  return d;
}

std::vector<ReportRow> report_rows(const BenchReport& rep) {
  const LoadResult& r = rep.result;
  std::vector<ReportRow> rows;
  auto add = [&](std::string group, std::string label, std::string path, double v, Unit u) {
    rows.push_back(ReportRow{std::move(group), std::move(label), "", std::move(path), v, u});
  };
  const double secs = r.elapsed_s;
  add("throughput", "duration", "duration_s", secs, Unit::seconds);
  add("throughput", "responses", "responses", static_cast<double>(r.responses), Unit::count);
  add("throughput", "requests sent", "sent", static_cast<double>(r.sent), Unit::count);
  add("throughput", "throughput", "throughput_rps", r.throughput(), Unit::rate);
  add("throughput", "body bytes/s", "body_bytes_per_s",
      secs > 0 ? static_cast<double>(r.body_bytes) / secs : 0, Unit::bytes);
  for (const auto& c : latency_classes(r)) {
    if (c.h->count() == 0 && std::string_view(c.name) != "all") continue;
    const std::string base = fmt::format("latency.{}.", c.name);
    rows.push_back(
        {"latency", c.name, "count", base + "count", static_cast<double>(c.h->count()), Unit::count});
    for (const auto& p : kPercentiles) {
      rows.push_back(
          {"latency", c.name, p.column, base + p.key, static_cast<double>(c.h->percentile(p.q)), Unit::ns});
    }
    rows.push_back({"latency", c.name, "max", base + "max_ns", static_cast<double>(c.h->max()), Unit::ns});
    rows.push_back({"latency", c.name, "mean", base + "mean_ns", c.h->mean(), Unit::ns});
  }
  add("cache", "hits", "cache.hits", static_cast<double>(r.hits), Unit::count);
  add("cache", "misses", "cache.misses", static_cast<double>(r.misses), Unit::count);
  add("cache", "no Cache-Status", "cache.unclassified", static_cast<double>(r.unclassified), Unit::count);
  add("cache", "hit ratio", "cache.hit_ratio", r.hit_ratio(), Unit::ratio);
  add("cache", "byte hit ratio", "cache.byte_hit_ratio", r.byte_hit_ratio(), Unit::ratio);
  add("cache", "body bytes", "cache.body_bytes", static_cast<double>(r.body_bytes), Unit::bytes);
  add("status", "2xx", "status.2xx", static_cast<double>(r.status_1xx_2xx), Unit::count);
  add("status", "3xx", "status.3xx", static_cast<double>(r.status_3xx), Unit::count);
  add("status", "4xx", "status.4xx", static_cast<double>(r.status_4xx), Unit::count);
  add("status", "5xx", "status.5xx", static_cast<double>(r.status_5xx), Unit::count);
  add("errors", "connect", "errors.connect", static_cast<double>(r.err_connect), Unit::count);
  add("errors", "timeout", "errors.timeout", static_cast<double>(r.err_timeout), Unit::count);
  add("errors", "read/write", "errors.io", static_cast<double>(r.err_io), Unit::count);
  add("errors", "bad response", "errors.parse", static_cast<double>(r.err_parse), Unit::count);
  add("errors", "reconnects", "errors.reconnects", static_cast<double>(r.reconnects), Unit::count);
  if (rep.info.rate > 0) {
    add("open model", "target rate", "open_model.rate", rep.info.rate, Unit::rate);
    add("open model", "sent late (>1ms)", "open_model.late_sends", static_cast<double>(r.late_sends),
        Unit::count);
    add("open model", "max backlog", "open_model.max_backlog", static_cast<double>(r.max_backlog),
        Unit::count);
  }
  if (r.rss_start > 0) {
    add("proxy memory", "RSS at start", "memory.rss_start_bytes", static_cast<double>(r.rss_start),
        Unit::bytes);
    add("proxy memory", "RSS at end", "memory.rss_end_bytes", static_cast<double>(r.rss_end), Unit::bytes);
    add("proxy memory", "RSS max", "memory.rss_max_bytes", static_cast<double>(r.rss_max), Unit::bytes);
    add("proxy memory", "RSS growth", "memory.rss_growth_bytes",
        static_cast<double>(r.rss_end) - static_cast<double>(r.rss_start), Unit::bytes);
    if (auto o = bytes_per_entry_overhead(rep)) {
      add("proxy memory", "overhead per entry", "memory.bytes_per_entry_overhead", *o, Unit::bytes);
    }
  }
  if (rep.admin_end) {
    if (auto e = rep.admin_end->get("entries"))
      add("proxy memory", "entries stored", "admin.end.entries", *e, Unit::count);
    if (auto b = rep.admin_end->get("bytes"))
      add("proxy memory", "bytes stored", "admin.end.bytes", *b, Unit::bytes);
  }
  if (rep.admin_delta) {
    if (auto h = rep.admin_delta->get("hits"))
      add("proxy counters", "hits", "admin.delta.hits", *h, Unit::count);
    if (auto m = rep.admin_delta->get("misses"))
      add("proxy counters", "misses", "admin.delta.misses", *m, Unit::count);
    if (auto hr = admin_hit_ratio(*rep.admin_delta))
      add("proxy counters", "hit ratio", "admin.hit_ratio", *hr, Unit::ratio);
  }
  if (rep.origin_delta) {
    const double req = rep.origin_delta->get("requests").value_or(0);
    add("origin", "requests reaching it", "origin.requests", req, Unit::count);
    add("origin", "body bytes sent", "origin.body_bytes", rep.origin_delta->get("body_bytes").value_or(0),
        Unit::bytes);
  }
  return rows;
}

std::string render_table(const BenchReport& rep) {
  const auto rows = report_rows(rep);
  std::string out;
  out += fmt::format("target    {}\nload      {} model, {} connections", rep.info.target, rep.info.model,
                     rep.info.connections);
  if (rep.info.pipeline > 1) out += fmt::format(", pipeline {}", rep.info.pipeline);
  if (rep.info.rate > 0) out += fmt::format(", {:.0f} req/s", rep.info.rate);
  if (rep.info.requests > 0) {
    out += fmt::format(", {} requests", rep.info.requests);
  } else {
    out += fmt::format(", {:.1f} s", rep.info.duration_s);
  }
  if (rep.info.warmup_s > 0) out += fmt::format(" after {:.1f} s warmup", rep.info.warmup_s);
  out += fmt::format("\nworkload  {}\n", rep.info.workload);

  std::string group;
  // latency: a matrix, one line per class
  std::map<std::string, std::vector<const ReportRow*>> lat;
  std::vector<std::string> lat_order;
  for (const auto& row : rows) {
    if (row.group != "latency") continue;
    if (!lat.count(row.label)) lat_order.push_back(row.label);
    lat[row.label].push_back(&row);
  }
  for (const auto& row : rows) {
    if (row.group == "latency") {
      if (group == "latency") continue;
      group = "latency";
      out += "\nlatency   ";
      for (const auto* r : lat[lat_order.front()]) out += fmt::format("{:>12}", r->column);
      out += "\n";
      for (const auto& cls : lat_order) {
        out += fmt::format("  {:<8}", cls);
        for (const auto* r : lat[cls]) out += fmt::format("{:>12}", format_value(r->value, r->unit));
        out += "\n";
      }
      continue;
    }
    if (row.group != group) {
      group = row.group;
      out += fmt::format("\n{}\n", group);
    }
    out += fmt::format("  {:<22}{:>16}\n", row.label, format_value(row.value, row.unit));
  }
  if (rep.result.hits + rep.result.misses == 0) {
    out += "\n(no Cache-Status or X-Cache header seen: hit ratio not measured)\n";
  }
  return out;
}

void write_bench_members(metrics::JsonWriter& w, const BenchReport& rep) {
  const LoadResult& r = rep.result;
  const BenchInfo& i = rep.info;
  w.member("target", i.target).member("model", i.model).member("connections", i.connections);
  w.member("pipeline", i.pipeline).member("workload", i.workload).member("warmup_s", i.warmup_s);
  w.member("requests_limit", i.requests);
  w.member("duration_s", r.elapsed_s).member("responses", r.responses).member("sent", r.sent);
  w.member("throughput_rps", r.throughput());
  w.member("body_bytes_per_s", r.elapsed_s > 0 ? static_cast<double>(r.body_bytes) / r.elapsed_s : 0.0);
  w.key("latency").begin_object();
  for (const auto& c : latency_classes(r)) {
    w.key(c.name).begin_object();
    w.member("count", c.h->count()).member("min_ns", c.h->min());
    for (const auto& p : kPercentiles) w.member(p.key, c.h->percentile(p.q));
    w.member("p9999_ns", c.h->percentile(99.99)).member("max_ns", c.h->max()).member("mean_ns", c.h->mean());
    w.end_object();
  }
  w.end_object();
  w.key("cache").begin_object();
  w.member("hits", r.hits).member("misses", r.misses).member("unclassified", r.unclassified);
  w.member("hit_ratio", r.hit_ratio()).member("byte_hit_ratio", r.byte_hit_ratio());
  w.member("body_bytes", r.body_bytes).member("hit_body_bytes", r.hit_body_bytes);
  w.member("miss_body_bytes", r.miss_body_bytes);
  w.end_object();
  w.key("status").begin_object();
  w.member("2xx", r.status_1xx_2xx).member("3xx", r.status_3xx).member("4xx", r.status_4xx);
  w.member("5xx", r.status_5xx);
  w.end_object();
  w.key("errors").begin_object();
  w.member("connect", r.err_connect).member("timeout", r.err_timeout).member("io", r.err_io);
  w.member("parse", r.err_parse).member("total", r.errors()).member("reconnects", r.reconnects);
  w.end_object();
  w.key("open_model").begin_object();
  w.member("rate", i.rate).member("late_sends", r.late_sends).member("max_backlog", r.max_backlog);
  w.end_object();
  w.key("memory").begin_object();
  if (r.rss_start > 0) {
    w.member("rss_start_bytes", r.rss_start)
        .member("rss_end_bytes", r.rss_end)
        .member("rss_max_bytes", r.rss_max);
    w.member("rss_growth_bytes", static_cast<double>(r.rss_end) - static_cast<double>(r.rss_start));
    if (auto ov = bytes_per_entry_overhead(rep)) w.member("bytes_per_entry_overhead", *ov);
  }
  w.end_object();
  auto snapshot = [&](const CounterSnapshot& s) {
    w.begin_object();
    for (const auto& [k, v] : s.fields) w.member(k, v);
    w.end_object();
  };
  if (rep.admin_delta || rep.admin_end) {
    w.key("admin").begin_object();
    if (rep.admin_delta) {
      w.key("delta");
      snapshot(*rep.admin_delta);
      if (auto hr = admin_hit_ratio(*rep.admin_delta)) w.member("hit_ratio", *hr);
    }
    if (rep.admin_end) {
      w.key("end");
      snapshot(*rep.admin_end);
    }
    w.end_object();
  }
  if (rep.origin_delta) {
    w.key("origin");
    snapshot(*rep.origin_delta);
  }
  w.key("series").begin_array();
  for (const Sample& s : r.series) {
    w.begin_object();
    w.member("t_s", s.t_s).member("responses", s.responses).member("hits", s.hits).member("misses", s.misses);
    w.member("errors", s.errors)
        .member("body_bytes", s.body_bytes)
        .member("hit_body_bytes", s.hit_body_bytes);
    w.member("p50_ns", s.p50_ns).member("p99_ns", s.p99_ns).member("rss_bytes", s.rss_bytes);
    w.end_object();
  }
  w.end_array();
}

std::string render_json(const BenchReport& rep) {
  metrics::JsonWriter w;
  w.begin_object();
  write_bench_members(w, rep);
  w.end_object();
  return w.take() + "\n";
}

std::string render_svg(const BenchReport& rep) {
  const LoadResult& r = rep.result;
  // Panel 1: the percentile spectrum, x = log10(1/(1-q)) so that each further nine gets as much
  // room as the first 90%.
  report::ChartPanel spectrum;
  spectrum.title = "latency by percentile: " + rep.info.target;
  spectrum.x.title = "percentile";
  spectrum.x.max = 5;
  const char* labels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
  for (int k = 0; k <= 5; ++k) spectrum.x.ticks.emplace_back(k, labels[k]);
  spectrum.y.title = "latency (ms)";
  const char* colours[] = {"#222222", "#2ca02c", "#d62728"};
  int ci = 0;
  for (const auto& c : latency_classes(r)) {
    report::ChartLine line{c.name, colours[ci++], {}, false, false};
    if (c.h->count() == 0) continue;
    for (int k = 0; k <= 250; ++k) {
      const double x = 5.0 * k / 250;
      const double q = 100.0 * (1 - std::pow(10.0, -x));
      line.points.emplace_back(x, static_cast<double>(c.h->percentile(q)) / 1e6);
    }
    spectrum.lines.push_back(std::move(line));
  }
  // Panel 2: throughput (left axis) and hit ratio (right axis) per sample interval.
  report::ChartPanel time;
  time.title = "throughput and hit ratio over time";
  time.x.title = "time since the start of measurement (s)";
  time.y.title = "throughput (req/s)";
  time.y_right.title = "hit ratio (%)";
  time.y_right.max = 100;
  time.y_right.suffix = "%";
  report::ChartLine thr{"throughput (req/s)", "#1f77b4", {}, false, false};
  report::ChartLine hit{"hit ratio (%)", "#2ca02c", {}, true, true};
  double prev_t = 0;
  for (const auto& x : r.series) {
    const double dt = std::max(1e-3, x.t_s - prev_t);
    prev_t = x.t_s;
    thr.points.emplace_back(x.t_s, static_cast<double>(x.responses) / dt);
    if (x.hits + x.misses)
      hit.points.emplace_back(x.t_s,
                              100.0 * static_cast<double>(x.hits) / static_cast<double>(x.hits + x.misses));
  }
  time.lines.push_back(std::move(thr));
  if (!hit.points.empty()) time.lines.push_back(std::move(hit));
  return report::render_chart_svg({spectrum, time});
}

}  // namespace cachefwd::load
