#pragma once
// One 64-bit hash for the whole project (store index, eviction ghosts, simulator keys).
#include <cstdint>
#include <string_view>

namespace cachefwd {

// FNV-1a with a final avalanche (splitmix64 finaliser): fast for short keys, well spread bits for
// power-of-two tables. Not for adversarial input on its own: the store compares full keys.
std::uint64_t hash64(std::string_view data, std::uint64_t seed = 0) noexcept;

constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace cachefwd
