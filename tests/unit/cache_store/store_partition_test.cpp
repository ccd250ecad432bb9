// Store partitions (issue 3: per-rule limits "100 entries per rule, least-used evicted", inside the
// global --max-bytes): own limits and own eviction, global limits still holding, exact accounting
// through erase and replace, checked against a naive partitioned LRU model.
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/store/store.h"
#include "cache/store/stored_response.h"
#include "key_util.h"

namespace cachefwd::cache::store {
namespace {

Store make_lru(std::uint64_t max_bytes, std::uint64_t max_entries = 0) {
  return Store(StoreLimits{max_bytes, max_entries}, make_eviction_policy("lru"));
}

void expect_partition_invariants(const Store& s) {
  std::uint64_t bytes = 0, entries = 0;
  for (PartitionId p = 0; p < s.partition_count(); ++p) {
    const StoreStats& ps = s.partition_stats(p);
    bytes += ps.bytes;
    entries += ps.entries;
    EXPECT_EQ(ps.inserts - ps.evictions - ps.erased - ps.replaced, ps.entries) << "partition " << p;
  }
  EXPECT_EQ(bytes, s.stats().bytes);
  EXPECT_EQ(entries, s.stats().entries);
}

TEST(StorePartition, DefaultPartitionExistsWithTheGlobalLimits) {
  Store s = make_lru(1000, 7);
  EXPECT_EQ(s.partition_count(), 1u);
  EXPECT_EQ(s.partition_limits(kDefaultPartition).max_bytes, 1000u);
  EXPECT_EQ(s.partition_limits(kDefaultPartition).max_entries, 7u);
  s.insert("a", nullptr, 10);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).bytes, 10u);
  EXPECT_EQ(s.partition_of("a"), 0);
  EXPECT_EQ(s.partition_of("b"), -1);
  EXPECT_THROW(s.partition_stats(1), std::out_of_range);
  EXPECT_THROW(s.insert(1, "x", nullptr, 1), std::out_of_range);
  EXPECT_THROW(s.set_partition_limits(kDefaultPartition, StoreLimits{1, 1}), std::out_of_range);
}

TEST(StorePartition, APartitionCappedAt100EntriesEvictsItsOwnLeastUsed) {
  Store s = make_lru(1 << 20);
  for (int i = 0; i < 50; ++i) s.insert(test::key_of("default/", i), nullptr, 100);
  const PartitionId rule = s.add_partition(StoreLimits{0, 100});
  EXPECT_EQ(rule, 1u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(s.insert(rule, test::key_of("rule/", i), nullptr, 100));
    if (i >= 1) {
      EXPECT_TRUE(s.touch("rule/0"));  // kept hot: never the least used
    }
  }
  const StoreStats& r = s.partition_stats(rule);
  EXPECT_EQ(r.entries, 100u);
  EXPECT_EQ(r.evictions, 200u);
  EXPECT_EQ(r.bytes, 100u * 100);
  EXPECT_TRUE(s.contains("rule/0"));
  EXPECT_FALSE(s.contains("rule/1"));
  EXPECT_FALSE(s.contains("rule/200"));
  for (int i = 201; i < 300; ++i) EXPECT_TRUE(s.contains(test::key_of("rule/", i))) << i;
  // The default partition lost nothing.
  EXPECT_EQ(s.partition_stats(kDefaultPartition).evictions, 0u);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).entries, 50u);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(s.contains(test::key_of("default/", i))) << i;
  EXPECT_EQ(s.stats().evictions, 200u);
  expect_partition_invariants(s);
}

TEST(StorePartition, APartitionByteLimitRefusesAndEvictsWithinIt) {
  Store s = make_lru(10000);
  const PartitionId p = s.add_partition(StoreLimits{1000, 0});
  for (int i = 0; i < 12; ++i) s.insert(p, test::key_of("p", i), nullptr, 100);
  EXPECT_EQ(s.partition_stats(p).bytes, 1000u);
  EXPECT_EQ(s.partition_stats(p).evictions, 2u);
  // Fits the store, not the partition: refused, and nothing evicted for it.
  EXPECT_FALSE(s.insert(p, "big", nullptr, 1001));
  EXPECT_EQ(s.partition_stats(p).rejected, 1u);
  EXPECT_EQ(s.partition_stats(p).evictions, 2u);
  EXPECT_TRUE(s.insert("big", nullptr, 1001));  // the default partition takes it
  expect_partition_invariants(s);
}

