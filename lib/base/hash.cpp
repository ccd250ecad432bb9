#include "base/hash.h"

#include <cstring>

namespace cachefwd {
namespace {

constexpr std::uint64_t kInit = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;  // odd, well spread bits (2^64 / golden ratio)

// The high half of the product depends on every bit of `a`; folding it onto the low half keeps
// the low bits' dependence too.
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

}  // namespace

std::uint64_t hash64(std::string_view data, std::uint64_t seed) noexcept {
  const char* p = data.data();
  size_t n = data.size();
  // The state is never 0 going into a multiply only by accident of the input (probability 2^-64
  // per word), after which later words still mix in; the length at the end separates inputs
  // that differ only in trailing zero bytes of the padded tail.
  std::uint64_t h = kInit ^ mix64(seed);
  for (; n >= 8; n -= 8, p += 8) h = fold_mul(h ^ load64(p), kMul);
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = fold_mul(h ^ w, kMul);
  }
  return mix64(h ^ data.size());
}

}  // namespace cachefwd
