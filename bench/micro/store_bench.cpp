// Store and eviction-policy costs: lookup hits, insert-with-eviction, and the simulator's
// per-request cost on a skewed synthetic trace (one Google Benchmark per policy); hash64 against
// the byte-at-a-time FNV-1a it replaced; bulk removal (prefix scan, tag) and tagged inserts.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "base/hash.h"
#include "cache/store/eviction_policy.h"
#include "cache/store/store.h"
#include "replay/simulator.h"

namespace {

using cachefwd::cache::store::make_eviction_policy;
using cachefwd::cache::store::Store;
using cachefwd::cache::store::StoreLimits;

const char* const kPolicies[] = {"lru", "fifo", "sieve", "s3fifo"};

std::vector<std::string> url_keys(size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string k = "GET http://origin.example/api/v1/items/";
    k += std::to_string(i * 2654435761ULL % 1000003);
    keys.push_back(std::move(k));
  }
  return keys;
}

// Zipf(~0.9)-like indices in [0, n).
std::vector<std::uint32_t> skewed_indices(size_t count, size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::uint32_t> out(count);
  for (auto& x : out) x = static_cast<std::uint32_t>(std::pow(static_cast<double>(n), u(rng))) - 1;
  return out;
}

void BM_FindHit(benchmark::State& state) {
  const char* policy = kPolicies[state.range(0)];
  const size_t n = 100000;
  const auto keys = url_keys(n);
  Store store(StoreLimits{1ULL << 40, 0}, make_eviction_policy(policy));
  for (const auto& k : keys) store.insert(k, nullptr, 1000);
  const auto idx = skewed_indices(1 << 16, n, 1);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.touch(keys[idx[i++ & 0xffff]]));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(policy);
}
BENCHMARK(BM_FindHit)->DenseRange(0, 3);

