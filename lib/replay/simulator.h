#pragma once
// Offline cache simulation: the real cache::store::Store with a named eviction policy, driven at
// memory speed by a request stream, plus Belady's MIN as the bound. Pure: no clock, no I/O; the
// caller times it.
#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/store/flat_hash_map.h"
#include "cache/store/store.h"
#include "replay/trace_reader.h"

namespace cachefwd::replay {

struct SimCounters {
  std::uint64_t requests = 0;
  std::uint64_t misses = 0;
  std::uint64_t bytes_requested = 0;
  std::uint64_t bytes_missed = 0;
  std::uint64_t not_admitted = 0;  // misses the cache declined to store (too large, policy refusal)

  double miss_ratio() const {
    return requests ? static_cast<double>(misses) / static_cast<double>(requests) : 0;
  }
  double byte_miss_ratio() const {
    return bytes_requested ? static_cast<double>(bytes_missed) / static_cast<double>(bytes_requested) : 0;
  }
};

// A request hits when its key is resident; a miss inserts it with charge = request size (the
// store refuses sizes above the capacity). As in libCacheSim, a hit does not resize the stored
// object when the trace reports a different size for the same key.
class StoreSimulator {
 public:
  // Throws std::invalid_argument for a policy name make_eviction_policy does not know.
  StoreSimulator(std::string_view policy, std::uint64_t cache_bytes);
  void access(const Request& r) {
    ++c_.requests;
    c_.bytes_requested += r.size;
    const std::string_view key = r.text_key.empty()
                                     ? std::string_view(reinterpret_cast<const char*>(&r.key), sizeof(r.key))
                                     : r.text_key;
    const auto result = store_.access(key, nullptr, r.size);
    if (result == cache::store::Store::Access::kHit) return;
    ++c_.misses;
    c_.bytes_missed += r.size;
    if (result == cache::store::Store::Access::kNotStored) ++c_.not_admitted;
  }
  const SimCounters& counters() const { return c_; }
  const cache::store::Store& store() const { return store_; }

 private:
  cache::store::Store store_;
  SimCounters c_;
};

// Belady's MIN: on a miss, evict the resident objects whose next use is furthest away until the
// new one fits (every object is inserted when it fits in the cache at all). Optimal for unit
// sizes (object-count caches); with byte sizes it is the usual furthest-next-use heuristic, what
// libCacheSim calls "Belady". Needs Request::next_access on every request.
class BeladySimulator {
 public:
  explicit BeladySimulator(std::uint64_t cache_bytes) : capacity_(cache_bytes) {}
  void access(const Request& r);
  const SimCounters& counters() const { return c_; }

 private:
  struct Resident {
    std::uint64_t key;
    std::int64_t next;
    std::uint64_t size;
  };
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  SimCounters c_;
  // mix64(key) -> index into residents_ (mix64 is a bijection, so no collisions are introduced).
  cache::store::FlatHashMap64 index_;
  std::vector<Resident> residents_;
  std::vector<std::uint64_t> free_;
  // Max-heap of (next use, key); entries whose next use is stale are skipped when popped.
  std::priority_queue<std::pair<std::int64_t, std::uint64_t>> heap_;
};

// Next-use positions for a materialised key sequence: result[i] = smallest j > i with
// keys[j] == keys[i], or kNoNextAccess.
std::vector<std::int64_t> compute_next_access(const std::vector<std::uint64_t>& keys);

// Distinct objects and their footprint (sum of first-seen sizes), for percentage cache sizes.
class FootprintCounter {
 public:
  void add(const Request& r) {
    if (seen_.insert(r.key).second) bytes_ += r.size;
  }
  std::uint64_t objects() const { return seen_.size(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::unordered_set<std::uint64_t> seen_;
  std::uint64_t bytes_ = 0;
};

// One size per object, decided before the simulation: observe() every request of a first pass,
// then apply() to the second pass's requests. Access logs need this (a 304 or a HEAD logs 0
// bytes); the size kept is the largest logged for the key. Memory is O(objects).
class ObjectSizes {
 public:
  void observe(const Request& r) {
    auto [it, fresh] = max_.try_emplace(r.key, r.size);
    if (!fresh && r.size > it->second) it->second = r.size;
  }
  void apply(Request& r) const {
    if (auto it = max_.find(r.key); it != max_.end()) r.size = it->second;
  }
  bool empty() const { return max_.empty(); }
  // The footprint with these sizes (every observed object once, at its decided size).
  void footprint(FootprintCounter& out) const {
    Request r;
    for (const auto& [key, size] : max_) {
      r.key = key;
      r.size = size;
      out.add(r);
    }
  }

 private:
  std::unordered_map<std::uint64_t, std::uint64_t> max_;
};

// One entry of --cache-size: an absolute size ("128MiB", "1GiB", "4096" = bytes) or a percentage
// of the trace's footprint ("1%", "0.5%").
struct CacheSizeSpec {
  std::string text;
  bool percent = false;
  double percent_value = 0;
  std::uint64_t bytes = 0;
  std::uint64_t resolve(std::uint64_t footprint_bytes) const {
    return percent ? static_cast<std::uint64_t>(static_cast<double>(footprint_bytes) * percent_value / 100.0)
                   : bytes;
  }
};
// Comma-separated list; nullopt when any element is malformed (or the list is empty).
std::optional<std::vector<CacheSizeSpec>> parse_cache_sizes(std::string_view list);

}  // namespace cachefwd::replay
