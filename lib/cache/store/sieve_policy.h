#pragma once
// SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI'24): one FIFO queue, a visited bit per
// entry and a hand. A hit only sets the bit (no list move, which is what makes it cheap). Eviction
// walks the hand from the tail towards the head, clearing visited bits, and evicts the first
// unvisited entry; the hand stays where it stopped (at the evicted entry's newer neighbour) and
// wraps to the tail past the head. New entries go to the head, so they are examined last.
//
// Objects large relative to the cache: SIEVE has no size logic; the Store admits anything up to
// max_bytes and evicts as many entries as needed.
#include <vector>

#include "cache/store/eviction_policy.h"
#include "cache/store/slot_list.h"

namespace cachefwd::cache::store {

class SievePolicy final : public EvictionPolicy {
 public:
  std::string_view name() const noexcept override { return "sieve"; }
  void on_insert(SlotId id, std::uint64_t key_hash, std::uint64_t charge) override;
  void on_access(SlotId id) override { visited_[id] = 1; }
  void on_erase(SlotId id) override;
  SlotId evict() override;
  void clear() override;

 private:
  SlotLinks links_;
  SlotList list_;
  std::vector<std::uint8_t> visited_;
  SlotId hand_ = kNoSlot;  // kNoSlot = start from the tail
};

}  // namespace cachefwd::cache::store