void BM_InsertWithEviction(benchmark::State& state) {
  const char* policy = kPolicies[state.range(0)];
  const auto keys = url_keys(1 << 18);
  // Holds 1/4 of the key space: every insert of a non-resident key evicts.
  Store store(StoreLimits{(1ULL << 16) * 1000, 0}, make_eviction_policy(policy));
  size_t i = 0;
  for (auto _ : state) {
    const auto& k = keys[i++ & ((1 << 18) - 1)];
    benchmark::DoNotOptimize(store.insert(k, nullptr, 1000));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(policy);
}
BENCHMARK(BM_InsertWithEviction)->DenseRange(0, 3);

// What `replay --simulate` pays per request: 1M objects, cache at 10% of them.
void BM_Simulate(benchmark::State& state) {
  const char* policy = kPolicies[state.range(0)];
  const size_t objects = 1000000;
  const auto idx = skewed_indices(1 << 22, objects, 2);
  std::vector<cachefwd::replay::Request> reqs(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    reqs[i].key = idx[i] * 0x9e3779b97f4a7c15ULL;
    reqs[i].size = 1;
  }
  cachefwd::replay::StoreSimulator sim(policy, objects / 10);
  size_t i = 0;
  for (auto _ : state) {
    sim.access(reqs[i++ & ((1 << 22) - 1)]);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["miss_ratio"] = sim.counters().miss_ratio();
  state.SetLabel(policy);
}
BENCHMARK(BM_Simulate)->DenseRange(0, 3);

// The previous hash64 (FNV-1a, one byte per step, splitmix64 finaliser), kept here as the "before"
// of BM_Hash64.
std::uint64_t fnv1a_mix(std::string_view data, std::uint64_t seed = 0) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ cachefwd::mix64(seed);
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return cachefwd::mix64(h);
}

std::vector<std::string> keys_of_length(size_t len, size_t n) {
  std::vector<std::string> out;
  std::mt19937_64 rng(len);
  for (size_t i = 0; i < n; ++i) {
    std::string k = "GET http://origin.example/";
    while (k.size() < len) k += static_cast<char>('a' + rng() % 26);
    k.resize(len);
    out.push_back(std::move(k));
  }
  return out;
}

template <std::uint64_t (*Hash)(std::string_view, std::uint64_t)>
void hash_bench(benchmark::State& state) {
  const auto keys = keys_of_length(static_cast<size_t>(state.range(0)), 256);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(Hash(keys[i++ & 255], 0));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
void BM_Hash64(benchmark::State& state) { hash_bench<cachefwd::hash64>(state); }
void BM_Hash64Fnv1a(benchmark::State& state) { hash_bench<fnv1a_mix>(state); }
BENCHMARK(BM_Hash64)->Arg(8)->Arg(48)->Arg(128)->Arg(512);
BENCHMARK(BM_Hash64Fnv1a)->Arg(8)->Arg(48)->Arg(128)->Arg(512);

// Lookup hits on 100k keys of range(0) bytes (LRU): where the hash's per-byte cost shows.
void BM_FindHitKeyLength(benchmark::State& state) {
  const size_t n = 100000;
  const auto keys = keys_of_length(static_cast<size_t>(state.range(0)), n);
  Store store(StoreLimits{1ULL << 40, 0}, make_eviction_policy("lru"));
  for (const auto& k : keys) store.insert(k, nullptr, 1000);
  const auto idx = skewed_indices(1 << 16, n, 1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(store.touch(keys[idx[i++ & 0xffff]]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FindHitKeyLength)->Arg(48)->Arg(200);

// erase_prefix is a scan: its cost on range(0) resident entries when the prefix matches nothing
// (a purge of an origin the cache does not hold), i.e. the price of not keeping an ordered index.
void BM_ErasePrefixScan(benchmark::State& state) {
  const auto keys = url_keys(static_cast<size_t>(state.range(0)));
  Store store(StoreLimits{1ULL << 40, 0}, make_eviction_policy("lru"));
  for (const auto& k : keys) store.insert(k, nullptr, 1000);
  for (auto _ : state) benchmark::DoNotOptimize(store.erase_prefix("GET http://other.example/"));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ErasePrefixScan)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// erase_tag of 100 entries among 100k (re-inserted untimed): O(entries with the tag).
void BM_EraseTag100(benchmark::State& state) {
  const auto keys = url_keys(100000);
  Store store(StoreLimits{1ULL << 40, 0}, make_eviction_policy("lru"));
  std::vector<std::string> tags{"", "all"};
  auto tag_of = [](size_t i) {
    std::string t = "t";
    t += std::to_string(i % 1000);
    return t;
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    tags[0] = tag_of(i);
    store.insert(keys[i], nullptr, 1000, tags);
  }
  size_t round = 0;
  for (auto _ : state) {
    const std::string t = tag_of(round++);
    benchmark::DoNotOptimize(store.erase_tag(t));
    state.PauseTiming();
    tags[0] = t;
    for (size_t i = (round - 1) % 1000; i < keys.size(); i += 1000)
      store.insert(keys[i], nullptr, 1000, tags);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_EraseTag100)->Unit(benchmark::kMicrosecond);

// Insert-with-eviction (LRU) with range(0) tags per entry: the tag index's cost on the store path.
void BM_InsertWithEvictionTagged(benchmark::State& state) {
  const auto keys = url_keys(1 << 18);
  Store store(StoreLimits{(1ULL << 16) * 1000, 0}, make_eviction_policy("lru"));
  std::vector<std::string> tags;
  // Built by appending: GCC 12 -O3 reports a false -Wrestrict on `"literal" + std::to_string(n)`.
  auto tag = [](std::string_view stem, size_t n) {
    std::string t(stem);
    t += std::to_string(n);
    return t;
  };
  for (int t = 0; t < state.range(0); ++t) tags.push_back(tag("surrogate-key-", t * 7919 % 5000));
  size_t i = 0;
  for (auto _ : state) {
    if (!tags.empty()) tags[0] = tag("product-", i % 5000);
    const auto& k = keys[i++ & ((1 << 18) - 1)];
    benchmark::DoNotOptimize(store.insert(k, nullptr, 1000, tags));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InsertWithEvictionTagged)->Arg(0)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
