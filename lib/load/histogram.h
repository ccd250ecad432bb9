#pragma once
// A log-linear latency histogram in the spirit of HdrHistogram (there is no packaged C/C++ one on
// Debian bookworm). Values below 256 get one bucket each; above that every power of two is split
// into 128 equal buckets, so a bucket is never wider than 1/128 of its lower bound. percentile()
// answers the bucket's midpoint, clamped to [min, max]: the answer is within 1/256 (0.39%) of the
// exact order statistic, at every magnitude up to 2^64 ns. 7,424 64-bit counters (58 KiB); record()
// is a bit scan and an increment, so it can sit on the per-response path.
#include <array>
#include <cstdint>

namespace cachefwd::load {

class Histogram {
 public:
  static constexpr int kLinearBits = 8;                        // exact below 2^8
  static constexpr std::uint64_t kLinear = 1u << kLinearBits;  // 256
  static constexpr std::uint64_t kSubBuckets = kLinear / 2;    // 128 per power of two above
  static constexpr std::size_t kBuckets = kLinear + (64 - kLinearBits) * kSubBuckets;

  void record(std::uint64_t value_ns) noexcept { record_n(value_ns, 1); }
  void record_n(std::uint64_t value_ns, std::uint64_t n) noexcept;
  void merge(const Histogram& other) noexcept;
  void reset() noexcept;

  // q in [0, 100]. The value v such that ceil(q/100 * count) recorded values are <= v (nearest
  // rank, as a sorted array would answer), to the precision above. 0 when empty.
  std::uint64_t percentile(double q) const noexcept;
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

  // Bucket geometry, public for tests and for plotting the distribution.
  static std::size_t bucket_index(std::uint64_t v) noexcept;
  static std::uint64_t bucket_lower(std::size_t index) noexcept;
  static std::uint64_t bucket_width(std::size_t index) noexcept;
  std::uint64_t bucket_count(std::size_t index) const noexcept { return counts_[index]; }

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  // A double: a uint64 sum of nanoseconds overflows after ~584 years of summed latency, which a
  // long open-model run with a stalled target can approach faster than one would think.
  double sum_ = 0;
};

}  // namespace cachefwd::load
