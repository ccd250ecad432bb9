// Policy-specific behaviour, driven through the EvictionPolicy call protocol with a tiny harness
// (ids double as keys) or through the Store. Expected orders are worked out from the algorithm
// descriptions in the papers (SIEVE, NSDI'24; S3-FIFO, SOSP'23), not read off the code.
#include <gtest/gtest.h>

#include "key_util.h"

#include <map>
#include <vector>

#include "cache/store/eviction_policy.h"
#include "cache/store/s3fifo_policy.h"
#include "cache/store/store.h"

namespace cachefwd::cache::store {
namespace {

// Follows the Store's protocol: admit, evict until the new entry fits, on_insert.
class Harness {
 public:
  Harness(std::unique_ptr<EvictionPolicy> p, std::uint64_t capacity) : p_(std::move(p)), cap_(capacity) {
    p_->set_capacity(capacity, 0);
  }
  // Returns the ids evicted to make room; the entry must be admitted.
  std::vector<SlotId> insert(SlotId id, std::uint64_t charge = 100) {
    auto r = try_insert(id, charge);
    if (!r) {
      ADD_FAILURE() << "policy refused id " << id;
      return {};
    }
    return *r;
  }
  // Returns the ids evicted to make room, or nullopt when the policy refused the entry.
  std::optional<std::vector<SlotId>> try_insert(SlotId id, std::uint64_t charge = 100) {
    if (!p_->admit(hash(id), charge)) return std::nullopt;
    std::vector<SlotId> evicted;
    while (used_ + charge > cap_) {
      const SlotId v = p_->evict();
      EXPECT_NE(v, kNoSlot);
      if (v == kNoSlot) break;
      used_ -= charge_[v];
      charge_.erase(v);
      evicted.push_back(v);
    }
    p_->on_insert(id, hash(id), charge);
    charge_[id] = charge;
    used_ += charge;
    return evicted;
  }
  void hit(SlotId id, int times = 1) {
    for (int i = 0; i < times; ++i) p_->on_access(id);
  }
  bool resident(SlotId id) const { return charge_.count(id) == 1; }
  EvictionPolicy& policy() { return *p_; }
  static std::uint64_t hash(SlotId id) { return 0x9e3779b97f4a7c15ULL * (id + 1); }

