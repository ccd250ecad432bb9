// hash64: the properties the store index, S3-FIFO's ghost and the simulator rely on: every input
// byte and the length matter, bits avalanche (power-of-two tables use the low and high bits), and
// URL-like keys spread evenly and without collisions.
#include "base/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace cachefwd {
namespace {

TEST(Hash64, IsDeterministicAndSeeded) {
  EXPECT_EQ(hash64("http://a/x"), hash64(std::string("http://a/x")));
  EXPECT_EQ(hash64("http://a/x", 0), hash64("http://a/x"));
  EXPECT_NE(hash64("http://a/x", 1), hash64("http://a/x"));
  EXPECT_NE(hash64("http://a/x", 1), hash64("http://a/x", 2));
  EXPECT_NE(hash64("", 1), hash64("", 2));
}

TEST(Hash64, LengthAndTrailingZeroBytesMatter) {
  // A zero-padded tail word would make these collide without the length.
  std::unordered_set<std::uint64_t> seen;
  for (size_t n = 0; n <= 64; ++n) {
    EXPECT_TRUE(seen.insert(hash64(std::string(n, '\0'))).second) << n;
  }
  EXPECT_NE(hash64("abc"), hash64(std::string("abc\0", 4)));
  EXPECT_NE(hash64("abcdefgh"), hash64(std::string("abcdefgh\0", 9)));
}

TEST(Hash64, EveryByteMattersAcrossWordBoundaries) {
  const std::string base = "GET http://origin.example/api/v1/items/12345?x=1";
  const std::uint64_t h = hash64(base);
  for (size_t i = 0; i < base.size(); ++i) {
    std::string k = base;
    k[i] ^= 0x01;
    EXPECT_NE(hash64(k), h) << i;
    k[i] = base[i];
    k[i] ^= static_cast<char>(0x80);
    EXPECT_NE(hash64(k), h) << i;
  }
  // Swapping two words must not cancel out.
  EXPECT_NE(hash64("aaaaaaaabbbbbbbb"), hash64("bbbbbbbbaaaaaaaa"));
}

TEST(Hash64, SingleBitFlipsAvalanche) {
  // For each input bit, flipping it should flip about half of the 64 output bits, and each output
  // bit should flip about half of the time over all single-bit changes.
  std::mt19937_64 rng(1);
  for (size_t len : {3, 8, 13, 24, 61}) {
    std::vector<double> out_bit(64, 0);
    double trials = 0;
    for (size_t in_bit = 0; in_bit < len * 8; ++in_bit) {
      double flips = 0;
      const int samples = 64;
      for (int s = 0; s < samples; ++s) {
        std::string k(len, '\0');
        for (char& c : k) c = static_cast<char>(rng());
        const std::uint64_t a = hash64(k);
        k[in_bit / 8] ^= static_cast<char>(1u << (in_bit % 8));
        const std::uint64_t d = a ^ hash64(k);
        flips += std::popcount(d);
        for (int b = 0; b < 64; ++b) out_bit[b] += (d >> b) & 1;
        ++trials;
      }
      const double mean = flips / samples;
      EXPECT_GT(mean, 28.0) << "len " << len << " bit " << in_bit;
      EXPECT_LT(mean, 36.0) << "len " << len << " bit " << in_bit;
    }
    for (int b = 0; b < 64; ++b) {
      EXPECT_NEAR(out_bit[b] / trials, 0.5, 0.05) << "len " << len << " output bit " << b;
    }
  }
}

TEST(Hash64, UrlKeysSpreadEvenlyAndDoNotCollide) {
  const int n = 1 << 20;
  const int buckets = 1 << 12;
  std::vector<int> low(buckets), high(buckets);
  std::unordered_set<std::uint64_t> seen;
  seen.reserve(n);
  std::string k = "GET http://origin.example/api/v1/items/";
  const size_t stem = k.size();
  for (int i = 0; i < n; ++i) {
    k.resize(stem);
    k += std::to_string(i);
    const std::uint64_t h = hash64(k);
    ASSERT_TRUE(seen.insert(h).second) << i;
    ++low[h & (buckets - 1)];
    ++high[h >> 52];
  }
  // Chi-square with 4095 degrees of freedom: mean 4095, sd ~90.5; 5 sd is a generous bound.
  auto chi2 = [&](const std::vector<int>& c) {
    const double e = static_cast<double>(n) / buckets;
    double x = 0;
    for (int v : c) x += (v - e) * (v - e) / e;
    return x;
  };
  EXPECT_LT(chi2(low), 4095 + 5 * 90.5);
  EXPECT_LT(chi2(high), 4095 + 5 * 90.5);
}

}  // namespace
}  // namespace cachefwd