TEST(StorePartition, PartitionLimitsAreClampedToTheGlobalOnes) {
  Store s = make_lru(500, 3);
  const PartitionId p = s.add_partition(StoreLimits{5000, 10});
  EXPECT_FALSE(s.insert(p, "too-big", nullptr, 501));
  for (int i = 0; i < 5; ++i) s.insert(p, test::key_of("p", i), nullptr, 10);
  EXPECT_EQ(s.partition_stats(p).entries, 3u);
  EXPECT_EQ(s.partition_limits(p).max_entries, 10u);  // as given
}

TEST(StorePartition, GlobalPressureEvictsFromTheLargestPartition) {
  Store s = make_lru(1000);
  const PartitionId small = s.add_partition(StoreLimits{});
  for (int i = 0; i < 6; ++i) s.insert(test::key_of("d", i), nullptr, 100);
  for (int i = 0; i < 3; ++i) s.insert(small, test::key_of("s", i), nullptr, 100);
  // 900 + 200 > 1000: the default partition (600 bytes) pays, oldest first.
  ASSERT_TRUE(s.insert(small, "s3", nullptr, 200));
  EXPECT_FALSE(s.contains("d0"));
  EXPECT_TRUE(s.contains("d1"));
  EXPECT_EQ(s.partition_stats(kDefaultPartition).evictions, 1u);
  EXPECT_EQ(s.partition_stats(small).evictions, 0u);
  // Now default 500, small 500. Equal sizes: the lower id pays; then small is the larger one.
  ASSERT_TRUE(s.insert(small, "s4", nullptr, 100));
  EXPECT_FALSE(s.contains("d1"));
  ASSERT_TRUE(s.insert(small, "s5", nullptr, 100));
  EXPECT_FALSE(s.contains("s0"));
  EXPECT_TRUE(s.contains("d2"));
  EXPECT_EQ(s.stats().bytes, 1000u);
  expect_partition_invariants(s);
}

TEST(StorePartition, GlobalEntryPressureEvictsFromThePartitionWithMostEntries) {
  Store s = make_lru(1 << 20, 4);
  const PartitionId p = s.add_partition(StoreLimits{});
  s.insert("d0", nullptr, 1000);  // the default partition holds more bytes...
  s.insert(p, "p0", nullptr, 1);  // ...p more entries
  s.insert(p, "p1", nullptr, 1);
  s.insert(p, "p2", nullptr, 1);
  ASSERT_TRUE(s.insert("d1", nullptr, 1));
  EXPECT_TRUE(s.contains("d0"));
  EXPECT_FALSE(s.contains("p0"));
  EXPECT_EQ(s.stats().entries, 4u);
}

TEST(StorePartition, ReplaceAndEraseKeepPartitionAccountingExact) {
  Store s = make_lru(10000);
  const PartitionId a = s.add_partition(StoreLimits{0, 10});
  const PartitionId b = s.add_partition(StoreLimits{0, 10});
  auto v1 = std::make_shared<StoredResponse>();
  s.insert(a, "k", v1, 300);
  s.insert(a, "k", nullptr, 200);  // replace within a
  EXPECT_EQ(s.partition_stats(a).bytes, 200u);
  EXPECT_EQ(s.partition_stats(a).replaced, 1u);
  EXPECT_EQ(v1.use_count(), 1);
  s.insert(b, "k", nullptr, 50);  // moves to b
  EXPECT_EQ(s.partition_of("k"), static_cast<std::int64_t>(b));
  EXPECT_EQ(s.partition_stats(a).bytes, 0u);
  EXPECT_EQ(s.partition_stats(a).entries, 0u);
  EXPECT_EQ(s.partition_stats(a).replaced, 2u);
  EXPECT_EQ(s.partition_stats(b).bytes, 50u);
  s.insert("k", nullptr, 70);  // and to the default partition
  EXPECT_EQ(s.partition_stats(b).entries, 0u);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).bytes, 70u);
  EXPECT_TRUE(s.erase("k"));
  EXPECT_EQ(s.partition_stats(kDefaultPartition).erased, 1u);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).bytes, 0u);
  expect_partition_invariants(s);
}

