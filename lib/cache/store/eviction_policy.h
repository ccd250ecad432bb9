#pragma once
// The eviction policy seen by the Store and by the offline simulator. A policy never sees keys or
// values: entries are small integer slot ids owned by the caller (dense, reused after removal), so
// per-entry metadata is an array index and the same policy object runs inside the proxy's Store and
// at memory speed in `replay --simulate`. Policies with a ghost history (S3-FIFO) remember evicted
// entries by the 64-bit key hash of base/hash.h, which may collide; a collision only changes a
// placement decision, never which value is returned (the Store compares full keys).
//
// Call protocol (the Store follows it; a simulator must too):
//   admit(hash, charge)           once per new entry, before any eviction made for it; false = do
//                                 not store it (nothing else is called for it)
//   evict()                       repeatedly, until the caller's limits hold for the new entry
//   on_insert(id, hash, charge)   the entry is now resident
//   on_access(id)                 a lookup hit
//   on_erase(id)                  the caller removed a resident entry itself (purge, replace)
// evict() both picks the victim and forgets it; the caller then frees the slot.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace cachefwd::cache::store {

using SlotId = std::uint32_t;
inline constexpr SlotId kNoSlot = 0xffffffffU;

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  virtual std::string_view name() const noexcept = 0;

  // The caller's limits (0 = unlimited for max_entries). Called before the first insert, and again
  // when limits change; size-partitioned policies (S3-FIFO) size their queues from it.
  virtual void set_capacity(std::uint64_t max_bytes, std::uint64_t max_entries) {
    (void)max_bytes;
    (void)max_entries;
  }

  // Admission for a new entry of `charge` bytes. Called before the evictions that make room for it,
  // so a policy may consult (and consume) its ghost history here. Default: admit everything.
  virtual bool admit(std::uint64_t key_hash, std::uint64_t charge) {
    (void)key_hash;
    (void)charge;
    return true;
  }

  virtual void on_insert(SlotId id, std::uint64_t key_hash, std::uint64_t charge) = 0;
  virtual void on_access(SlotId id) = 0;
  virtual void on_erase(SlotId id) = 0;

  // Chooses a victim among resident entries, forgets it and returns it; kNoSlot when empty.
  virtual SlotId evict() = 0;

  // Forgets every entry (and any ghost history).
  virtual void clear() = 0;
};

// "lru", "fifo", "sieve", "s3fifo", "s3fifo-warm" (see s3fifo_policy.h); nullptr for an unknown name. Names
// are case-sensitive.
std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name);
// The names make_eviction_policy accepts, in a stable order.
std::vector<std::string_view> eviction_policy_names();

}  // namespace cachefwd::cache::store
