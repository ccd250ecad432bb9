#include "metrics/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace cachefwd::metrics {

namespace {
constexpr std::array<double, LatencyHistogram::kUpperBoundsNs.size()> seconds_bounds() {
  std::array<double, LatencyHistogram::kUpperBoundsNs.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<double>(LatencyHistogram::kUpperBoundsNs[i]) / 1e9;
  return out;
}
constexpr auto kSecondsBounds = seconds_bounds();
}  // namespace

std::size_t LatencyHistogram::bucket_index(std::int64_t ns) noexcept {
  auto it = std::lower_bound(kUpperBoundsNs.begin(), kUpperBoundsNs.end(), ns);
  return static_cast<std::size_t>(it - kUpperBoundsNs.begin());
}

std::span<const double> LatencyHistogram::upper_bounds_seconds() noexcept { return kSecondsBounds; }

void LatencyHistogram::observe(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  ++counts_[bucket_index(ns)];
  ++count_;
  sum_ns_ += static_cast<double>(ns);
  min_ns_ = std::min(min_ns_, ns);
  max_ns_ = std::max(max_ns_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

std::int64_t LatencyHistogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min_ns_;  // also NaN
  if (p >= 100) return max_ns_;
  double rank = p / 100.0 * static_cast<double>(count_);
  std::uint64_t before = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    std::uint64_t n = counts_[i];
    if (n == 0 || static_cast<double>(before + n) < rank) {
      before += n;
      continue;
    }
    if (i == kBuckets - 1) return max_ns_;
    double lower = i == 0 ? 0.0 : static_cast<double>(kUpperBoundsNs[i - 1]);
    double upper = static_cast<double>(kUpperBoundsNs[i]);
    double v = lower + (upper - lower) * (rank - static_cast<double>(before)) / static_cast<double>(n);
    return std::clamp(static_cast<std::int64_t>(std::llround(v)), min_ns_, max_ns_);
  }
  return max_ns_;
}

void write_histogram(PrometheusWriter& w, std::string_view name, Labels labels, const LatencyHistogram& h) {
  w.histogram(name, labels, LatencyHistogram::upper_bounds_seconds(), h.bucket_counts(), h.sum_ns() / 1e9);
}

}  // namespace cachefwd::metrics
