#include "cache/store/store.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "cache/store/lru_policy.h"

namespace cachefwd::cache::store {

// Index: open addressing with linear probing over slot ids, load factor at most 1/2, backward-shift
// deletion (no tombstones, so a long-running proxy's probe lengths do not decay). A bucket carries
// the hash's high 32 bits: they pick the home bucket and reject most mismatches without touching
// the slot; equality is always decided on the full key. Not thread-safe: one store per event loop.
struct Store::Impl {
  struct Slot {
    std::string key;
    Value value;
    std::uint64_t hash = 0;
    std::uint64_t charge = 0;
  };
  struct Bucket {
    std::uint32_t slot_plus1 = 0;  // 0 = empty
    std::uint32_t tag = 0;
  };
  static constexpr size_t kNotFound = static_cast<size_t>(-1);

  StoreLimits limits;
  std::unique_ptr<EvictionPolicy> policy;
  StoreStats stats;
  std::vector<Slot> slots;
  std::vector<SlotId> free_ids;
  std::vector<Bucket> table;
  size_t mask = 0;

  Impl(StoreLimits l, std::unique_ptr<EvictionPolicy> p) : limits(l), policy(std::move(p)) {
    if (!policy) policy = std::make_unique<LruPolicy>();
    policy->set_capacity(limits.max_bytes, limits.max_entries);
    table.assign(16, Bucket{});
    mask = table.size() - 1;
  }

  // The tag also picks the home bucket, so moving buckets (deletion, growth) never reads a slot.
  static std::uint32_t tag_of(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }

  size_t find_bucket(std::string_view key, std::uint64_t h) const {
    const std::uint32_t tag = tag_of(h);
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      const Bucket& b = table[i];
      if (b.slot_plus1 == 0) return kNotFound;
      if (b.tag == tag) {
        const Slot& s = slots[b.slot_plus1 - 1];
        if (s.hash == h && s.key == key) return i;
      }
    }
  }

  size_t bucket_of_slot(SlotId id) const {
    for (size_t i = tag_of(slots[id].hash) & mask;; i = (i + 1) & mask) {
      if (table[i].slot_plus1 == id + 1) return i;
    }
  }

  void place(Bucket b) {
    size_t i = b.tag & mask;
    while (table[i].slot_plus1 != 0) i = (i + 1) & mask;
    table[i] = b;
  }

  void grow() {
    std::vector<Bucket> old = std::move(table);
    table.assign(old.size() * 2, Bucket{});
    mask = table.size() - 1;
    for (const Bucket& b : old) {
      if (b.slot_plus1 != 0) place(b);
    }
  }

  void unindex(size_t i) {
    // Backward shift: pull later members of the probe run into the hole when their home bucket
    // does not lie cyclically in (hole, their position].
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      const Bucket& b = table[j];
      if (b.slot_plus1 == 0) break;
      const size_t home = b.tag & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = b;
        i = j;
      }
    }
    table[i] = Bucket{};
  }

  // Frees a slot whose policy bookkeeping is already gone (evicted or on_erase'd).
  void drop(SlotId id, size_t bucket) {
    unindex(bucket);
    Slot& s = slots[id];
    stats.bytes -= s.charge;
    --stats.entries;
    s.value.reset();
    s.key.clear();
    s.charge = 0;
    free_ids.push_back(id);
  }

  SlotId alloc() {
    if (!free_ids.empty()) {
      SlotId id = free_ids.back();
      free_ids.pop_back();
      return id;
    }
    slots.emplace_back();
    return static_cast<SlotId>(slots.size() - 1);
  }

  bool over_limits(std::uint64_t charge) const {
    return stats.bytes + charge > limits.max_bytes ||
           (limits.max_entries != 0 && stats.entries + 1 > limits.max_entries);
  }

  // Inserts a key known to be absent.
  bool insert_absent(std::string_view key, std::uint64_t h, Value value, std::uint64_t charge) {
    if (limits.max_bytes == 0 || charge > limits.max_bytes) {
      ++stats.rejected;
      return false;
    }
    if (!policy->admit(h, charge)) {
      ++stats.policy_rejected;
      return false;
    }
    // Evict before inserting so the new entry can never be its own victim.
    while (over_limits(charge)) {
      const SlotId victim = policy->evict();
      if (victim == kNoSlot) {
        // Only reachable if a policy lost track of resident entries; refusing keeps limits true.
        ++stats.rejected;
        return false;
      }
      drop(victim, bucket_of_slot(victim));
      ++stats.evictions;
    }
    if ((stats.entries + 1) * 2 > table.size()) grow();
    const SlotId id = alloc();
    Slot& s = slots[id];
    s.key.assign(key);
    s.value = std::move(value);
    s.hash = h;
    s.charge = charge;
    place(Bucket{id + 1, tag_of(h)});
    stats.bytes += charge;
    ++stats.entries;
    ++stats.inserts;
    policy->on_insert(id, h, charge);
    return true;
  }

  SlotId lookup(std::string_view key) {
    const size_t b = find_bucket(key, hash64(key));
    if (b == kNotFound) {
      ++stats.misses;
      return kNoSlot;
    }
    ++stats.hits;
    const SlotId id = table[b].slot_plus1 - 1;
    policy->on_access(id);
    return id;
  }
};

