#include "cache/store/store.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/hash.h"
#include "cache/store/lru_policy.h"

namespace cachefwd::cache::store {

// Index: open addressing with linear probing over slot ids, load factor at most 1/2, backward-shift
// deletion (no tombstones, so a long-running proxy's probe lengths do not decay). A bucket carries
// the hash's high 32 bits: they pick the home bucket and reject most mismatches without touching
// the slot; equality is always decided on the full key. Not thread-safe: one store per event loop.
//
// Partitions: each added partition's policy instance sees partition-local ids (dense within the
// partition) so that its per-id arrays grow with its own partition, not with the store. The default
// partition's policy sees the global slot ids themselves: no translation on the simulator's path.
//
// Tags: a tag's members are a vector of slot ids; each slot records, per tag, its position in that
// vector, so removing a slot is a swap-remove per tag (O(tags of the entry)) and erase_tag is
// O(entries with the tag).
struct Store::Impl {
  static constexpr std::uint32_t kFree = 0xffffffffU;

  struct TagRef {
    std::uint32_t tag;  // index into tag_sets
    std::uint32_t pos;  // position of this slot in tag_sets[tag].members
  };
  struct Slot {
    std::string key;
    Value value;
    std::uint64_t hash = 0;
    std::uint64_t charge = 0;
    std::uint32_t partition = kFree;  // kFree = slot unused
    SlotId local = kNoSlot;           // the id the partition's policy knows it by
  };
  struct Bucket {
    std::uint32_t slot_plus1 = 0;  // 0 = empty
    std::uint32_t tag = 0;
  };
  struct Partition {
    StoreLimits given;
    std::uint64_t cap_bytes = 0;
    std::uint64_t cap_entries = 0;  // 0 = none
    std::unique_ptr<EvictionPolicy> policy;
    StoreStats stats;
    std::vector<SlotId> slot_of_local;  // local id -> global slot id, kNoSlot when free (not in 0)
    std::vector<SlotId> free_local;
  };
  struct TagSet {
    std::string name;
    std::vector<SlotId> members;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return hash64(s); }
  };
  static constexpr size_t kNotFound = static_cast<size_t>(-1);

  StoreLimits limits;
  PolicyFactory factory;
  StoreStats stats;
  std::vector<Partition> parts;
  std::vector<Slot> slots;
  // Per slot, beside `slots` rather than in it: most entries have no tags, and the lookup path
  // reads slots, so the tag refs stay out of its cache lines.
  std::vector<std::vector<TagRef>> slot_tags;
  std::vector<SlotId> free_ids;
  std::vector<Bucket> table;
  size_t mask = 0;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> tag_ids;
  std::vector<TagSet> tag_sets;
  std::vector<std::uint32_t> free_tags;

  Impl(StoreLimits l, std::unique_ptr<EvictionPolicy> p, PolicyFactory f) : limits(l), factory(std::move(f)) {
    if (!p) p = std::make_unique<LruPolicy>();
    Partition& d = parts.emplace_back();
    d.given = limits;
    d.policy = std::move(p);
    apply_caps(d);
    table.assign(16, Bucket{});
    mask = table.size() - 1;
  }

