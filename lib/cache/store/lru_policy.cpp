#include "cache/store/lru_policy.h"

namespace cachefwd::cache::store {

void LruPolicy::on_insert(SlotId id, std::uint64_t /*key_hash*/, std::uint64_t /*charge*/) {
  links_.ensure(id);
  list_.push_front(links_, id);
}

void LruPolicy::clear() {
  list_.clear();
  links_.clear();
}

}  // namespace cachefwd::cache::store
