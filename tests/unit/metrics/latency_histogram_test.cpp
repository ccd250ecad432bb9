// Latency histogram: fixed bounds 50µs..60s, Prometheus `le` (inclusive upper bound) placement,
// merge, and percentile estimates (linear inside a bucket, clamped to the observed range).
#include "metrics/latency_histogram.h"

#include <gtest/gtest.h>

namespace cachefwd::metrics {
namespace {

using H = LatencyHistogram;
constexpr std::int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;

TEST(LatencyHistogram, BoundsSpan50MicrosecondsTo60SecondsIncreasing) {
  ASSERT_FALSE(H::kUpperBoundsNs.empty());
  EXPECT_EQ(H::kUpperBoundsNs.front(), 50 * kUs);
  EXPECT_EQ(H::kUpperBoundsNs.back(), 60 * kS);
  for (size_t i = 1; i < H::kUpperBoundsNs.size(); ++i) {
    EXPECT_LT(H::kUpperBoundsNs[i - 1], H::kUpperBoundsNs[i]);
    // log-spaced: neighbours within a factor of 2.5
    EXPECT_LE(H::kUpperBoundsNs[i] * 2, H::kUpperBoundsNs[i - 1] * 5) << i;
  }
  EXPECT_EQ(H::kBuckets, H::kUpperBoundsNs.size() + 1);
  // Prometheus' default client buckets (5ms .. 10s) are all among ours, so dashboards agree.
  for (double b : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0}) {
    bool found = false;
    for (double ours : H::upper_bounds_seconds()) found |= ours == b;
    EXPECT_TRUE(found) << b;
  }
}

TEST(LatencyHistogram, LeIsInclusive) {
  EXPECT_EQ(H::bucket_index(0), 0u);
  EXPECT_EQ(H::bucket_index(-5), 0u);
  EXPECT_EQ(H::bucket_index(50 * kUs), 0u);
  EXPECT_EQ(H::bucket_index(50 * kUs + 1), 1u);
  EXPECT_EQ(H::bucket_index(1 * kMs), 4u);  // 50µs 100µs 250µs 500µs 1ms
  EXPECT_EQ(H::bucket_index(1 * kMs + 1), 5u);
  EXPECT_EQ(H::bucket_index(60 * kS), H::kBuckets - 2);
  EXPECT_EQ(H::bucket_index(60 * kS + 1), H::kBuckets - 1);  // +Inf
  EXPECT_EQ(H::bucket_index(INT64_MAX), H::kBuckets - 1);
  for (size_t i = 0; i < H::kUpperBoundsNs.size(); ++i) {
    EXPECT_EQ(H::bucket_index(H::kUpperBoundsNs[i]), i);
    EXPECT_EQ(H::bucket_index(H::kUpperBoundsNs[i] + 1), i + 1);
  }
}

TEST(LatencyHistogram, ObserveCountsSumMinMax) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min_ns(), 0);
  EXPECT_EQ(h.percentile(50), 0);
  h.observe(3 * kMs);
  h.observe(200 * kUs);
  h.observe(-7);  // a clock step backwards counts as 0, not as garbage
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum_ns(), 3.2e6);
  EXPECT_EQ(h.min_ns(), 0);
  EXPECT_EQ(h.max_ns(), 3 * kMs);
  EXPECT_EQ(h.bucket_counts()[0], 1u);
  EXPECT_EQ(h.bucket_counts()[2], 1u);  // (100µs, 250µs]
  EXPECT_EQ(h.bucket_counts()[6], 1u);  // (2.5ms, 5ms]
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.bucket_counts()[0], 0u);
}

TEST(LatencyHistogram, PercentileInterpolatesInsideTheBucketAndClamps) {
  H h;
  for (int i = 0; i < 10; ++i) h.observe(1 * kMs);  // bucket (500µs, 1ms]
  for (int i = 0; i < 10; ++i) h.observe(2 * kMs);  // bucket (1ms, 2.5ms]
  EXPECT_EQ(h.percentile(0), 1 * kMs);
  EXPECT_EQ(h.percentile(100), 2 * kMs);
  // rank 10 is the last of the first bucket: its upper bound.
  EXPECT_EQ(h.percentile(50), 1 * kMs);
  // rank 15: half-way through (1ms, 2.5ms].
  EXPECT_EQ(h.percentile(75), 1'750'000);
  // rank 2 interpolates to 600µs, below anything observed: clamped to the minimum.
  EXPECT_EQ(h.percentile(10), 1 * kMs);
  // rank 19 would be 2.35ms, above the maximum: clamped.
  EXPECT_EQ(h.percentile(95), 2 * kMs);
}

TEST(LatencyHistogram, OverflowBucketAnswersTheMaximum) {
  H h;
  h.observe(10 * kMs);
  h.observe(90 * kS);
  h.observe(120 * kS);
  EXPECT_EQ(h.percentile(99), 120 * kS);
  EXPECT_EQ(h.bucket_counts()[H::kBuckets - 1], 2u);
}

TEST(LatencyHistogram, MergeEqualsObservingEverythingInOne) {
  H a, b, all;
  for (std::int64_t v : {10 * kUs, 700 * kUs, 3 * kS}) {
    a.observe(v);
    all.observe(v);
  }
  for (std::int64_t v : {2 * kMs, 80 * kS}) {
    b.observe(v);
    all.observe(v);
  }
  H empty;
  a.merge(b);
  a.merge(empty);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_DOUBLE_EQ(a.sum_ns(), all.sum_ns());
  EXPECT_EQ(a.min_ns(), all.min_ns());
  EXPECT_EQ(a.max_ns(), all.max_ns());
  for (size_t i = 0; i < H::kBuckets; ++i) EXPECT_EQ(a.bucket_counts()[i], all.bucket_counts()[i]) << i;
  for (double p : {1.0, 50.0, 90.0, 99.0}) EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
  empty.merge(all);
  EXPECT_EQ(empty.min_ns(), 10 * kUs);
}

TEST(LatencyHistogram, WritesPrometheusSecondsCumulatively) {
  H h;
  h.observe(50 * kUs);
  h.observe(1 * kMs);
  h.observe(60 * kS);
  h.observe(61 * kS);
  PrometheusWriter w;
  w.family("fetch_seconds", MetricType::histogram, "");
  write_histogram(w, "fetch_seconds", {{"rule", "r"}}, h);
  const std::string& out = w.str();
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"5e-05\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"0.0005\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"0.001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"25\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"60\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_bucket{rule=\"r\",le=\"+Inf\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_sum{rule=\"r\"} 121.00105\n"), std::string::npos) << out;
  EXPECT_NE(out.find("fetch_seconds_count{rule=\"r\"} 4\n"), std::string::npos) << out;
  // One line per bucket plus sum and count, after the TYPE line.
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 1 + H::kBuckets + 2);
}

}  // namespace
}  // namespace cachefwd::metrics
