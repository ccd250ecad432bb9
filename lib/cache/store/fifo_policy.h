#pragma once
// First in, first out: hits change nothing; victims in insertion order.
#include "cache/store/eviction_policy.h"
#include "cache/store/slot_list.h"

namespace cachefwd::cache::store {

class FifoPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const noexcept override { return "fifo"; }
  void on_insert(SlotId id, std::uint64_t /*key_hash*/, std::uint64_t /*charge*/) override {
    links_.ensure(id);
    list_.push_front(links_, id);
  }
  void on_access(SlotId /*id*/) override {}
  void on_erase(SlotId id) override { list_.remove(links_, id); }
  SlotId evict() override { return list_.pop_back(links_); }
  void clear() override {
    list_.clear();
    links_.clear();
  }

 private:
  SlotLinks links_;
  SlotList list_;
};

}  // namespace cachefwd::cache::store
