#pragma once
// The object store: full-key index, byte and entry accounting, eviction through a pluggable
// policy. It knows nothing of HTTP: values are opaque (StoredResponse is only declared here; the
// offline simulator stores null values and only sizes matter).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cache/store/eviction_policy.h"

namespace cachefwd::cache {
struct StoredResponse;
}

namespace cachefwd::cache::store {

struct StoreLimits {
  std::uint64_t max_bytes = 256ULL << 20;  // 0 = store nothing
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
  std::uint64_t erased = 0;           // removed by erase()
  std::uint64_t hits = 0;             // find()/touch() that found the key
  std::uint64_t misses = 0;           // find()/touch() that did not
};

using Value = std::shared_ptr<const StoredResponse>;

class Store {
 public:
  Store(StoreLimits limits, std::unique_ptr<EvictionPolicy> policy);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Full-key lookup (keys are compared whole, never only by hash). A hit is reported to the
  // eviction policy. Returns null when absent.
  Value find(std::string_view key);
  // Lookup without telling the policy (for HEAD/stats/tests).
  Value peek(std::string_view key) const;
  // Inserts or replaces `key`. `charge` is what the entry costs in bytes (the caller counts key,
  // headers, body and bookkeeping). Evicts until both limits hold. Returns false, storing nothing,
  // when charge alone exceeds max_bytes.
  bool insert(std::string_view key, Value value, std::uint64_t charge);
  bool erase(std::string_view key);
  void clear();

  // find() for callers that only need presence: the simulator stores null values, so find()'s
  // result cannot tell it a hit. Reports a hit to the policy like find().
  bool touch(std::string_view key);
  // Presence without telling the policy.
  bool contains(std::string_view key) const;

  // find-then-insert-on-miss with one hash and one probe, for the simulator's hot path: a hit is
  // reported to the policy as by find(); a miss inserts `value_if_missing` as by insert().
  enum class Access { kHit, kInserted, kNotStored };
  Access access(std::string_view key, Value value_if_missing, std::uint64_t charge);

  const StoreStats& stats() const;
  const StoreLimits& limits() const;
  std::string_view policy_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cachefwd::cache::store
