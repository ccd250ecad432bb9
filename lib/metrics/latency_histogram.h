#pragma once
// Latency histogram with fixed bucket bounds for GET /metrics (hit latency, upstream fetch time).
// Prometheus aggregates histograms across instances and time only when every series has the same
// bounds, so the bounds are fixed here: 50µs to 60s in a 1-2.5-5 series (a superset of the Prometheus
// client default buckets, ratio at most 2.5 between neighbours), plus +Inf. 20 counters; observe()
// is a short search and an increment. Percentiles are estimates (linear within a bucket, as
// PromQL's histogram_quantile does); the load generator's lib/load/histogram.h is the precise one.
// Not thread-safe: keep one per thread and merge().
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "metrics/prometheus.h"

namespace cachefwd::metrics {

class LatencyHistogram {
 public:
  // Inclusive upper bounds (Prometheus `le`), nanoseconds.
  static constexpr std::array<std::int64_t, 19> kUpperBoundsNs = {
      50'000,        100'000,       250'000,        500'000,        1'000'000,     2'500'000,   5'000'000,
      10'000'000,    25'000'000,    50'000'000,     100'000'000,    250'000'000,   500'000'000, 1'000'000'000,
      2'500'000'000, 5'000'000'000, 10'000'000'000, 25'000'000'000, 60'000'000'000};
  static constexpr std::size_t kBuckets = kUpperBoundsNs.size() + 1;  // the last one is +Inf

  // The bucket a value falls in: the first whose bound is >= ns (negative values count as 0).
  static std::size_t bucket_index(std::int64_t ns) noexcept;
  // kUpperBoundsNs in seconds, the unit Prometheus expects for durations.
  static std::span<const double> upper_bounds_seconds() noexcept;

  void observe(std::int64_t ns) noexcept;
  void merge(const LatencyHistogram& other) noexcept;
  void reset() noexcept { *this = LatencyHistogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  // A double: an integer sum of nanoseconds would overflow within months on a busy proxy
  // (2^63 ns is 292 years of summed latency, ~100 days at 1,000 requests in flight).
  double sum_ns() const noexcept { return sum_ns_; }
  std::int64_t min_ns() const noexcept { return count_ ? min_ns_ : 0; }
  std::int64_t max_ns() const noexcept { return max_ns_; }
  // Per-bucket (not cumulative) counts, kBuckets of them.
  std::span<const std::uint64_t> bucket_counts() const noexcept { return counts_; }

  // p in [0, 100]. Estimate of the value below which p% of the observations fall: linear
  // interpolation inside the bucket holding that rank, clamped to the observed [min, max] (so
  // p=0 is the minimum, p=100 the maximum, and the +Inf bucket answers the maximum). 0 when empty.
  std::int64_t percentile(double p) const noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  double sum_ns_ = 0;
  std::int64_t min_ns_ = INT64_MAX;
  std::int64_t max_ns_ = 0;
};

// Writes `h` as one series of the histogram family declared last on `w` (declare it with
// MetricType::histogram and a name ending in _seconds): buckets and sum in seconds.
void write_histogram(PrometheusWriter& w, std::string_view name, Labels labels, const LatencyHistogram& h);

}  // namespace cachefwd::metrics
