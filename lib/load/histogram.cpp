#include "load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cachefwd::load {

std::size_t Histogram::bucket_index(std::uint64_t v) noexcept {
  if (v < kLinear) return static_cast<std::size_t>(v);
  // shift so that v >> shift lands in [128, 256): the top 8 bits pick the sub-bucket.
  const int msb = 63 - std::countl_zero(v);
  const int shift = msb - (kLinearBits - 1);
  return static_cast<std::size_t>(kLinear + static_cast<std::uint64_t>(shift - 1) * kSubBuckets +
                                  ((v >> shift) - kSubBuckets));
}

std::uint64_t Histogram::bucket_lower(std::size_t index) noexcept {
  if (index < kLinear) return index;
  const std::size_t rel = index - kLinear;
  const int shift = static_cast<int>(rel / kSubBuckets) + 1;
  return (kSubBuckets + rel % kSubBuckets) << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t index) noexcept {
  if (index < kLinear) return 1;
  return std::uint64_t{1} << ((index - kLinear) / kSubBuckets + 1);
}

void Histogram::record_n(std::uint64_t v, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[bucket_index(v)] += n;
  count_ += n;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  sum_ += static_cast<double>(v) * static_cast<double>(n);
}

void Histogram::merge(const Histogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() noexcept { *this = Histogram{}; }

std::uint64_t Histogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 100.0);
  // Nearest rank: the smallest rank r with r >= q% of count, at least 1.
  // The epsilon keeps 99.9% of 1000 at rank 999: 99.9 is not exact in binary and the product lands
  // a hair above the integer.
  auto rank = static_cast<std::uint64_t>(std::ceil(q / 100.0 * static_cast<double>(count_) - 1e-7));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_lower(i) + bucket_width(i) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace cachefwd::load
