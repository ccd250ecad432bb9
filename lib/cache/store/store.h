#pragma once
// The object store: full-key index, byte and entry accounting, eviction through a pluggable
// policy, bulk removal (prefix, predicate, tag, partition) for purge and invalidation, and
// partitions with limits of their own inside the global ones. It knows nothing of HTTP: values
// are opaque (StoredResponse is only declared here; the offline simulator stores null values and
// only sizes matter), and tags are whatever the caller hands to insert().
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cache/store/eviction_policy.h"

namespace cachefwd::cache {
struct StoredResponse;
}

namespace cachefwd::cache::store {

struct StoreLimits {
  std::uint64_t max_bytes = 256ULL << 20;  // 0 = store nothing (for a partition: no own byte limit)
  std::uint64_t max_entries = 0;           // 0 = no entry limit
};

struct StoreStats {
  std::uint64_t bytes = 0;  // sum of charges of resident entries
  std::uint64_t entries = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;  // removed to make room
  std::uint64_t rejected = 0;   // not admitted: charge above max_bytes
  // Added by the store owner (counters only; the fields above keep their meaning).
  std::uint64_t policy_rejected = 0;  // not admitted: the eviction policy refused it (see admit())
  std::uint64_t replaced = 0;         // inserts whose key was already resident
  std::uint64_t erased = 0;           // removed by erase(), the erase_* family and clear()
  std::uint64_t hits = 0;             // find()/touch()/access() that found the key
  std::uint64_t misses = 0;           // find()/touch()/access() that did not
};

using Value = std::shared_ptr<const StoredResponse>;

// Partitions: entries of one partition are limited and evicted together (issue 3's per-rule
// limits). Id 0 is the default partition, limited only by the store's global limits; ids from
// add_partition() are dense and never reused.
using PartitionId = std::uint32_t;
inline constexpr PartitionId kDefaultPartition = 0;

// Makes one policy instance per partition.
using PolicyFactory = std::function<std::unique_ptr<EvictionPolicy>()>;

class Store {
 public:
  // Partitions added later get make_eviction_policy(policy->name()): a policy object configured
  // beyond its name (custom S3FifoOptions) should come through the factory constructor instead.
  // A null policy means LRU.
  Store(StoreLimits limits, std::unique_ptr<EvictionPolicy> policy);
  // The factory makes the default partition's policy now and each added partition's later.
  Store(StoreLimits limits, PolicyFactory factory);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Full-key lookup (keys are compared whole, never only by hash). A hit is reported to the
  // eviction policy of the entry's partition. Returns null when absent.
  Value find(std::string_view key);
  // Lookup without telling the policy (for HEAD/stats/tests).
  Value peek(std::string_view key) const;
  // Inserts or replaces `key` in the default partition. `charge` is what the entry costs in bytes
  // (the caller counts key, headers, body and bookkeeping). Evicts until both limits hold.
  // Returns false, storing nothing, when charge alone exceeds max_bytes.
  bool insert(std::string_view key, Value value, std::uint64_t charge);
  // As above, and files the entry under each of `tags` (duplicates count once) for erase_tag().
  bool insert(std::string_view key, Value value, std::uint64_t charge, std::span<const std::string> tags);
  // Inserts or replaces `key` in `partition` (a resident `key` is removed first, whatever
  // partition held it). Evicts from `partition` until its own limits hold, then, while the global
  // limits do not, from the partition holding the most bytes (entries, when only the entry limit
  // is exceeded). Also refused when charge exceeds the partition's byte limit.
  bool insert(PartitionId partition, std::string_view key, Value value, std::uint64_t charge,
              std::span<const std::string> tags = {});
  bool erase(std::string_view key);
  // Removes every entry. Partitions (ids and limits) stay; removed entries count as erased.
  void clear();

  // Bulk removal (purge, RFC 9111 §4.4 invalidation). Each returns how many entries it removed;
  // they count in stats().erased. The callbacks must not modify the store.
  //
  // Every key starting with `prefix`. A scan of all resident entries: an ordered index would cost
  // every insert O(log n) key comparisons (and a second copy of the key) to speed up an admin
  // operation; measured in bench/micro/store_bench.cpp (BM_ErasePrefix).
  std::size_t erase_prefix(std::string_view prefix);
  std::size_t erase_if(const std::function<bool(std::string_view key, const Value& value)>& pred);
  // Every entry inserted with `tag`, in O(entries with the tag).
  std::size_t erase_tag(std::string_view tag);
  // Every entry of `partition`, in O(entries of the partition). The partition stays usable.
  std::size_t erase_partition(PartitionId partition);
  // Visits every resident entry, in no particular order.
  void for_each(
      const std::function<void(std::string_view key, const Value& value, std::uint64_t charge)>& fn) const;

  // find() for callers that only need presence: the simulator stores null values, so find()'s
  // result cannot tell it a hit. Reports a hit to the policy like find().
  bool touch(std::string_view key);
  // Presence without telling the policy.
  bool contains(std::string_view key) const;

  // find-then-insert-on-miss with one hash and one probe, for the simulator's hot path: a hit is
  // reported to the policy as by find(); a miss inserts `value_if_missing` as by insert().
  enum class Access { kHit, kInserted, kNotStored };
  Access access(std::string_view key, Value value_if_missing, std::uint64_t charge);
  // The same, inserting a missing key into `partition`; the miss counts in its stats.
  Access access(PartitionId partition, std::string_view key, Value value_if_missing, std::uint64_t charge);

  // A new partition with its own policy instance and its own limits, each clamped to the global
  // one; 0 in either field means "no limit of its own" (a partition that stores nothing is a
  // disabled rule, not a partition). Throws std::invalid_argument when the policy factory gives
  // nothing (a policy name make_eviction_policy does not know).
  PartitionId add_partition(StoreLimits limits);
  // New limits for an added partition (config reload), evicting its entries down to them.
  // Throws std::out_of_range for the default partition or an unknown id.
  void set_partition_limits(PartitionId partition, StoreLimits limits);
  std::size_t partition_count() const;  // including the default partition
  // The partition's counters: bytes, entries, inserts, evictions (of its entries, whichever limit
  // caused them), rejected, policy_rejected, replaced, erased, hits (on its entries) and misses
  // (only those of access(partition, ...): a key lookup does not know the partition it missed).
  // Throws std::out_of_range for an unknown id. The reference is valid until the next
  // add_partition().
  const StoreStats& partition_stats(PartitionId partition) const;
  // As given to add_partition (the default partition reports the global limits).
  const StoreLimits& partition_limits(PartitionId partition) const;
  // Partition of a resident key, or -1 when absent.
  std::int64_t partition_of(std::string_view key) const;
  // Distinct tags with at least one resident entry.
  std::size_t tag_count() const;

  const StoreStats& stats() const;
  const StoreLimits& limits() const;
  std::string_view policy_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cachefwd::cache::store
