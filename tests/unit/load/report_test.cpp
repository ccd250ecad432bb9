#include "load/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "load/bench.h"
#include "unit/load/json_paths.h"

namespace cachefwd::load {
namespace {

using testing::flatten_json;

// Every figure the table shows must be in the JSON, under the path its row names, with the same
// value; and the table must show every row's label.
void expect_json_has_every_table_figure(const BenchReport& rep, std::size_t min_rows) {
  const std::string table = render_table(rep);
  const std::string json = render_json(rep);
  const auto flat = flatten_json(json);
  ASSERT_TRUE(flat) << "JSON does not parse:\n" << json;
  const auto rows = report_rows(rep);
  EXPECT_GE(rows.size(), min_rows);
  for (const auto& row : rows) {
    EXPECT_NE(table.find(row.label), std::string::npos) << row.label;
    if (!row.column.empty()) {
      EXPECT_NE(table.find(row.column), std::string::npos) << row.column;
    }
    const auto it = flat->find(row.json_path);
    ASSERT_NE(it, flat->end()) << "table shows " << row.group << "/" << row.label << " " << row.column
                               << " but the JSON has no " << row.json_path << "\n"
                               << json;
    const double v = std::strtod(it->second.c_str(), nullptr);
    EXPECT_NEAR(v, row.value, std::fabs(row.value) * 1e-12) << row.json_path;
  }
}

BenchReport synthetic_report() {
  BenchReport rep;
  rep.info = BenchInfo{"forward proxy 127.0.0.1:3128", "open", 64, 2, 5000, "1000 keys", 10, 1};
  LoadResult& r = rep.result;
  r.elapsed_s = 10.0;
  for (std::uint64_t i = 1; i <= 900; ++i) {
    r.latency.record(i * 1000);
    r.hit_latency.record(i * 1000);
  }
  for (std::uint64_t i = 1; i <= 100; ++i) {
    r.latency.record(i * 100'000);
    r.miss_latency.record(i * 100'000);
  }
  r.responses = 1000;
  r.sent = 1003;
  r.hits = 900;
  r.misses = 100;
  r.hit_body_bytes = 900 * 1024;
  r.miss_body_bytes = 100 * 4096;
  r.body_bytes = r.hit_body_bytes + r.miss_body_bytes;
  r.status_1xx_2xx = 990;
  r.status_3xx = 1;
  r.status_4xx = 2;
  r.status_5xx = 7;
  r.err_connect = 1;
  r.err_timeout = 2;
  r.err_io = 3;
  r.err_parse = 4;
  r.reconnects = 5;
  r.late_sends = 6;
  r.max_backlog = 8;
  r.rss_start = 10 << 20;
  r.rss_end = 30 << 20;
  r.rss_max = 31 << 20;
  r.series.push_back(Sample{1.0, 100, 90, 10, 0, 1000, 900, 5000, 90000, 20 << 20});
  rep.admin_delta = parse_counters(R"({"hits": 900, "misses": 100, "stores": 100})");
  rep.admin_end = parse_counters(R"({"cache": {"entries": 1000, "bytes": 1048576}})");
  rep.origin_delta = parse_counters(R"({"requests":100,"body_bytes":409600})");
  return rep;
}

TEST(Report, JsonHasEveryFigureTheTableShows) {
  const auto rep = synthetic_report();
  expect_json_has_every_table_figure(rep, 50);
  // The rows derived from other figures are computed, not copied: check their arithmetic.
  const auto flat = *flatten_json(render_json(rep));
  EXPECT_DOUBLE_EQ(std::stod(flat.at("cache.hit_ratio")), 0.9);
  EXPECT_DOUBLE_EQ(std::stod(flat.at("cache.byte_hit_ratio")), 900.0 * 1024 / (900.0 * 1024 + 100.0 * 4096));
  EXPECT_DOUBLE_EQ(std::stod(flat.at("throughput_rps")), 100.0);
  EXPECT_DOUBLE_EQ(std::stod(flat.at("admin.hit_ratio")), 0.9);
  // (RSS growth 20 MiB - 1 MiB stored) / 1000 entries
  EXPECT_DOUBLE_EQ(std::stod(flat.at("memory.bytes_per_entry_overhead")), (20.0 * 1048576 - 1048576) / 1000);
  EXPECT_EQ(flat.at("errors.total"), "10");
  EXPECT_EQ(flat.at("series.0.rss_bytes"), std::to_string(20 << 20));
  // p99 of all: rank 990 of 1000 is the 90th miss, 9 ms.
  EXPECT_NEAR(std::stod(flat.at("latency.all.p99_ns")), 9'000'000, 9'000'000 / 256.0);
}

TEST(Report, RendersWithNothingMeasured) {
  BenchReport rep;
  rep.info.model = "closed";
  expect_json_has_every_table_figure(rep, 10);
  EXPECT_NE(render_table(rep).find("hit ratio not measured"), std::string::npos);
  const std::string svg = render_svg(rep);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(Report, ParseCountersFindsNestedNumbers) {
  const auto s =
      parse_counters(R"({"a": 1, "n": {"hits": 2.5, "name": "x", "neg": -3}, "list": [1,2], "hits": 9})");
  EXPECT_EQ(s.get("a"), 1.0);
  EXPECT_EQ(s.get("hits"), 2.5);  // first occurrence wins
  EXPECT_EQ(s.get("neg"), -3.0);
  EXPECT_FALSE(s.get("name"));
  const auto d = counter_delta(parse_counters(R"({"hits": 10, "misses": 4})"),
                               parse_counters(R"({"hits": 25, "misses": 5, "new": 1})"));
  EXPECT_EQ(d.get("hits"), 15.0);
  EXPECT_EQ(d.get("misses"), 1.0);
  EXPECT_EQ(d.get("new"), 1.0);
}

// A real run of the bench path (embedded origin, open model, this process's RSS), checked the same
// way, plus the origin's own count of what reached it.
TEST(Report, RealRunJsonHasEveryFigureTheTableShows) {
  BenchConfig cfg;
  cfg.direct = true;
  cfg.keys_given = true;
  cfg.workload.keys = 50;
  cfg.workload.zipf = 1.0;
  cfg.workload.no_store_fraction = 0.2;
  cfg.workload.error_fraction = 0.1;
  cfg.load.rate = 1000;
  cfg.load.connections = 4;
  cfg.load.duration_s = 1.5;
  cfg.load.warmup_s = 0.2;
  cfg.proxy_pid = ::getpid();
  const BenchReport rep = run_bench(cfg);
  EXPECT_NEAR(rep.result.throughput(), 1000, 50);
  EXPECT_GT(rep.result.status_5xx, 0u);
  ASSERT_TRUE(rep.origin_delta);
  // Counters snapshot at measurement start; requests in flight at either end may differ by a few.
  EXPECT_NEAR(rep.origin_delta->get("requests").value_or(0), static_cast<double>(rep.result.responses), 10);
  EXPECT_GT(rep.result.rss_start, 0u);
  expect_json_has_every_table_figure(rep, 30);
  EXPECT_NE(render_table(rep).find("embedded origin"), std::string::npos);
}

}  // namespace
}  // namespace cachefwd::load
