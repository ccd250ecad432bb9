// Store and eviction-policy costs: lookup hits, insert-with-eviction, and the simulator's
// per-request cost on a skewed synthetic trace (one Google Benchmark per policy).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

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

}  // namespace

BENCHMARK_MAIN();