TEST(StorePartition, ErasePartitionRemovesOnlyItsEntries) {
  Store s = make_lru(1 << 20);
  const PartitionId a = s.add_partition(StoreLimits{0, 100});
  const PartitionId b = s.add_partition(StoreLimits{0, 100});
  const std::vector<std::string> shared{"shared"};
  for (int i = 0; i < 20; ++i) {
    s.insert(a, test::key_of("a", i), nullptr, 10, shared);
    s.insert(b, test::key_of("b", i), nullptr, 10, shared);
    s.insert(test::key_of("d", i), nullptr, 10);
  }
  s.erase("a5");
  EXPECT_EQ(s.erase_partition(a), 19u);
  EXPECT_EQ(s.erase_partition(a), 0u);
  EXPECT_EQ(s.partition_stats(a).entries, 0u);
  EXPECT_EQ(s.partition_stats(a).erased, 20u);
  EXPECT_EQ(s.partition_stats(b).entries, 20u);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).entries, 20u);
  EXPECT_EQ(s.erase_tag("shared"), 20u);  // only b's are left under the tag
  // Still usable, and with its limit.
  for (int i = 0; i < 150; ++i) s.insert(a, test::key_of("a", i), nullptr, 10);
  EXPECT_EQ(s.partition_stats(a).entries, 100u);
  EXPECT_EQ(s.erase_partition(kDefaultPartition), 20u);
  expect_partition_invariants(s);
  EXPECT_THROW(s.erase_partition(3), std::out_of_range);
}

TEST(StorePartition, ClearKeepsPartitionsAndTheirLimits) {
  Store s = make_lru(1 << 20);
  const PartitionId p = s.add_partition(StoreLimits{0, 2});
  s.insert(p, "x", nullptr, 1);
  s.insert("y", nullptr, 1);
  s.clear();
  EXPECT_EQ(s.partition_count(), 2u);
  EXPECT_EQ(s.partition_stats(p).entries, 0u);
  EXPECT_EQ(s.partition_stats(p).erased, 1u);
  for (int i = 0; i < 5; ++i) s.insert(p, test::key_of("p", i), nullptr, 1);
  EXPECT_EQ(s.partition_stats(p).entries, 2u);
  EXPECT_TRUE(s.contains("p4"));
  EXPECT_FALSE(s.contains("p2"));
  expect_partition_invariants(s);
}

TEST(StorePartition, AccessWithAPartitionInsertsThereAndCountsItsHitsAndMisses) {
  Store s = make_lru(1 << 20);
  const PartitionId p = s.add_partition(StoreLimits{0, 3});
  EXPECT_EQ(s.access(p, "k", nullptr, 5), Store::Access::kInserted);
  EXPECT_EQ(s.access(p, "k", nullptr, 5), Store::Access::kHit);
  EXPECT_TRUE(s.touch("k"));
  EXPECT_EQ(s.partition_of("k"), static_cast<std::int64_t>(p));
  EXPECT_EQ(s.partition_stats(p).misses, 1u);
  EXPECT_EQ(s.partition_stats(p).hits, 2u);
  EXPECT_EQ(s.partition_stats(kDefaultPartition).hits, 0u);
  EXPECT_EQ(s.stats().hits, 2u);
  for (int i = 0; i < 5; ++i) s.access(p, test::key_of("q", i), nullptr, 5);
  EXPECT_EQ(s.partition_stats(p).entries, 3u);
}