Store::Store(StoreLimits limits, std::unique_ptr<EvictionPolicy> policy)
    : impl_(std::make_unique<Impl>(limits, std::move(policy))) {}

Store::~Store() = default;

Value Store::find(std::string_view key) {
  const SlotId id = impl_->lookup(key);
  return id == kNoSlot ? nullptr : impl_->slots[id].value;
}

bool Store::touch(std::string_view key) { return impl_->lookup(key) != kNoSlot; }

Value Store::peek(std::string_view key) const {
  const size_t b = impl_->find_bucket(key, hash64(key));
  return b == Impl::kNotFound ? nullptr : impl_->slots[impl_->table[b].slot_plus1 - 1].value;
}

bool Store::contains(std::string_view key) const {
  return impl_->find_bucket(key, hash64(key)) != Impl::kNotFound;
}

bool Store::insert(std::string_view key, Value value, std::uint64_t charge) {
  Impl& m = *impl_;
  const std::uint64_t h = hash64(key);
  // A replaced entry goes first, whatever happens to the new one: after a failed insert the key is
  // absent rather than still mapped to the response the caller meant to supersede.
  if (size_t b = m.find_bucket(key, h); b != Impl::kNotFound) {
    const SlotId old = m.table[b].slot_plus1 - 1;
    m.policy->on_erase(old);
    m.drop(old, b);
    ++m.stats.replaced;
  }
  return m.insert_absent(key, h, std::move(value), charge);
}

Store::Access Store::access(std::string_view key, Value value_if_missing, std::uint64_t charge) {
  Impl& m = *impl_;
  const std::uint64_t h = hash64(key);
  if (size_t b = m.find_bucket(key, h); b != Impl::kNotFound) {
    ++m.stats.hits;
    m.policy->on_access(m.table[b].slot_plus1 - 1);
    return Access::kHit;
  }
  ++m.stats.misses;
  return m.insert_absent(key, h, std::move(value_if_missing), charge) ? Access::kInserted
                                                                      : Access::kNotStored;
}

bool Store::erase(std::string_view key) {
  Impl& m = *impl_;
  const size_t b = m.find_bucket(key, hash64(key));
  if (b == Impl::kNotFound) return false;
  const SlotId id = m.table[b].slot_plus1 - 1;
  m.policy->on_erase(id);
  m.drop(id, b);
  ++m.stats.erased;
  return true;
}

void Store::clear() {
  Impl& m = *impl_;
  m.policy->clear();
  m.slots.clear();
  m.free_ids.clear();
  m.table.assign(16, Impl::Bucket{});
  m.mask = m.table.size() - 1;
  m.stats.bytes = 0;
  m.stats.entries = 0;
}

const StoreStats& Store::stats() const { return impl_->stats; }
const StoreLimits& Store::limits() const { return impl_->limits; }
std::string_view Store::policy_name() const { return impl_->policy->name(); }

}  // namespace cachefwd::cache::store
