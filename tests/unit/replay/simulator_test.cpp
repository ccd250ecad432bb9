// The simulator against deliberately naive reference caches on generated traces (exact miss and
// byte counts), Belady's bound, next-use computation and cache-size parsing.
#include "replay/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <map>
#include <random>
#include <unordered_map>

namespace cachefwd::replay {
namespace {

// Zipf-like keys with per-object sizes fixed at first sight (like a real object cache trace).
std::vector<Request> generate(size_t n, std::uint64_t objects, std::uint64_t seed, bool unit_sizes) {
  std::mt19937_64 rng(seed);
  std::map<std::uint64_t, std::uint64_t> size_of;
  std::vector<Request> out;
  for (size_t i = 0; i < n; ++i) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const auto k = static_cast<std::uint64_t>(std::pow(static_cast<double>(objects), u)) * 2654435761ULL;
    auto [it, fresh] = size_of.try_emplace(k, unit_sizes ? 1 : 1 + rng() % 5000);
    (void)fresh;
    Request r;
    r.key = k;
    r.size = it->second;
    r.timestamp = static_cast<std::int64_t>(i);
    out.push_back(r);
  }
  return out;
}

struct Counts {
  std::uint64_t misses = 0, bytes_missed = 0;
};

// A naive LRU object cache: hit = resident; a miss evicts least recently used objects until the
// new one fits, and does not store objects larger than the cache.
Counts naive_lru(const std::vector<Request>& reqs, std::uint64_t capacity) {
  std::list<std::pair<std::uint64_t, std::uint64_t>> order;
  std::unordered_map<std::uint64_t, decltype(order)::iterator> pos;
  std::uint64_t used = 0;
  Counts c;
  for (const auto& r : reqs) {
    if (auto it = pos.find(r.key); it != pos.end()) {
      order.splice(order.begin(), order, it->second);
      continue;
    }
    ++c.misses;
    c.bytes_missed += r.size;
    if (r.size > capacity) continue;
    while (used + r.size > capacity) {
      used -= order.back().second;
      pos.erase(order.back().first);
      order.pop_back();
    }
    order.emplace_front(r.key, r.size);
    pos[r.key] = order.begin();
    used += r.size;
  }
  return c;
}

// Naive FIFO: like LRU without the splice.
Counts naive_fifo(const std::vector<Request>& reqs, std::uint64_t capacity) {
  std::list<std::pair<std::uint64_t, std::uint64_t>> order;
  std::unordered_map<std::uint64_t, bool> in;
  std::uint64_t used = 0;
  Counts c;
  for (const auto& r : reqs) {
    if (in.count(r.key)) continue;
    ++c.misses;
    c.bytes_missed += r.size;
    if (r.size > capacity) continue;
    while (used + r.size > capacity) {
      used -= order.back().second;
      in.erase(order.back().first);
      order.pop_back();
    }
    order.emplace_front(r.key, r.size);
    in[r.key] = true;
    used += r.size;
  }
  return c;
}

// Naive MIN for unit sizes: on a miss with a full cache, scan forward for the resident object
// used furthest in the future.
std::uint64_t naive_min_unit(const std::vector<Request>& reqs, std::uint64_t capacity) {
  std::vector<std::uint64_t> cache;
  std::uint64_t misses = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const std::uint64_t k = reqs[i].key;
    if (std::find(cache.begin(), cache.end(), k) != cache.end()) continue;
    ++misses;
    if (cache.size() == capacity) {
      size_t victim = 0, furthest = 0;
      for (size_t c = 0; c < cache.size(); ++c) {
        size_t j = i + 1;
        while (j < reqs.size() && reqs[j].key != cache[c]) ++j;
        if (j >= furthest) {
          furthest = j;
          victim = c;
        }
      }
      cache.erase(cache.begin() + static_cast<std::ptrdiff_t>(victim));
    }
    cache.push_back(k);
  }
  return misses;
}

template <class Sim>
SimCounters run(Sim& sim, const std::vector<Request>& reqs) {
  for (const auto& r : reqs) sim.access(r);
  return sim.counters();
}

TEST(StoreSimulator, LruMatchesANaiveLruExactly) {
  const auto reqs = generate(200000, 20000, 1, false);
  for (std::uint64_t cap : {1ULL << 16, 1ULL << 20, 10ULL << 20, 40ULL << 20}) {
    StoreSimulator sim("lru", cap);
    const auto got = run(sim, reqs);
    const auto want = naive_lru(reqs, cap);
    EXPECT_EQ(got.requests, reqs.size());
    EXPECT_EQ(got.misses, want.misses) << cap;
    EXPECT_EQ(got.bytes_missed, want.bytes_missed) << cap;
  }
}

TEST(StoreSimulator, FifoMatchesANaiveFifoExactly) {
  const auto reqs = generate(100000, 10000, 2, false);
  for (std::uint64_t cap : {1ULL << 18, 4ULL << 20}) {
    StoreSimulator sim("fifo", cap);
    const auto got = run(sim, reqs);
    const auto want = naive_fifo(reqs, cap);
    EXPECT_EQ(got.misses, want.misses) << cap;
    EXPECT_EQ(got.bytes_missed, want.bytes_missed) << cap;
  }
}