TEST(StorePartition, SetPartitionLimitsEvictsDownToTheNewLimits) {
  Store s = make_lru(1 << 20);
  const PartitionId p = s.add_partition(StoreLimits{0, 10});
  for (int i = 0; i < 10; ++i) s.insert(p, test::key_of("p", i), nullptr, 100);
  s.touch("p0");
  s.set_partition_limits(p, StoreLimits{450, 0});
  EXPECT_EQ(s.partition_stats(p).entries, 4u);
  EXPECT_TRUE(s.contains("p0"));
  EXPECT_TRUE(s.contains("p9"));
  EXPECT_FALSE(s.contains("p1"));
  EXPECT_EQ(s.partition_limits(p).max_bytes, 450u);
  for (int i = 10; i < 20; ++i) s.insert(p, test::key_of("p", i), nullptr, 100);
  EXPECT_EQ(s.partition_stats(p).bytes, 400u);
  expect_partition_invariants(s);
}

TEST(StorePartition, EachPartitionHasItsOwnPolicyInstanceSizedToIt) {
  // S3-FIFO refuses an object of 10% or more of its capacity (see s3fifo_policy.h): a partition's
  // policy sizes itself from the partition's limit, the default one from the global limit.
  Store s(StoreLimits{100000, 0}, make_eviction_policy("s3fifo"));
  const PartitionId p = s.add_partition(StoreLimits{1000, 0});
  EXPECT_FALSE(s.insert(p, "a", nullptr, 150));
  EXPECT_EQ(s.partition_stats(p).policy_rejected, 1u);
  EXPECT_TRUE(s.insert("a", nullptr, 150));
  EXPECT_TRUE(s.insert(p, "b", nullptr, 50));
  EXPECT_EQ(s.policy_name(), "s3fifo");
}

TEST(StorePartition, AddPartitionNeedsAPolicyTheFactoryCanMake) {
  class Custom final : public EvictionPolicy {
   public:
    std::string_view name() const noexcept override { return "custom"; }
    void on_insert(SlotId, std::uint64_t, std::uint64_t) override {}
    void on_access(SlotId) override {}
    void on_erase(SlotId) override {}
    SlotId evict() override { return kNoSlot; }
    void clear() override {}
  };
  Store s(StoreLimits{1000, 0}, std::make_unique<Custom>());
  EXPECT_THROW(s.add_partition(StoreLimits{}), std::invalid_argument);
  int made = 0;
  Store f(StoreLimits{1000, 0}, [&made] {
    ++made;
    return make_eviction_policy("fifo");
  });
  EXPECT_EQ(made, 1);
  f.add_partition(StoreLimits{});
  f.add_partition(StoreLimits{});
  EXPECT_EQ(made, 3);
  EXPECT_EQ(f.policy_name(), "fifo");
  EXPECT_THROW(Store(StoreLimits{}, PolicyFactory([] { return std::unique_ptr<EvictionPolicy>(); })),
               std::invalid_argument);
}

// Naive partitioned LRU: one list per partition with its own limits, the global limits over all;
// under global pressure the victim is the LRU entry of the partition holding the most bytes (the
// most entries when only the entry limit is exceeded), the lowest id on ties.
class NaivePartitionedLru {
 public:
  struct Part {
    std::uint64_t max_bytes, max_entries;
    std::list<std::pair<std::string, std::uint64_t>> order;
    std::uint64_t bytes() const {
      std::uint64_t b = 0;
      for (const auto& e : order) b += e.second;
      return b;
    }
  };
  NaivePartitionedLru(std::uint64_t max_bytes, std::uint64_t max_entries)
      : max_bytes_(max_bytes), max_entries_(max_entries) {
    parts_.push_back(Part{max_bytes, max_entries, {}});
  }
  void add(std::uint64_t max_bytes, std::uint64_t max_entries) {
    parts_.push_back(
        Part{max_bytes ? std::min(max_bytes, max_bytes_) : max_bytes_,
             max_entries ? (max_entries_ ? std::min(max_entries, max_entries_) : max_entries) : max_entries_,
             {}});
  }
  bool touch(const std::string& k) {
    for (Part& p : parts_) {
      auto it = find(p, k);
      if (it != p.order.end()) {
        p.order.splice(p.order.begin(), p.order, it);
        return true;
      }
    }
    return false;
  }
  bool erase(const std::string& k) {
    for (Part& p : parts_) {
      auto it = find(p, k);
      if (it != p.order.end()) {
        p.order.erase(it);
        return true;
      }
    }
    return false;
  }
  void put(size_t pid, const std::string& k, std::uint64_t charge) {
    erase(k);
    Part& p = parts_[pid];
    if (charge > max_bytes_ || charge > p.max_bytes) return;
    while (p.bytes() + charge > p.max_bytes || (p.max_entries && p.order.size() + 1 > p.max_entries)) {
      p.order.pop_back();
    }
    while (true) {
      const bool by_bytes = bytes() + charge > max_bytes_;
      if (!by_bytes && !(max_entries_ && entries() + 1 > max_entries_)) break;
      Part* best = nullptr;
      for (Part& q : parts_) {
        if (q.order.empty()) continue;
        if (!best || (by_bytes ? q.bytes() > best->bytes() : q.order.size() > best->order.size())) best = &q;
      }
      best->order.pop_back();
    }
    p.order.emplace_front(k, charge);
  }
  std::uint64_t bytes() const {
    std::uint64_t b = 0;
    for (const Part& p : parts_) b += p.bytes();
    return b;
  }
  size_t entries() const {
    size_t n = 0;
    for (const Part& p : parts_) n += p.order.size();
    return n;
  }
  const Part& part(size_t i) const { return parts_[i]; }
  std::map<std::string, std::int64_t> residence() const {
    std::map<std::string, std::int64_t> out;
    for (size_t i = 0; i < parts_.size(); ++i) {
      for (const auto& e : parts_[i].order) out[e.first] = static_cast<std::int64_t>(i);
    }
    return out;
  }

