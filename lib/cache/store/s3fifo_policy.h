#pragma once
// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP'23), built as
// libCacheSim builds it (libCacheSim/cache/eviction/S3FIFO.c) so that a simulation reproduces the
// published miss counts (shared/traces/ANCHORS.md §1a):
//   - a small FIFO holding 10% of the capacity, a main FIFO holding the rest, and a ghost FIFO of
//     recently evicted keys (hashes only) sized at 90% of the capacity, all in bytes (and in
//     entries too when the caller has an entry limit);
//   - a hit increments a frequency counter capped at 3 and moves nothing;
//   - a new key goes to the small queue, or straight to main when the ghost remembers it;
//   - eviction takes from main when main is over its share or small is empty, else from small;
//     a small-queue tail with freq >= move_to_main_threshold (2) moves to main with freq 0,
//     otherwise it is evicted and its hash enters the ghost; a main-queue tail with freq >= 1 is
//     reinserted at the head with freq - 1 (a 2-bit CLOCK), otherwise evicted.
//   - "s3fifo" is the algorithm as published (SOSP'23; libCacheSim's S3FIFO.c until Dec 2024, now
//     S3FIFOv0.c); it reproduces ANCHORS.md §1a exactly. "s3fifo-warm" is libCacheSim's current
//     S3FIFO.c (since Dec 2024): before the first eviction, a new key goes to main once small is
//     full (`insert_to_main_while_warming`); it reproduces that version's test fixture exactly.
//
// Objects large relative to the cache: an object that does not fit the small queue (charge >=
// 10% of max_bytes) is refused by admit() unless the ghost remembers its key, in which case it
// goes to main; a charge above the small queue's share is always refused. This is libCacheSim's
// rule (a one-hit wonder that size would flush the whole small queue). Unlike libCacheSim we
// refuse before evicting anything for it. The proxy should therefore keep its per-object size cap
// below 10% of the store, or pick another policy for stores of a few large objects.
#include <cstdint>
#include <vector>

#include "cache/store/eviction_policy.h"
#include "cache/store/flat_hash_map.h"
#include "cache/store/slot_list.h"

namespace cachefwd::cache::store {

struct S3FifoOptions {
  double small_ratio = 0.10;
  double ghost_ratio = 0.90;
  int move_to_main_threshold = 2;
  bool insert_to_main_while_warming = false;
};

class S3FifoPolicy final : public EvictionPolicy {
 public:
  explicit S3FifoPolicy(S3FifoOptions options = {}) : options_(options) {}

  std::string_view name() const noexcept override {
    return options_.insert_to_main_while_warming ? "s3fifo-warm" : "s3fifo";
  }
  void set_capacity(std::uint64_t max_bytes, std::uint64_t max_entries) override;
  bool admit(std::uint64_t key_hash, std::uint64_t charge) override;
  void on_insert(SlotId id, std::uint64_t key_hash, std::uint64_t charge) override;
  void on_access(SlotId id) override {
    if (meta_[id].freq < 3) ++meta_[id].freq;
  }
  void on_erase(SlotId id) override;
  SlotId evict() override;
  void clear() override;

  // For tests: where a resident id lives, and sizes of the queues.
  bool in_main(SlotId id) const { return meta_[id].queue == kMain; }
  std::uint64_t small_bytes() const { return small_bytes_; }
  std::uint64_t main_bytes() const { return main_bytes_; }
  std::uint64_t small_capacity_bytes() const { return small_cap_bytes_; }
  std::uint64_t ghost_entries() const { return ghost_.entries(); }

 private:
  enum : std::uint8_t { kNone = 0, kSmall = 1, kMain = 2 };
  struct Meta {
    std::uint64_t hash = 0;
    std::uint64_t charge = 0;
    std::uint8_t freq = 0;
    std::uint8_t queue = kNone;
  };

  // FIFO of evicted key hashes with byte (and entry) capacity; a lookup that finds a hash removes
  // it. A removed item stays in the ring until it reaches the front, where it is recognised as
  // stale because the index no longer maps its hash to its sequence number.
  class Ghost {
   public:
    void set_capacity(std::uint64_t bytes, std::uint64_t entries) {
      cap_bytes_ = bytes;
      cap_entries_ = entries;
    }
    bool remove(std::uint64_t hash);
    void insert(std::uint64_t hash, std::uint64_t charge);
    void clear();
    std::uint64_t entries() const { return index_.size(); }

   private:
    struct Item {
      std::uint64_t hash;
      std::uint64_t charge;
    };
    Item& at(std::uint64_t seq) { return ring_[seq & (ring_.size() - 1)]; }
    void pop_front();
    void compact();
    std::vector<Item> ring_ = std::vector<Item>(16);  // power-of-two ring indexed by sequence number
    std::uint64_t front_seq_ = 0, end_seq_ = 0;
    FlatHashMap64 index_;  // hash -> sequence number of its live item
    std::uint64_t bytes_ = 0;
    std::uint64_t cap_bytes_ = 0;
    std::uint64_t cap_entries_ = 0;
  };

  bool small_full() const;
  bool main_over() const;
  void push_small(SlotId id);
  void push_main(SlotId id);

  S3FifoOptions options_;
  SlotLinks links_;
  SlotList small_, main_;
  std::vector<Meta> meta_;
  Ghost ghost_;
  std::uint64_t small_bytes_ = 0, main_bytes_ = 0;
  std::uint64_t small_cap_bytes_ = 0, main_cap_bytes_ = 0;
  std::uint64_t small_cap_entries_ = 0, main_cap_entries_ = 0;  // 0 = no entry limit
  bool has_evicted_ = false;
  bool pending_ghost_hit_ = false;
};

}  // namespace cachefwd::cache::store
