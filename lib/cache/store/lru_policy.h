#pragma once
// Least recently used: a hit moves the entry to the head, victims come from the tail.
#include "cache/store/eviction_policy.h"
#include "cache/store/slot_list.h"

namespace cachefwd::cache::store {

class LruPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const noexcept override { return "lru"; }
  void on_insert(SlotId id, std::uint64_t key_hash, std::uint64_t charge) override;
  void on_access(SlotId id) override { list_.move_to_front(links_, id); }
  void on_erase(SlotId id) override { list_.remove(links_, id); }
  SlotId evict() override { return list_.pop_back(links_); }
  void clear() override;

 private:
  SlotLinks links_;
  SlotList list_;
};

}  // namespace cachefwd::cache::store