 private:
  static std::list<std::pair<std::string, std::uint64_t>>::iterator find(Part& p, const std::string& k) {
    return std::find_if(p.order.begin(), p.order.end(), [&](const auto& e) { return e.first == k; });
  }
  std::uint64_t max_bytes_, max_entries_;
  std::vector<Part> parts_;
};

TEST(StorePartition, MatchesANaivePartitionedModelOnRandomOperations) {
  for (std::uint64_t global_entries : {0, 60}) {
    Store s = make_lru(8000, global_entries);
    NaivePartitionedLru ref(8000, global_entries);
    const std::vector<StoreLimits> extra = {{3000, 0}, {0, 20}, {0, 0}, {2000, 10}};
    for (const StoreLimits& l : extra) {
      s.add_partition(l);
      ref.add(l.max_bytes, l.max_entries);
    }
    std::mt19937_64 rng(global_entries + 3);
    for (int i = 0; i < 40000; ++i) {
      const std::string k = test::key_of("k", rng() % 150);
      const PartitionId pid = static_cast<PartitionId>(rng() % s.partition_count());
      switch (rng() % 10) {
        case 0:
          ASSERT_EQ(s.erase(k), ref.erase(k)) << i;
          break;
        case 1:
        case 2:
        case 3: {
          const std::uint64_t charge = 1 + rng() % 800;
          s.insert(pid, k, nullptr, charge);
          ref.put(pid, k, charge);
          break;
        }
        default:
          ASSERT_EQ(s.touch(k), ref.touch(k)) << i;
      }
      ASSERT_EQ(s.stats().bytes, ref.bytes()) << i;
      ASSERT_EQ(s.stats().entries, ref.entries()) << i;
      for (PartitionId p = 0; p < s.partition_count(); ++p) {
        const StoreStats& ps = s.partition_stats(p);
        ASSERT_EQ(ps.bytes, ref.part(p).bytes()) << i << " partition " << p;
        ASSERT_EQ(ps.entries, ref.part(p).order.size()) << i << " partition " << p;
        ASSERT_LE(ps.bytes, ref.part(p).max_bytes);
        ASSERT_EQ(ps.inserts - ps.evictions - ps.erased - ps.replaced, ps.entries);
      }
      ASSERT_LE(s.stats().bytes, 8000u);
      if (global_entries) {
        ASSERT_LE(s.stats().entries, global_entries);
      }
      if (i % 1000 == 0) {
        std::map<std::string, std::int64_t> got;
        s.for_each([&](std::string_view key, const Value&, std::uint64_t) {
          got[std::string(key)] = s.partition_of(key);
        });
        ASSERT_EQ(got, ref.residence()) << i;
      }
    }
  }
}

}  // namespace
}  // namespace cachefwd::cache::store
