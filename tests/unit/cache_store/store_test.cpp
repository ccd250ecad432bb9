// Store: full-key index, byte/entry accounting and eviction order, checked with LRU (the policy
// every build has) and against a naive reference model.
#include "cache/store/store.h"

#include <gtest/gtest.h>

#include "key_util.h"

#include <list>
#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include "cache/store/stored_response.h"

namespace cachefwd::cache::store {
namespace {

Store make_lru(std::uint64_t max_bytes, std::uint64_t max_entries = 0) {
  return Store(StoreLimits{max_bytes, max_entries}, make_eviction_policy("lru"));
}

TEST(Store, InsertThenFindReturnsTheSameValue) {
  Store s = make_lru(1000);
  auto v = std::make_shared<StoredResponse>();
  v->status = 200;
  ASSERT_TRUE(s.insert("GET http://a/", v, 100));
  EXPECT_EQ(s.find("GET http://a/"), v);
  EXPECT_EQ(s.peek("GET http://a/"), v);
  EXPECT_EQ(s.find("GET http://b/"), nullptr);
  EXPECT_EQ(s.stats().hits, 1u);
  EXPECT_EQ(s.stats().misses, 1u);
  EXPECT_EQ(s.policy_name(), "lru");
}

TEST(Store, KeysAreComparedWhole) {
  Store s = make_lru(1 << 20);
  std::string with_nul("k\0x", 3);
  std::string other_nul("k\0y", 3);
  ASSERT_TRUE(s.insert("k", nullptr, 1));
  ASSERT_TRUE(s.insert("kk", nullptr, 1));
  ASSERT_TRUE(s.insert(with_nul, nullptr, 1));
  EXPECT_TRUE(s.contains("k"));
  EXPECT_TRUE(s.contains("kk"));
  EXPECT_TRUE(s.contains(with_nul));
  EXPECT_FALSE(s.contains(other_nul));
  EXPECT_FALSE(s.contains(std::string("k\0", 2)));
  EXPECT_FALSE(s.contains(""));
  EXPECT_EQ(s.stats().entries, 3u);
}

TEST(Store, LruEvictsLeastRecentlyUsedByBytes) {
  Store s = make_lru(300);
  s.insert("a", nullptr, 100);
  s.insert("b", nullptr, 100);
  s.insert("c", nullptr, 100);
  EXPECT_TRUE(s.touch("a"));  // b is now the least recently used
  ASSERT_TRUE(s.insert("d", nullptr, 100));
  EXPECT_TRUE(s.contains("a"));
  EXPECT_FALSE(s.contains("b"));
  EXPECT_TRUE(s.contains("c"));
  EXPECT_TRUE(s.contains("d"));
  EXPECT_EQ(s.stats().evictions, 1u);
  EXPECT_EQ(s.stats().bytes, 300u);
}

TEST(Store, PeekAndContainsDoNotPromote) {
  Store s = make_lru(200);
  s.insert("a", nullptr, 100);
  s.insert("b", nullptr, 100);
  EXPECT_EQ(s.peek("a"), nullptr);
  EXPECT_TRUE(s.contains("a"));
  s.insert("c", nullptr, 100);
  EXPECT_FALSE(s.contains("a"));
  EXPECT_TRUE(s.contains("b"));
}

TEST(Store, EvictsUntilALargeEntryFits) {
  Store s = make_lru(1000);
  for (int i = 0; i < 10; ++i) s.insert(test::key_of("k", i), nullptr, 100);
  ASSERT_TRUE(s.insert("big", nullptr, 750));
  // 750 + 100*n <= 1000 leaves the two most recent small entries.
  EXPECT_EQ(s.stats().entries, 3u);
  EXPECT_EQ(s.stats().evictions, 8u);
  EXPECT_EQ(s.stats().bytes, 950u);
  EXPECT_TRUE(s.contains("k8"));
  EXPECT_TRUE(s.contains("k9"));
  EXPECT_FALSE(s.contains("k7"));
}

TEST(Store, EntryLimitHoldsToo) {
  Store s = make_lru(1 << 20, 3);
  for (int i = 0; i < 5; ++i) s.insert(test::key_of("k", i), nullptr, 10);
  EXPECT_EQ(s.stats().entries, 3u);
  EXPECT_EQ(s.stats().bytes, 30u);
  EXPECT_FALSE(s.contains("k1"));
  EXPECT_TRUE(s.contains("k2"));
  EXPECT_EQ(s.stats().evictions, 2u);
}

TEST(Store, BothLimitsHoldAfterEveryInsert) {
  Store s = make_lru(500, 4);
  s.insert("a", nullptr, 100);
  s.insert("b", nullptr, 100);
  s.insert("c", nullptr, 100);
  s.insert("d", nullptr, 100);  // entries now at the limit, bytes 400
  s.insert("e", nullptr, 250);  // bytes need two evictions (a, b), entries only one
  EXPECT_FALSE(s.contains("a"));
  EXPECT_FALSE(s.contains("b"));
  EXPECT_EQ(s.stats().entries, 3u);
  EXPECT_EQ(s.stats().bytes, 450u);
}

TEST(Store, ReplacingAKeyKeepsAccountingExact) {
  Store s = make_lru(1000);
  auto v1 = std::make_shared<StoredResponse>();
  auto v2 = std::make_shared<StoredResponse>();
  s.insert("a", v1, 400);
  s.insert("b", nullptr, 100);
  ASSERT_TRUE(s.insert("a", v2, 250));
  EXPECT_EQ(s.stats().bytes, 350u);
  EXPECT_EQ(s.stats().entries, 2u);
  EXPECT_EQ(s.stats().replaced, 1u);
  EXPECT_EQ(s.stats().inserts, 3u);
  EXPECT_EQ(s.peek("a"), v2);
  EXPECT_EQ(v1.use_count(), 1);  // the store let go of the superseded response
  // The replacement counts as most recent: b goes first.
  s.insert("c", nullptr, 700);
  EXPECT_FALSE(s.contains("b"));
  EXPECT_TRUE(s.contains("a"));
}

TEST(Store, ReplacingWithABiggerValueEvictsOthersNotItself) {
  Store s = make_lru(300);
  s.insert("a", nullptr, 100);
  s.insert("b", nullptr, 100);
  s.insert("c", nullptr, 100);
  ASSERT_TRUE(s.insert("a", nullptr, 250));
  EXPECT_TRUE(s.contains("a"));
  EXPECT_FALSE(s.contains("b"));
  EXPECT_FALSE(s.contains("c"));
  EXPECT_EQ(s.stats().bytes, 250u);
  EXPECT_EQ(s.stats().entries, 1u);
}

TEST(Store, RejectsAChargeAboveMaxBytesAndDropsTheOldValue) {
  Store s = make_lru(1000);
  s.insert("a", nullptr, 100);
  s.insert("b", nullptr, 100);
  EXPECT_FALSE(s.insert("b", nullptr, 1001));
  EXPECT_EQ(s.stats().rejected, 1u);
  EXPECT_FALSE(s.contains("b"));
  EXPECT_TRUE(s.contains("a"));  // nothing was evicted for an entry that cannot fit
  EXPECT_EQ(s.stats().evictions, 0u);
  EXPECT_EQ(s.stats().bytes, 100u);
  EXPECT_TRUE(s.insert("c", nullptr, 900));  // exactly max_bytes in total is allowed
  EXPECT_EQ(s.stats().bytes, 1000u);
}

TEST(Store, ZeroMaxBytesStoresNothing) {
  Store s = make_lru(0);
  EXPECT_FALSE(s.insert("a", nullptr, 0));
  EXPECT_FALSE(s.insert("b", nullptr, 1));
  EXPECT_EQ(s.stats().entries, 0u);
  EXPECT_EQ(s.stats().rejected, 2u);
}

TEST(Store, EraseAndClear) {
  Store s = make_lru(1000);
  auto v = std::make_shared<StoredResponse>();
  s.insert("a", v, 10);
  s.insert("b", nullptr, 20);
  EXPECT_TRUE(s.erase("a"));
  EXPECT_FALSE(s.erase("a"));
  EXPECT_EQ(v.use_count(), 1);
  EXPECT_EQ(s.stats().bytes, 20u);
  EXPECT_EQ(s.stats().erased, 1u);
  s.clear();
  EXPECT_EQ(s.stats().bytes, 0u);
  EXPECT_EQ(s.stats().entries, 0u);
  EXPECT_FALSE(s.contains("b"));
  // Usable after clear, with eviction still in order.
  s.insert("x", nullptr, 600);
  s.insert("y", nullptr, 600);
  EXPECT_FALSE(s.contains("x"));
  EXPECT_TRUE(s.contains("y"));
}

TEST(Store, EvictionReleasesTheValue) {
  Store s = make_lru(100);
  auto v = std::make_shared<StoredResponse>();
  s.insert("a", v, 100);
  EXPECT_EQ(v.use_count(), 2);
  s.insert("b", nullptr, 100);
  EXPECT_EQ(v.use_count(), 1);
}

TEST(Store, IndexSurvivesHeavyChurn) {
  // Many inserts and erases through table growth exercise backward-shift deletion; every resident
  // key must stay findable and every erased one gone.
  Store s = make_lru(1ULL << 40);
  std::mt19937_64 rng(7);
  std::map<std::string, bool> model;
  for (int i = 0; i < 60000; ++i) {
    std::string k = test::key_of("key/", rng() % 5000);
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.erase(k), model.erase(k) == 1);
    } else {
      s.insert(k, nullptr, 1);
      model[k] = true;
    }
  }
  EXPECT_EQ(s.stats().entries, model.size());
  for (int i = 0; i < 5000; ++i) {
    std::string k = test::key_of("key/", i);
    EXPECT_EQ(s.contains(k), model.count(k) == 1) << k;
  }
}