  // The default partition's caps are the global limits, so a store without added partitions
  // behaves exactly as one without partition support (the simulator's anchors depend on it).
  void apply_caps(Partition& p) {
    if (&p == &parts[0]) {
      p.cap_bytes = limits.max_bytes;
      p.cap_entries = limits.max_entries;
    } else {
      p.cap_bytes = p.given.max_bytes == 0 ? limits.max_bytes : std::min(p.given.max_bytes, limits.max_bytes);
      p.cap_entries = p.given.max_entries == 0 || limits.max_entries == 0
                          ? std::max(p.given.max_entries, limits.max_entries)
                          : std::min(p.given.max_entries, limits.max_entries);
    }
    p.policy->set_capacity(p.cap_bytes, p.cap_entries);
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

  void add_tags(SlotId id, std::span<const std::string> tags) {
    for (const std::string& name : tags) {
      std::uint32_t t;
      if (auto it = tag_ids.find(std::string_view(name)); it != tag_ids.end()) {
        t = it->second;
        // Duplicates in the caller's list would put the slot twice in one member list.
        const auto& refs = slot_tags[id];
        if (std::any_of(refs.begin(), refs.end(), [t](const TagRef& r) { return r.tag == t; })) continue;
      } else {
        if (!free_tags.empty()) {
          t = free_tags.back();
          free_tags.pop_back();
        } else {
          t = static_cast<std::uint32_t>(tag_sets.size());
          tag_sets.emplace_back();
        }
        tag_sets[t].name = name;
        tag_ids.emplace(name, t);
      }
      auto& members = tag_sets[t].members;
      slot_tags[id].push_back(TagRef{t, static_cast<std::uint32_t>(members.size())});
      members.push_back(id);
    }
  }

  void remove_tags(SlotId id) {
    for (const TagRef& r : slot_tags[id]) {
      TagSet& set = tag_sets[r.tag];
      const SlotId last = set.members.back();
      if (last != id) {
        set.members[r.pos] = last;
        for (TagRef& o : slot_tags[last]) {
          if (o.tag == r.tag) {
            o.pos = r.pos;
            break;
          }
        }
      }
      set.members.pop_back();
      if (set.members.empty()) {
        // Forget the tag entirely, so a proxy that sees ever-new tags does not grow without bound.
        tag_ids.erase(tag_ids.find(std::string_view(set.name)));
        std::string().swap(set.name);
        std::vector<SlotId>().swap(set.members);
        free_tags.push_back(r.tag);
      }
    }
    slot_tags[id].clear();
  }

  // Frees a slot whose policy bookkeeping is already gone (evicted or on_erase'd).
  void drop(SlotId id, size_t bucket) {
    unindex(bucket);
    Slot& s = slots[id];
    if (!slot_tags[id].empty()) remove_tags(id);
    Partition& p = parts[s.partition];
    p.stats.bytes -= s.charge;
    --p.stats.entries;
    if (s.partition != kDefaultPartition) {
      p.slot_of_local[s.local] = kNoSlot;
      p.free_local.push_back(s.local);
    }
    stats.bytes -= s.charge;
    --stats.entries;
    s.value.reset();
    s.key.clear();
    s.charge = 0;
    s.partition = kFree;
    s.local = kNoSlot;
    free_ids.push_back(id);
  }

  // Removes a resident slot on the caller's behalf (erase, purge): the policy forgets it first.
  void erase_slot(SlotId id) {
    Slot& s = slots[id];
    Partition& p = parts[s.partition];
    p.policy->on_erase(s.local);
    ++p.stats.erased;
    ++stats.erased;
    drop(id, bucket_of_slot(id));
  }

  SlotId alloc() {
    if (!free_ids.empty()) {
      SlotId id = free_ids.back();
      free_ids.pop_back();
      return id;
    }
    slots.emplace_back();
    slot_tags.emplace_back();
    return static_cast<SlotId>(slots.size() - 1);
  }

  static SlotId alloc_local(Partition& p, SlotId global) {
    if (!p.free_local.empty()) {
      const SlotId l = p.free_local.back();
      p.free_local.pop_back();
      p.slot_of_local[l] = global;
      return l;
    }
    p.slot_of_local.push_back(global);
    return static_cast<SlotId>(p.slot_of_local.size() - 1);
  }

  static bool over(const StoreStats& s, std::uint64_t max_bytes, std::uint64_t max_entries,
                   std::uint64_t charge) {
    return s.bytes + charge > max_bytes || (max_entries != 0 && s.entries + 1 > max_entries);
  }

  // Evicts `p`'s policy victim; false when the policy has none.
  bool evict_from(Partition& p) {
    const SlotId local = p.policy->evict();
    if (local == kNoSlot) return false;
    const SlotId id = &p == &parts[0] ? local : p.slot_of_local[local];
    drop(id, bucket_of_slot(id));
    ++p.stats.evictions;
    ++stats.evictions;
    return true;
  }

  // Under global pressure, the victim comes from the partition holding the most of the exceeded
  // resource. Policies' orders are not comparable across partitions (an LRU tail in one and in
  // another say nothing about each other), so the choice is by size: it always makes progress,
  // shrinks partitions towards equal shares (max-min fairness), and a small capped partition is
  // never drained to make room for a big uncapped one.
  Partition* global_victim_partition(std::uint64_t charge) {
    if (parts.size() == 1) return &parts[0];
    const bool by_bytes = stats.bytes + charge > limits.max_bytes;
    Partition* best = nullptr;
    for (Partition& p : parts) {
      if (p.stats.entries == 0) continue;
      if (!best || (by_bytes ? p.stats.bytes > best->stats.bytes : p.stats.entries > best->stats.entries)) {
        best = &p;
      }
    }
    return best;
  }

  // Inserts a key known to be absent.
  bool insert_absent(PartitionId pid, std::string_view key, std::uint64_t h, Value value,
                     std::uint64_t charge, std::span<const std::string> tags) {
    Partition& p = parts[pid];
    if (limits.max_bytes == 0 || charge > limits.max_bytes || charge > p.cap_bytes) {
      ++stats.rejected;
      ++p.stats.rejected;
      return false;
    }
    if (!p.policy->admit(h, charge)) {
      ++stats.policy_rejected;
      ++p.stats.policy_rejected;
      return false;
    }
    // Evict before inserting so the new entry can never be its own victim. A victim is kNoSlot
    // only if a policy lost track of resident entries; refusing then keeps the limits true.
    while (over(p.stats, p.cap_bytes, p.cap_entries, charge)) {
      if (!evict_from(p)) return refuse(p);
    }
    while (over(stats, limits.max_bytes, limits.max_entries, charge)) {
      Partition* victim_part = global_victim_partition(charge);
      if (!victim_part || !evict_from(*victim_part)) return refuse(p);
    }
    if ((stats.entries + 1) * 2 > table.size()) grow();
    const SlotId id = alloc();
    Slot& s = slots[id];
    s.key.assign(key);
    s.value = std::move(value);
    s.hash = h;
    s.charge = charge;
    s.partition = pid;
    s.local = pid == kDefaultPartition ? id : alloc_local(p, id);
    place(Bucket{id + 1, tag_of(h)});
    stats.bytes += charge;
    ++stats.entries;
    ++stats.inserts;
    p.stats.bytes += charge;
    ++p.stats.entries;
    ++p.stats.inserts;
    p.policy->on_insert(s.local, h, charge);
    if (!tags.empty()) add_tags(id, tags);
    return true;
  }

  bool refuse(Partition& p) {
    ++stats.rejected;
    ++p.stats.rejected;
    return false;
  }

  bool insert(PartitionId pid, std::string_view key, Value value, std::uint64_t charge,
              std::span<const std::string> tags) {
    check_partition(pid);
    const std::uint64_t h = hash64(key);
    // A replaced entry goes first, whatever happens to the new one: after a failed insert the key
    // is absent rather than still mapped to the response the caller meant to supersede.
    if (size_t b = find_bucket(key, h); b != kNotFound) {
      const SlotId old = table[b].slot_plus1 - 1;
      Partition& op = parts[slots[old].partition];
      op.policy->on_erase(slots[old].local);
      ++op.stats.replaced;
      ++stats.replaced;
      drop(old, b);
    }
    return insert_absent(pid, key, h, std::move(value), charge, tags);
  }

  void hit(SlotId id) {
    const Slot& s = slots[id];
    Partition& p = parts[s.partition];
    ++stats.hits;
    ++p.stats.hits;
    p.policy->on_access(s.local);
  }

  SlotId lookup(std::string_view key) {
    const size_t b = find_bucket(key, hash64(key));
    if (b == kNotFound) {
      ++stats.misses;
      return kNoSlot;
    }
    const SlotId id = table[b].slot_plus1 - 1;
    hit(id);
    return id;
  }

  Access access(PartitionId pid, std::string_view key, Value value_if_missing, std::uint64_t charge) {
    const std::uint64_t h = hash64(key);
    if (size_t b = find_bucket(key, h); b != kNotFound) {
      hit(table[b].slot_plus1 - 1);
      return Access::kHit;
    }
    ++stats.misses;
    ++parts[pid].stats.misses;
    return insert_absent(pid, key, h, std::move(value_if_missing), charge, {}) ? Access::kInserted
                                                                               : Access::kNotStored;
  }

  void check_partition(PartitionId pid) const {
    if (pid >= parts.size()) throw std::out_of_range("cache store: unknown partition");
  }

  template <typename Pred>
  size_t erase_matching(Pred&& pred) {
    size_t n = 0;
    // Erasing frees slots in place (ids are never moved), so the scan stays valid.
    for (SlotId id = 0; id < slots.size(); ++id) {
      if (slots[id].partition != kFree && pred(slots[id])) {
        erase_slot(id);
        ++n;
      }
    }
    return n;
  }
};

Store::Store(StoreLimits limits, std::unique_ptr<EvictionPolicy> policy) {
  PolicyFactory factory;
  if (!policy) {
    factory = [] { return std::make_unique<LruPolicy>(); };
  } else {
    factory = [name = std::string(policy->name())] { return make_eviction_policy(name); };
  }
  impl_ = std::make_unique<Impl>(limits, std::move(policy), std::move(factory));
}

Store::Store(StoreLimits limits, PolicyFactory factory) {
  if (!factory) throw std::invalid_argument("cache store: no policy factory");
  auto policy = factory();
  if (!policy) throw std::invalid_argument("cache store: the policy factory made no policy");
  impl_ = std::make_unique<Impl>(limits, std::move(policy), std::move(factory));
}

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
  return impl_->insert(kDefaultPartition, key, std::move(value), charge, {});
}

