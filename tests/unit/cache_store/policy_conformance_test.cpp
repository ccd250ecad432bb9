// Properties every eviction policy must have, run over every name the factory knows: a policy is
// a bookkeeping structure over slot ids and must never lose, invent or repeat one.
#include <gtest/gtest.h>

#include "key_util.h"

#include <map>
#include <random>
#include <set>
#include <string>

#include "cache/store/eviction_policy.h"
#include "cache/store/store.h"

namespace cachefwd::cache::store {
namespace {

class PolicyConformance : public ::testing::TestWithParam<std::string_view> {
 protected:
  std::unique_ptr<EvictionPolicy> make() {
    auto p = make_eviction_policy(GetParam());
    EXPECT_NE(p, nullptr);
    return p;
  }
};

TEST_P(PolicyConformance, NameRoundTrips) { EXPECT_EQ(make()->name(), GetParam()); }

TEST_P(PolicyConformance, EmptyPolicyHasNoVictim) {
  auto p = make();
  p->set_capacity(1000, 0);
  EXPECT_EQ(p->evict(), kNoSlot);
}

TEST_P(PolicyConformance, EvictsEveryInsertedIdExactlyOnce) {
  auto p = make();
  p->set_capacity(1000, 0);
  std::set<SlotId> resident;
  for (SlotId id = 0; id < 50; ++id) {
    ASSERT_TRUE(p->admit(id * 7919, 10));
    p->on_insert(id, id * 7919, 10);
    resident.insert(id);
  }
  for (SlotId id = 0; id < 50; id += 3) p->on_access(id);
  for (SlotId id = 0; id < 50; id += 5) p->on_access(id);
  std::set<SlotId> seen;
  for (int i = 0; i < 50; ++i) {
    SlotId v = p->evict();
    ASSERT_NE(v, kNoSlot) << "lost an entry after " << i << " evictions";
    EXPECT_TRUE(resident.count(v)) << v;
    EXPECT_TRUE(seen.insert(v).second) << "evicted twice: " << v;
  }
  EXPECT_EQ(p->evict(), kNoSlot);
}

TEST_P(PolicyConformance, ErasedIdsAreNeverVictims) {
  auto p = make();
  p->set_capacity(1000, 0);
  for (SlotId id = 0; id < 20; ++id) {
    p->admit(id, 10);
    p->on_insert(id, id, 10);
  }
  for (SlotId id = 0; id < 20; id += 2) p->on_erase(id);
  std::set<SlotId> seen;
  for (SlotId v = p->evict(); v != kNoSlot; v = p->evict()) {
    EXPECT_EQ(v % 2, 1u) << v;
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST_P(PolicyConformance, ClearForgetsEverything) {
  auto p = make();
  p->set_capacity(1000, 0);
  for (SlotId id = 0; id < 10; ++id) {
    p->admit(id, 10);
    p->on_insert(id, id, 10);
  }
  p->clear();
  EXPECT_EQ(p->evict(), kNoSlot);
  p->admit(3, 10);
  p->on_insert(3, 3, 10);  // ids are reusable after clear
  EXPECT_EQ(p->evict(), 3u);
  EXPECT_EQ(p->evict(), kNoSlot);
}

TEST_P(PolicyConformance, StoreKeepsLimitsAndExactAccountingUnderRandomLoad) {
  for (std::uint64_t max_entries : {0, 40}) {
    Store s(StoreLimits{100000, max_entries}, make());
    EXPECT_EQ(s.policy_name(), GetParam());
    std::map<std::string, std::uint64_t> charges;  // what we inserted last per key
    std::mt19937_64 rng(42);
    for (int i = 0; i < 100000; ++i) {
      std::uint64_t r = rng() % 2000;
      std::string k = test::key_of("k", r * r / 2000);
      std::uint64_t charge = 1 + rng() % 2000;  // below 10% of max_bytes: every policy admits it
      if (rng() % 20 == 0) {
        s.erase(k);
      } else if (!s.touch(k)) {
        ASSERT_TRUE(s.insert(k, nullptr, charge)) << i;
        charges[k] = charge;
      }
      ASSERT_LE(s.stats().bytes, 100000u);
      if (max_entries) {
        ASSERT_LE(s.stats().entries, max_entries);
      }
    }
    std::uint64_t bytes = 0, entries = 0;
    for (const auto& [k, c] : charges) {
      if (s.contains(k)) {
        bytes += c;
        ++entries;
      }
    }
    EXPECT_EQ(bytes, s.stats().bytes);
    EXPECT_EQ(entries, s.stats().entries);
    EXPECT_EQ(s.stats().inserts - s.stats().evictions - s.stats().erased, s.stats().entries);
    EXPECT_GT(s.stats().hits, 0u);
    EXPECT_GT(s.stats().evictions, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyConformance, ::testing::ValuesIn(eviction_policy_names()),
                         [](const auto& info) {
                           std::string n(info.param);  // gtest names allow [A-Za-z0-9_] only
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(PolicyFactory, UnknownNameGivesNull) {
  EXPECT_EQ(make_eviction_policy("arc"), nullptr);
  EXPECT_EQ(make_eviction_policy(""), nullptr);
  EXPECT_EQ(make_eviction_policy("LRU"), nullptr);
}

TEST(PolicyFactory, EveryListedNameIsConstructible) {
  auto names = eviction_policy_names();
  EXPECT_FALSE(names.empty());
  for (auto n : names) EXPECT_NE(make_eviction_policy(n), nullptr) << n;
}

}  // namespace
}  // namespace cachefwd::cache::store