// A deliberately naive LRU cache: list + map, charges in bytes, both limits.
class NaiveLru {
 public:
  NaiveLru(std::uint64_t max_bytes, std::uint64_t max_entries)
      : max_bytes_(max_bytes), max_entries_(max_entries) {}
  bool get(const std::string& k) {
    auto it = pos_.find(k);
    if (it == pos_.end()) return false;
    order_.splice(order_.begin(), order_, it->second);
    return true;
  }
  void put(const std::string& k, std::uint64_t charge) {
    if (auto it = pos_.find(k); it != pos_.end()) {
      bytes_ -= it->second->second;
      order_.erase(it->second);
      pos_.erase(it);
    }
    if (charge > max_bytes_) return;
    while (bytes_ + charge > max_bytes_ || (max_entries_ && pos_.size() + 1 > max_entries_)) {
      bytes_ -= order_.back().second;
      pos_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(k, charge);
    pos_[k] = order_.begin();
    bytes_ += charge;
  }
  bool erase(const std::string& k) {
    auto it = pos_.find(k);
    if (it == pos_.end()) return false;
    bytes_ -= it->second->second;
    order_.erase(it->second);
    pos_.erase(it);
    return true;
  }
  std::uint64_t bytes() const { return bytes_; }
  size_t entries() const { return pos_.size(); }
  bool has(const std::string& k) const { return pos_.count(k) == 1; }

 private:
  std::uint64_t max_bytes_, max_entries_, bytes_ = 0;
  std::list<std::pair<std::string, std::uint64_t>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, std::uint64_t>>::iterator> pos_;
};

TEST(Store, LruMatchesANaiveModelOnRandomOperations) {
  for (std::uint64_t max_entries : {0, 50}) {
    Store s = make_lru(20000, max_entries);
    NaiveLru ref(20000, max_entries);
    std::mt19937_64 rng(max_entries + 1);
    for (int i = 0; i < 200000; ++i) {
      // Zipf-ish skew: small ids are hot.
      std::uint64_t r = rng() % 1000;
      std::string k = test::key_of("o", r * r / 1000);
      switch (rng() % 10) {
        case 0:
          ASSERT_EQ(s.erase(k), ref.erase(k));
          break;
        case 1: {
          std::uint64_t charge = 1 + rng() % 3000;
          s.insert(k, nullptr, charge);
          ref.put(k, charge);
          break;
        }
        default:
          if (!s.touch(k)) {
            ASSERT_FALSE(ref.get(k)) << i;
            std::uint64_t charge = 1 + rng() % 3000;
            ASSERT_TRUE(s.insert(k, nullptr, charge));
            ref.put(k, charge);
          } else {
            ASSERT_TRUE(ref.get(k)) << i;
          }
      }
      ASSERT_EQ(s.stats().bytes, ref.bytes()) << i;
      ASSERT_EQ(s.stats().entries, ref.entries()) << i;
      ASSERT_LE(s.stats().bytes, 20000u);
      ASSERT_EQ(s.stats().inserts - s.stats().evictions - s.stats().erased - s.stats().replaced,
                s.stats().entries);
      if (max_entries) {
        ASSERT_LE(s.stats().entries, max_entries);
      }
    }
  }
}

}  // namespace
}  // namespace cachefwd::cache::store
