#include "load/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace cachefwd::load {
namespace {

// The exact nearest-rank percentile of sorted data, computed with integer arithmetic on
// per-mille-of-a-percent steps so the rank does not depend on floating point.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, std::uint64_t q_times_1000) {
  const std::uint64_t n = sorted.size();
  std::uint64_t rank = (q_times_1000 * n + 100'000 - 1) / 100'000;  // ceil(q/100 * n)
  rank = std::clamp<std::uint64_t>(rank, 1, n);
  return sorted[rank - 1];
}

void expect_matches_exact(std::vector<std::uint64_t> values, const char* name) {
  Histogram h;
  for (auto v : values) h.record(v);
  std::sort(values.begin(), values.end());
  ASSERT_EQ(h.count(), values.size()) << name;
  EXPECT_EQ(h.min(), values.front()) << name;
  EXPECT_EQ(h.max(), values.back()) << name;
  long double sum = 0;
  for (auto v : values) sum += v;
  const double exact_mean = static_cast<double>(sum / values.size());
  EXPECT_NEAR(h.mean(), exact_mean, exact_mean * 1e-9) << name;
  for (std::uint64_t q1000 :
       {0u, 1000u, 10'000u, 25'000u, 50'000u, 75'000u, 90'000u, 99'000u, 99'900u, 99'990u, 100'000u}) {
    const std::uint64_t exact = exact_percentile(values, q1000);
    const std::uint64_t got = h.percentile(static_cast<double>(q1000) / 1000.0);
    const double err = std::fabs(static_cast<double>(got) - static_cast<double>(exact));
    EXPECT_LE(err, static_cast<double>(exact) / 256.0)
        << name << " q=" << q1000 / 1000.0 << " exact=" << exact << " got=" << got;
  }
}

TEST(Histogram, EmptyAnswersZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < 256; ++v) h.record(v);
  for (int q = 1; q <= 100; ++q) {
    // 256 values 0..255: nearest rank ceil(q/100*256) - 1.
    const auto expect = static_cast<std::uint64_t>((q * 256 + 99) / 100) - 1;
    EXPECT_EQ(h.percentile(q), expect) << q;
  }
}

TEST(Histogram, BucketsTileTheRangeWithBoundedWidth) {
  // Every bucket starts where the previous ended, and its width is at most 1/128 of its start.
  for (std::size_t i = 1; i < Histogram::kBuckets; ++i) {
    ASSERT_EQ(Histogram::bucket_lower(i), Histogram::bucket_lower(i - 1) + Histogram::bucket_width(i - 1))
        << i;
    if (Histogram::bucket_lower(i) >= 256) {
      ASSERT_LE(Histogram::bucket_width(i) * 128, Histogram::bucket_lower(i)) << i;
    }
  }
  for (std::uint64_t v : std::initializer_list<std::uint64_t>{0, 255, 256, 257, 1000, 123456789,
                                                              (1ull << 40) + 12345, UINT64_MAX}) {
    const auto i = Histogram::bucket_index(v);
    EXPECT_LE(Histogram::bucket_lower(i), v);
    EXPECT_LE(v - Histogram::bucket_lower(i), Histogram::bucket_width(i) - 1);
  }
}

TEST(Histogram, UniformMatchesExactPercentiles) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> d(0, 10'000'000);
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = d(rng);
  expect_matches_exact(std::move(v), "uniform");
}

TEST(Histogram, ExponentialMatchesExactPercentiles) {
  std::mt19937_64 rng(2);
  std::exponential_distribution<double> d(1.0 / 100'000.0);  // mean 100 us
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
  expect_matches_exact(std::move(v), "exponential");
}

TEST(Histogram, LognormalHeavyTailMatchesExactPercentiles) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(11.0, 2.0);  // median ~60 us, tail into seconds
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
  expect_matches_exact(std::move(v), "lognormal");
}

TEST(Histogram, BimodalHitsAndMissesMatchesExactPercentiles) {
  // 90% fast hits around 40 us, 10% slow misses around 5 ms: p90 sits on the cliff.
  std::mt19937_64 rng(4);
  std::normal_distribution<double> hit(40'000, 5'000), miss(5'000'000, 800'000);
  std::bernoulli_distribution is_miss(0.1);
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::max(1.0, is_miss(rng) ? miss(rng) : hit(rng)));
  expect_matches_exact(std::move(v), "bimodal");
}

TEST(Histogram, FewSamplesAndConstant) {
  expect_matches_exact({7'000'000}, "single");
  expect_matches_exact({5, 1'000'000'000, 300, 70'000}, "four");
  expect_matches_exact(std::vector<std::uint64_t>(1000, 123'456'789), "constant");
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> d(10.0, 1.5);
  Histogram a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const auto x = static_cast<std::uint64_t>(d(rng));
    (i % 3 ? a : b).record(x);
    all.record(x);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_NEAR(a.mean(), all.mean(), all.mean() * 1e-12);
  for (double q : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) EXPECT_EQ(a.percentile(q), all.percentile(q)) << q;
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(99), 0u);
}

TEST(Histogram, RecordNCountsWeight) {
  Histogram h;
  h.record_n(1000, 99);
  h.record_n(1'000'000, 1);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_LE(std::fabs(static_cast<double>(h.percentile(99)) - 1000.0), 1000.0 / 256);
  EXPECT_EQ(h.percentile(100), 1'000'000u);
}

}  // namespace
}  // namespace cachefwd::load