TEST(StoreSimulator, TextKeysAreKeptApart) {
  // Same numeric key field, different text keys: distinct objects.
  StoreSimulator sim("lru", 1000);
  Request a, b;
  a.key = b.key = 7;
  a.text_key = "GET http://a/";
  b.text_key = "GET http://b/";
  a.size = b.size = 10;
  sim.access(a);
  sim.access(b);
  sim.access(a);
  EXPECT_EQ(sim.counters().misses, 2u);
}

TEST(StoreSimulator, OversizedObjectsAreMissesThatAreNotStored) {
  StoreSimulator sim("lru", 100);
  Request r;
  r.key = 1;
  r.size = 101;
  sim.access(r);
  sim.access(r);
  EXPECT_EQ(sim.counters().misses, 2u);
  EXPECT_EQ(sim.counters().not_admitted, 2u);
  EXPECT_EQ(sim.counters().bytes_missed, 202u);
  EXPECT_DOUBLE_EQ(sim.counters().byte_miss_ratio(), 1.0);
}

TEST(StoreSimulator, UnknownPolicyThrows) { EXPECT_THROW(StoreSimulator("arc", 100), std::invalid_argument); }

TEST(BeladySimulator, MatchesANaiveMinOnUnitSizes) {
  auto reqs = generate(3000, 400, 3, true);
  std::vector<std::uint64_t> keys;
  for (const auto& r : reqs) keys.push_back(r.key);
  const auto next = compute_next_access(keys);
  for (size_t i = 0; i < reqs.size(); ++i) reqs[i].next_access = next[i];
  for (std::uint64_t cap : {5, 40, 150}) {
    BeladySimulator sim(cap);
    EXPECT_EQ(run(sim, reqs).misses, naive_min_unit(reqs, cap)) << cap;
  }
}

TEST(BeladySimulator, IsABoundForEveryPolicyOnUnitSizes) {
  auto reqs = generate(50000, 5000, 4, true);
  std::vector<std::uint64_t> keys;
  for (const auto& r : reqs) keys.push_back(r.key);
  const auto next = compute_next_access(keys);
  for (size_t i = 0; i < reqs.size(); ++i) reqs[i].next_access = next[i];
  for (std::uint64_t cap : {50, 500}) {
    BeladySimulator opt(cap);
    const auto bound = run(opt, reqs).misses;
    for (auto name : cache::store::eviction_policy_names()) {
      StoreSimulator sim(name, cap);
      EXPECT_GE(run(sim, reqs).misses, bound) << name << " " << cap;
    }
  }
}

TEST(ComputeNextAccess, PointsAtTheNextRequestForTheSameKey) {
  const std::vector<std::uint64_t> keys{1, 2, 1, 3, 2, 1};
  const auto next = compute_next_access(keys);
  EXPECT_EQ(next, (std::vector<std::int64_t>{2, 4, 5, kNoNextAccess, kNoNextAccess, kNoNextAccess}));
}

TEST(FootprintCounter, CountsDistinctObjectsAtFirstSeenSize) {
  FootprintCounter f;
  Request r;
  r.key = 1, r.size = 100;
  f.add(r);
  r.size = 500;  // same object seen again with another size: first-seen size counts
  f.add(r);
  r.key = 2, r.size = 50;
  f.add(r);
  EXPECT_EQ(f.objects(), 2u);
  EXPECT_EQ(f.bytes(), 150u);
}

TEST(ObjectSizes, EveryRequestForAKeyTakesTheLargestLoggedSize) {
  ObjectSizes sizes;
  Request r;
  r.key = 1, r.size = 0;  // e.g. a 304 logged first
  sizes.observe(r);
  r.size = 700;
  sizes.observe(r);
  r.size = 500;
  sizes.observe(r);
  r.key = 2, r.size = 9;
  sizes.observe(r);
  Request q;
  q.key = 1, q.size = 0;
  sizes.apply(q);
  EXPECT_EQ(q.size, 700u);
  q.key = 3, q.size = 4;  // never observed: unchanged
  sizes.apply(q);
  EXPECT_EQ(q.size, 4u);
  FootprintCounter f;
  sizes.footprint(f);
  EXPECT_EQ(f.objects(), 2u);
  EXPECT_EQ(f.bytes(), 709u);
}

TEST(ParseCacheSizes, AbsoluteAndPercentages) {
  auto s = parse_cache_sizes("128MiB, 1GiB,1%,0.5%,4096");
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->size(), 5u);
  EXPECT_EQ((*s)[0].resolve(0), 128ULL << 20);
  EXPECT_EQ((*s)[1].resolve(0), 1ULL << 30);
  EXPECT_TRUE((*s)[2].percent);
  EXPECT_EQ((*s)[2].resolve(2029769728), 20297697u);
  EXPECT_EQ((*s)[3].resolve(1000), 5u);
  EXPECT_EQ((*s)[4].resolve(0), 4096u);
  EXPECT_EQ((*s)[0].text, "128MiB");
  for (const char* bad : {"", "0", "1%,", ",1%", "abc", "101%", "0%", "-1%", "5 apples", "1e3%x"}) {
    EXPECT_FALSE(parse_cache_sizes(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace cachefwd::replay
