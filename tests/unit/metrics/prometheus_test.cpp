// Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
// "# HELP name docstring" (backslash and line feed escaped), "# TYPE name type", samples
// `name{label="value",...} value`, label values escaping backslash, double quote and line feed,
// histograms as cumulative _bucket{le=...} series ending in le="+Inf", then _sum and _count, and
// every line, the last included, ending in '\n'.
#include "metrics/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace cachefwd::metrics {
namespace {

TEST(Prometheus, SmallRegistryExactOutput) {
  PrometheusWriter w;
  w.counter("cachefwd_requests_total", "Requests received.", 1027);
  w.family("cachefwd_bypass_total", MetricType::counter, "Requests that bypassed the cache, by reason.");
  w.sample("cachefwd_bypass_total", {{"reason", "method"}}, 3);
  w.sample("cachefwd_bypass_total", {{"reason", "no-store"}}, 0);
  w.gauge("cachefwd_hit_ratio", "Object hit ratio.", 0.25);
  w.family("cachefwd_stored_bytes", MetricType::gauge, "");
  w.sample("cachefwd_stored_bytes", {{"rule", "api"}, {"partition", "shared"}}, 4096);
  w.family("cachefwd_hit_latency_seconds", MetricType::histogram, "Time to answer a hit.");
  const std::vector<double> bounds{0.1, 0.5, 1};
  const std::vector<std::uint64_t> counts{2, 1, 0, 1};
  w.histogram("cachefwd_hit_latency_seconds", {{"rule", "api"}}, bounds, counts, 3.25);
  w.histogram("cachefwd_hit_latency_seconds", {}, bounds, std::vector<std::uint64_t>{0, 0, 0, 0}, 0);

  EXPECT_EQ(w.str(),
            "# HELP cachefwd_requests_total Requests received.\n"
            "# TYPE cachefwd_requests_total counter\n"
            "cachefwd_requests_total 1027\n"
            "# HELP cachefwd_bypass_total Requests that bypassed the cache, by reason.\n"
            "# TYPE cachefwd_bypass_total counter\n"
            "cachefwd_bypass_total{reason=\"method\"} 3\n"
            "cachefwd_bypass_total{reason=\"no-store\"} 0\n"
            "# HELP cachefwd_hit_ratio Object hit ratio.\n"
            "# TYPE cachefwd_hit_ratio gauge\n"
            "cachefwd_hit_ratio 0.25\n"
            "# TYPE cachefwd_stored_bytes gauge\n"
            "cachefwd_stored_bytes{rule=\"api\",partition=\"shared\"} 4096\n"
            "# HELP cachefwd_hit_latency_seconds Time to answer a hit.\n"
            "# TYPE cachefwd_hit_latency_seconds histogram\n"
            "cachefwd_hit_latency_seconds_bucket{rule=\"api\",le=\"0.1\"} 2\n"
            "cachefwd_hit_latency_seconds_bucket{rule=\"api\",le=\"0.5\"} 3\n"
            "cachefwd_hit_latency_seconds_bucket{rule=\"api\",le=\"1\"} 3\n"
            "cachefwd_hit_latency_seconds_bucket{rule=\"api\",le=\"+Inf\"} 4\n"
            "cachefwd_hit_latency_seconds_sum{rule=\"api\"} 3.25\n"
            "cachefwd_hit_latency_seconds_count{rule=\"api\"} 4\n"
            "cachefwd_hit_latency_seconds_bucket{le=\"0.1\"} 0\n"
            "cachefwd_hit_latency_seconds_bucket{le=\"0.5\"} 0\n"
            "cachefwd_hit_latency_seconds_bucket{le=\"1\"} 0\n"
            "cachefwd_hit_latency_seconds_bucket{le=\"+Inf\"} 0\n"
            "cachefwd_hit_latency_seconds_sum 0\n"
            "cachefwd_hit_latency_seconds_count 0\n");
}

TEST(Prometheus, LabelValuesEscapeBackslashQuoteAndLineFed) {
  PrometheusWriter w;
  w.family("x", MetricType::untyped, "");
  w.sample("x", {{"path", "C:\\dir \"quoted\"\nnext"}, {"tab", "a\tb"}}, 1);
  EXPECT_EQ(w.str(),
            "# TYPE x untyped\n"
            "x{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\",tab=\"a\tb\"} 1\n");
}

TEST(Prometheus, HelpEscapesBackslashAndLineFeedButNotQuotes) {
  PrometheusWriter w;
  w.family("y", MetricType::gauge, "a \\ b\n\"c\"");
  EXPECT_EQ(w.str(), "# HELP y a \\\\ b\\n\"c\"\n# TYPE y gauge\n");
}

TEST(Prometheus, ValuesUseGoFloatSpelling) {
  auto fmt = [](double v) {
    std::string s;
    append_sample_value(s, v);
    return s;
  };
  EXPECT_EQ(fmt(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(fmt(std::nan("")), "NaN");
  EXPECT_EQ(fmt(1.5), "1.5");
  EXPECT_EQ(fmt(0), "0");
  EXPECT_EQ(fmt(-0.001), "-0.001");
  EXPECT_EQ(fmt(0.0005), "0.0005");  // as Go's FormatFloat 'g' writes it (not "5e-04")
  EXPECT_EQ(fmt(0.00005), "5e-05");
  EXPECT_EQ(fmt(60), "60");
  EXPECT_EQ(fmt(1048576), "1048576");
  EXPECT_EQ(fmt(1e21), "1e+21");
  EXPECT_EQ(fmt(0.1 + 0.2), "0.30000000000000004");  // round-trips exactly

  PrometheusWriter w;
  w.family("big", MetricType::counter, "");
  w.sample("big", {}, std::numeric_limits<std::uint64_t>::max());  // exact, not 1.8e19
  w.family("neg", MetricType::gauge, "");
  w.sample("neg", {}, -42);
  EXPECT_EQ(w.str(), "# TYPE big counter\nbig 18446744073709551615\n# TYPE neg gauge\nneg -42\n");
}

TEST(Prometheus, Names) {
  EXPECT_TRUE(valid_metric_name("cachefwd_requests_total"));
  EXPECT_TRUE(valid_metric_name("ns:rule:rate5m"));
  EXPECT_TRUE(valid_metric_name("_x9"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("has-dash"));
  EXPECT_FALSE(valid_metric_name("has space"));
  EXPECT_TRUE(valid_label_name("rule"));
  EXPECT_TRUE(valid_label_name("_private"));
  EXPECT_FALSE(valid_label_name("__name__"));  // reserved
  EXPECT_FALSE(valid_label_name("a:b"));       // colons only in metric names
  EXPECT_FALSE(valid_label_name("1a"));
  EXPECT_FALSE(valid_label_name(""));
}

TEST(Prometheus, MisuseThatAScraperWouldRejectThrows) {
  {
    PrometheusWriter w;
    EXPECT_THROW(w.family("bad-name", MetricType::counter, ""), std::invalid_argument);
  }
  {
    PrometheusWriter w;
    w.counter("a_total", "", 1);
    EXPECT_THROW(w.counter("a_total", "", 2), std::invalid_argument);  // family declared twice
  }
  {
    PrometheusWriter w;
    EXPECT_THROW(w.sample("orphan", {}, 1), std::invalid_argument);  // no family
    w.family("a", MetricType::gauge, "");
    w.family("b", MetricType::gauge, "");
    EXPECT_THROW(w.sample("a", {}, 1), std::invalid_argument);  // samples of a family stay together
    EXPECT_THROW(w.sample("b", {{"bad-label", "x"}}, 1), std::invalid_argument);
  }
  {
    PrometheusWriter w;
    w.family("h_seconds", MetricType::histogram, "");
    const std::vector<double> bounds{1, 1};
    const std::vector<std::uint64_t> counts{0, 0, 0};
    EXPECT_THROW(w.histogram("h_seconds", {}, bounds, counts, 0), std::invalid_argument);  // not increasing
    const std::vector<double> ok{1, 2};
    EXPECT_THROW(w.histogram("h_seconds", {}, ok, std::vector<std::uint64_t>{0, 0}, 0),
                 std::invalid_argument);  // missing +Inf count
    EXPECT_THROW(w.histogram("h_seconds", {{"le", "x"}}, ok, counts, 0), std::invalid_argument);
    EXPECT_THROW(w.sample("h_seconds", {}, 1), std::invalid_argument);  // plain sample in a histogram
  }
  {
    PrometheusWriter w;
    w.family("g", MetricType::gauge, "");
    const std::vector<double> ok{1};
    EXPECT_THROW(w.histogram("g", {}, ok, std::vector<std::uint64_t>{0, 0}, 0), std::invalid_argument);
  }
}

TEST(Prometheus, LabelsFromAVector) {
  std::vector<Label> labels{{"a", "1"}, {"b", "2"}};
  PrometheusWriter w;
  w.family("v", MetricType::gauge, "");
  w.sample("v", labels, 0.5);
  EXPECT_EQ(w.str(), "# TYPE v gauge\nv{a=\"1\",b=\"2\"} 0.5\n");
  EXPECT_EQ(w.take().back(), '\n');
}

}  // namespace
}  // namespace cachefwd::metrics