bool Store::insert(std::string_view key, Value value, std::uint64_t charge,
                   std::span<const std::string> tags) {
  return impl_->insert(kDefaultPartition, key, std::move(value), charge, tags);
}

bool Store::insert(PartitionId partition, std::string_view key, Value value, std::uint64_t charge,
                   std::span<const std::string> tags) {
  return impl_->insert(partition, key, std::move(value), charge, tags);
}

Store::Access Store::access(std::string_view key, Value value_if_missing, std::uint64_t charge) {
  return impl_->access(kDefaultPartition, key, std::move(value_if_missing), charge);
}

Store::Access Store::access(PartitionId partition, std::string_view key, Value value_if_missing,
                            std::uint64_t charge) {
  impl_->check_partition(partition);
  return impl_->access(partition, key, std::move(value_if_missing), charge);
}

bool Store::erase(std::string_view key) {
  Impl& m = *impl_;
  const size_t b = m.find_bucket(key, hash64(key));
  if (b == Impl::kNotFound) return false;
  m.erase_slot(m.table[b].slot_plus1 - 1);
  return true;
}

std::size_t Store::erase_prefix(std::string_view prefix) {
  return impl_->erase_matching([prefix](const Impl::Slot& s) { return s.key.starts_with(prefix); });
}

std::size_t Store::erase_if(const std::function<bool(std::string_view key, const Value& value)>& pred) {
  return impl_->erase_matching([&pred](const Impl::Slot& s) { return pred(s.key, s.value); });
}

