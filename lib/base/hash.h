#pragma once
// One 64-bit hash for the whole project (store index, eviction ghosts, simulator keys).
#include <cstdint>
#include <string_view>

namespace cachefwd {

// Word at a time: each 8-byte word (native byte order) is XORed into the state and mixed by a
// 64x64->128-bit multiply folded to 64 bits; the 1-7 byte tail is one zero-padded word; the length
// and a splitmix64 finaliser end it. Cache keys are long URLs, where the previous byte-at-a-time
// FNV-1a was a measured cost (bench/micro/store_bench.cpp, BM_Hash64). Values are stable within a
// build, not across byte orders: nothing persists them. Not for adversarial input on its own: the
// store compares full keys.
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