 private:
  std::unique_ptr<EvictionPolicy> p_;
  std::uint64_t cap_;
  std::uint64_t used_ = 0;
  std::map<SlotId, std::uint64_t> charge_;
};

using Ids = std::vector<SlotId>;

TEST(FifoPolicy, HitsDoNotProtect) {
  Harness h(make_eviction_policy("fifo"), 300);
  h.insert(0);
  h.insert(1);
  h.insert(2);
  h.hit(0, 5);
  EXPECT_EQ(h.insert(3), Ids{0});
  EXPECT_EQ(h.insert(4), Ids{1});
}

TEST(LruPolicy, HitMovesToTheHead) {
  Harness h(make_eviction_policy("lru"), 300);
  h.insert(0);
  h.insert(1);
  h.insert(2);
  h.hit(0);
  EXPECT_EQ(h.insert(3), Ids{1});
  EXPECT_EQ(h.insert(4), Ids{2});
  EXPECT_EQ(h.insert(5), Ids{0});
}

TEST(SievePolicy, HandSkipsVisitedEntriesAndStaysWhereItStopped) {
  Harness h(make_eviction_policy("sieve"), 400);
  for (SlotId i = 0; i < 4; ++i) h.insert(i);  // queue, tail→head: 0 1 2 3
  h.hit(0);
  h.hit(2);
  // Hand starts at the tail: 0 is visited (cleared, kept), 1 is not → evicted; hand now at 2.
  EXPECT_EQ(h.insert(4), Ids{1});
  // 2 is visited (cleared), 3 is not → evicted; the hand moves on to 4, not back to the tail.
  EXPECT_EQ(h.insert(5), Ids{3});
  // Hand at 4, the newest but one: unvisited → evicted. New entries sit at the head, so the hand
  // reaches them before it wraps.
  EXPECT_EQ(h.insert(6), Ids{4});
  EXPECT_EQ(h.insert(7), Ids{5});  // queue now 0 2 6 7, hand at 6
  h.hit(6);
  h.hit(7);
  // 6 and 7 visited (cleared), past the head the hand wraps to the tail, where 0's bit was
  // cleared on the first pass → 0 evicted; then 2 likewise.
  EXPECT_EQ(h.insert(8), Ids{0});
  EXPECT_EQ(h.insert(9), Ids{2});
  EXPECT_EQ(h.insert(10), Ids{6});
}

TEST(SievePolicy, ErasingTheEntryUnderTheHandMovesTheHand) {
  Harness h(make_eviction_policy("sieve"), 400);
  for (SlotId i = 0; i < 4; ++i) h.insert(i);
  h.hit(1);
  EXPECT_EQ(h.insert(4), Ids{0});  // hand now at 1
  h.policy().on_erase(1);          // hand must move to 2, never dangle on a freed id
  EXPECT_EQ(h.policy().evict(), 2u);
}

TEST(S3FifoPolicy, OneHitWondersLeaveThroughTheSmallQueueToTheGhost) {
  auto owned = std::make_unique<S3FifoPolicy>();
  S3FifoPolicy* p = owned.get();
  Harness h(std::move(owned), 1000);  // small 100 bytes, main 900
  EXPECT_EQ(p->small_capacity_bytes(), 100u);
  for (SlotId i = 0; i < 10; ++i) h.insert(i, 99);  // as published: all start in small
  for (SlotId i = 0; i < 10; ++i) EXPECT_FALSE(p->in_main(i));
  h.hit(0, 2);  // reaches the move-to-main threshold (2)
  h.hit(1, 1);  // below it
  // Small's tail 0 moves to main (no eviction), then 1 is evicted and remembered by the ghost.
  EXPECT_EQ(h.insert(10, 99), Ids{1});
  EXPECT_TRUE(p->in_main(0));
  EXPECT_EQ(p->ghost_entries(), 1u);
  // A ghost hit goes straight to main; room is made from small (main is within its share).
  EXPECT_EQ(h.insert(1, 99), Ids{2});
  EXPECT_TRUE(p->in_main(1));
  EXPECT_EQ(p->ghost_entries(), 1u);  // 1 left the ghost, 2 entered it
}

TEST(S3FifoPolicy, ScanDoesNotFlushMain) {
  Harness h(std::make_unique<S3FifoPolicy>(), 1000);
  for (SlotId i = 0; i < 10; ++i) h.insert(i, 99);
  h.hit(0, 2);
  h.hit(1, 2);
  h.insert(10, 99);                                    // 0 and 1 promoted, 2 evicted
  for (SlotId i = 100; i < 400; ++i) h.insert(i, 99);  // a long scan of one-hit objects
  EXPECT_TRUE(h.resident(0));
  EXPECT_TRUE(h.resident(1));

  Harness lru(make_eviction_policy("lru"), 1000);
  for (SlotId i = 0; i < 10; ++i) lru.insert(i, 99);
  lru.hit(0, 2);
  for (SlotId i = 100; i < 400; ++i) lru.insert(i, 99);
  EXPECT_FALSE(lru.resident(0));  // the contrast: LRU loses it to the scan
}

TEST(S3FifoPolicy, MainIsAClockThatSparesRecentlyUsedEntries) {
  auto owned = std::make_unique<S3FifoPolicy>();
  S3FifoPolicy* p = owned.get();
  Harness h(std::move(owned), 1000);
  for (SlotId i = 0; i < 10; ++i) h.insert(i, 99);
  for (SlotId i = 0; i < 9; ++i) h.hit(i, 2);
  EXPECT_EQ(h.insert(10, 99), Ids{9});  // 0..8 move to main (freq reset), 9 evicted → ghost
  for (SlotId i = 0; i < 9; ++i) EXPECT_TRUE(p->in_main(i));
  h.hit(0, 5);                          // counter saturates at 3
  EXPECT_EQ(h.insert(9, 99), Ids{10});  // ghost hit: room from small (10), 9 goes to main
  EXPECT_EQ(p->main_bytes(), 990u);     // main now over its 900-byte share
  // Eviction from main: tail 0 has freq >= 1 → reinserted at the head with freq - 1; 1 evicted.
  EXPECT_EQ(h.insert(11, 99), Ids{1});
  EXPECT_TRUE(h.resident(0));
}

TEST(S3FifoPolicy, LargeObjectsAreRefusedUnlessTheGhostRemembersThem) {
  S3FifoPolicy p;
  p.set_capacity(1000, 0);  // small queue: 100 bytes
  EXPECT_TRUE(p.admit(1, 99));
  EXPECT_FALSE(p.admit(2, 100));  // would fill the whole small queue
  EXPECT_FALSE(p.admit(3, 101));  // larger than the small queue's share: always refused
  EXPECT_FALSE(p.admit(4, 1000));

  // Through the Store: a 150-byte object in a 1000-byte store is refused by S3-FIFO, stored by LRU.
  Store s3(StoreLimits{1000, 0}, make_eviction_policy("s3fifo"));
  EXPECT_FALSE(s3.insert("big", nullptr, 150));
  EXPECT_EQ(s3.stats().policy_rejected, 1u);
  EXPECT_FALSE(s3.contains("big"));
  Store lru(StoreLimits{1000, 0}, make_eviction_policy("lru"));
  EXPECT_TRUE(lru.insert("big", nullptr, 150));
}

TEST(S3FifoPolicy, AGhostHitAdmitsAnObjectOfExactlyTheSmallShareIntoMain) {
  Harness h(std::make_unique<S3FifoPolicy>(), 1000);
  for (SlotId i = 0; i < 12; ++i) h.insert(i, 90);  // the 12th evicts 0 from small into the ghost
  EXPECT_FALSE(h.resident(0));
  EXPECT_TRUE(h.try_insert(0, 100).has_value());    // same key, now 100 bytes: admitted via the ghost
  EXPECT_FALSE(h.try_insert(50, 100).has_value());  // a new key of that size is not
}

TEST(S3FifoPolicy, WarmVariantSendsNewKeysToMainWhileSmallIsFullBeforeTheFirstEviction) {
  auto warm_owned = make_eviction_policy("s3fifo-warm");
  auto* warm = dynamic_cast<S3FifoPolicy*>(warm_owned.get());
  ASSERT_NE(warm, nullptr);
  Harness w(std::move(warm_owned), 1000);
  auto pub_owned = std::make_unique<S3FifoPolicy>();
  S3FifoPolicy* pub = pub_owned.get();
  Harness p(std::move(pub_owned), 1000);
  for (SlotId i = 0; i < 3; ++i) {
    w.insert(i, 60);
    p.insert(i, 60);
  }
  EXPECT_FALSE(warm->in_main(0));  // small was empty
  EXPECT_FALSE(warm->in_main(1));  // small held 60 < 100
  EXPECT_TRUE(warm->in_main(2));   // small held 120 >= 100
  EXPECT_FALSE(pub->in_main(2));   // the published algorithm always uses small
}

TEST(S3FifoPolicy, EntryLimitSizesTheQueuesToo) {
  // With an entry limit the small queue holds 10% of the entries as well.
  Store s(StoreLimits{1ULL << 30, 20}, make_eviction_policy("s3fifo"));
  for (int i = 0; i < 20; ++i) s.insert(test::key_of("k", i), nullptr, 1);
  EXPECT_TRUE(s.touch("k0"));
  EXPECT_TRUE(s.touch("k0"));
  for (int i = 20; i < 200; ++i) s.insert(test::key_of("k", i), nullptr, 1);
  EXPECT_TRUE(s.contains("k0"));
  EXPECT_EQ(s.stats().entries, 20u);
}

}  // namespace
}  // namespace cachefwd::cache::store