std::size_t Store::erase_tag(std::string_view tag) {
  Impl& m = *impl_;
  const auto it = m.tag_ids.find(tag);
  if (it == m.tag_ids.end()) return 0;
  const std::uint32_t t = it->second;
  // Each erase pops this tag's last member; the tag itself is forgotten with its last member, so
  // the count is taken up front and the set is not touched after that.
  const size_t n = m.tag_sets[t].members.size();
  for (size_t i = 0; i < n; ++i) m.erase_slot(m.tag_sets[t].members.back());
  return n;
}

std::size_t Store::erase_partition(PartitionId partition) {
  Impl& m = *impl_;
  m.check_partition(partition);
  if (partition == kDefaultPartition) {
    return m.erase_matching([](const Impl::Slot& s) { return s.partition == kDefaultPartition; });
  }
  size_t n = 0;
  // Local ids are not moved by erasure (freed ones are only recycled by later inserts).
  auto& map = m.parts[partition].slot_of_local;
  for (size_t l = 0; l < map.size(); ++l) {
    if (map[l] != kNoSlot) {
      m.erase_slot(map[l]);
      ++n;
    }
  }
  return n;
}

void Store::for_each(
    const std::function<void(std::string_view key, const Value& value, std::uint64_t charge)>& fn) const {
  for (const Impl::Slot& s : impl_->slots) {
    if (s.partition != Impl::kFree) fn(s.key, s.value, s.charge);
  }
}

