#include "cache/store/sieve_policy.h"

namespace cachefwd::cache::store {

void SievePolicy::on_insert(SlotId id, std::uint64_t /*key_hash*/, std::uint64_t /*charge*/) {
  links_.ensure(id);
  if (id >= visited_.size()) visited_.resize(static_cast<size_t>(id) + 1 + visited_.size() / 2);
  visited_[id] = 0;
  list_.push_front(links_, id);
}

void SievePolicy::on_erase(SlotId id) {
  if (hand_ == id) hand_ = links_[id].prev;
  list_.remove(links_, id);
}

SlotId SievePolicy::evict() {
  if (list_.empty()) return kNoSlot;
  SlotId id = hand_ == kNoSlot ? list_.tail() : hand_;
  // Terminates: each step clears a bit, so within one lap an unvisited entry appears.
  while (visited_[id]) {
    visited_[id] = 0;
    id = links_[id].prev == kNoSlot ? list_.tail() : links_[id].prev;
  }
  hand_ = links_[id].prev;
  list_.remove(links_, id);
  return id;
}

void SievePolicy::clear() {
  list_.clear();
  links_.clear();
  visited_.clear();
  hand_ = kNoSlot;
}

}  // namespace cachefwd::cache::store
