// The replay --simulate report: the JSON carries the table's figures and parses; the table's
// columns line up.
#include "report/simulation_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "report/table.h"

namespace cachefwd::report {
namespace {

replay::TraceSimResults sample() {
  replay::TraceSimResults r;
  r.name = "dir/trace \"1\".csv";
  r.format = replay::TraceFormat::kCsv;
  r.requests = 1000;
  r.objects = 10;
  r.footprint_bytes = 4096;
  r.errors.add(7);
  for (const char* p : {"lru", "s3fifo"}) {
    replay::TraceSimRun run;
    run.policy = p;
    run.size_text = "10%";
    run.cache_bytes = 409;
    run.counters.requests = 1000;
    run.counters.misses = std::string(p) == "lru" ? 400 : 300;
    run.counters.bytes_requested = 10000;
    run.counters.bytes_missed = 5000;
    run.seconds = 0.5;
    r.runs.push_back(run);
  }
  return r;
}

TEST(SimulationReport, TraceJsonHasTheTablesFigures) {
  const auto r = sample();
  const auto doc = nlohmann::json::parse(render_trace_json(r));
  EXPECT_EQ(doc["trace"], r.name);
  EXPECT_EQ(doc["requests"], 1000);
  EXPECT_EQ(doc["bad_records"], 1);
  EXPECT_EQ(doc["first_bad"][0], 7);
  ASSERT_EQ(doc["results"].size(), 2u);
  EXPECT_EQ(doc["results"][1]["policy"], "s3fifo");
  EXPECT_DOUBLE_EQ(doc["results"][1]["miss_ratio"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(doc["results"][1]["requests_per_second"].get<double>(), 2000);
  const std::string table = render_trace_table(r);
  EXPECT_NE(table.find("0.3000"), std::string::npos) << table;
  EXPECT_NE(table.find("0.4000"), std::string::npos) << table;
}

TEST(SimulationReport, EmptyRunsNeverShowAHitRatioOfOne) {
  auto r = sample();
  for (auto& run : r.runs) run.counters = {};
  const std::string table = render_trace_table(r);
  EXPECT_EQ(table.find("1.0000"), std::string::npos) << table;
}

TEST(Table, ColumnsLineUpAndNumbersAlignRight) {
  Table t({{"size", Table::Align::left}, {"misses"}});
  t.add_row({"10%", "5"});
  t.add_row({"1GiB", "12345"});
  EXPECT_EQ(t.render(), "size  misses\n10%        5\n1GiB   12345\n");
}

}  // namespace
}  // namespace cachefwd::report