void Store::clear() {
  Impl& m = *impl_;
  for (Impl::Partition& p : m.parts) {
    p.policy->clear();
    p.stats.erased += p.stats.entries;
    p.stats.bytes = 0;
    p.stats.entries = 0;
    p.slot_of_local.clear();
    p.free_local.clear();
  }
  m.stats.erased += m.stats.entries;
  m.stats.bytes = 0;
  m.stats.entries = 0;
  m.slots.clear();
  m.slot_tags.clear();
  m.free_ids.clear();
  m.table.assign(16, Impl::Bucket{});
  m.mask = m.table.size() - 1;
  m.tag_ids.clear();
  m.tag_sets.clear();
  m.free_tags.clear();
}

PartitionId Store::add_partition(StoreLimits limits) {
  Impl& m = *impl_;
  auto policy = m.factory();
  if (!policy) throw std::invalid_argument("cache store: the policy factory made no policy for a partition");
  Impl::Partition& p = m.parts.emplace_back();
  p.given = limits;
  p.policy = std::move(policy);
  m.apply_caps(p);
  return static_cast<PartitionId>(m.parts.size() - 1);
}

void Store::set_partition_limits(PartitionId partition, StoreLimits limits) {
  Impl& m = *impl_;
  m.check_partition(partition);
  if (partition == kDefaultPartition)
    throw std::out_of_range("cache store: the default partition has the global limits");
  Impl::Partition& p = m.parts[partition];
  p.given = limits;
  m.apply_caps(p);
  while (p.stats.bytes > p.cap_bytes || (p.cap_entries != 0 && p.stats.entries > p.cap_entries)) {
    if (!m.evict_from(p)) break;
  }
}

std::size_t Store::partition_count() const { return impl_->parts.size(); }

const StoreStats& Store::partition_stats(PartitionId partition) const {
  impl_->check_partition(partition);
  return impl_->parts[partition].stats;
}

const StoreLimits& Store::partition_limits(PartitionId partition) const {
  impl_->check_partition(partition);
  return impl_->parts[partition].given;
}

std::int64_t Store::partition_of(std::string_view key) const {
  const size_t b = impl_->find_bucket(key, hash64(key));
  if (b == Impl::kNotFound) return -1;
  return impl_->slots[impl_->table[b].slot_plus1 - 1].partition;
}

std::size_t Store::tag_count() const { return impl_->tag_ids.size(); }

const StoreStats& Store::stats() const { return impl_->stats; }
const StoreLimits& Store::limits() const { return impl_->limits; }
std::string_view Store::policy_name() const { return impl_->parts[0].policy->name(); }

}  // namespace cachefwd::cache::store
