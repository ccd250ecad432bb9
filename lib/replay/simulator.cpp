#include "replay/simulator.h"

#include <charconv>
#include <stdexcept>

#include "base/hash.h"
#include "base/strings.h"

namespace cachefwd::replay {

namespace {
std::unique_ptr<cache::store::EvictionPolicy> policy_or_throw(std::string_view name) {
  auto p = cache::store::make_eviction_policy(name);
  if (!p) throw std::invalid_argument("unknown eviction policy: " + std::string(name));
  return p;
}
}  // namespace

StoreSimulator::StoreSimulator(std::string_view policy, std::uint64_t cache_bytes)
    : store_(cache::store::StoreLimits{cache_bytes, 0}, policy_or_throw(policy)) {}

void BeladySimulator::access(const Request& r) {
  ++c_.requests;
  c_.bytes_requested += r.size;
  const std::int64_t next = r.next_access < 0 ? kNoNextAccess : r.next_access;
  const std::uint64_t mkey = mix64(r.key);
  if (const auto idx = index_.find(mkey)) {
    residents_[*idx].next = next;
    heap_.emplace(next, r.key);
    return;
  }
  ++c_.misses;
  c_.bytes_missed += r.size;
  if (r.size > capacity_) {
    ++c_.not_admitted;
    return;
  }
  while (used_ + r.size > capacity_) {
    const auto [victim_next, victim] = heap_.top();
    heap_.pop();
    const std::uint64_t vkey = mix64(victim);
    const auto idx = index_.find(vkey);
    if (!idx || residents_[*idx].next != victim_next) continue;  // stale heap entry
    used_ -= residents_[*idx].size;
    free_.push_back(*idx);
    index_.erase(vkey);
  }
  std::uint64_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
    residents_[slot] = Resident{r.key, next, r.size};
  } else {
    slot = residents_.size();
    residents_.push_back(Resident{r.key, next, r.size});
  }
  index_.put(mkey, slot);
  heap_.emplace(next, r.key);
  used_ += r.size;
  // Stale entries can outnumber live ones on hit-heavy traces; rebuild to bound memory.
  if (heap_.size() > 4 * index_.size() + 1024) {
    std::vector<std::pair<std::int64_t, std::uint64_t>> live;
    live.reserve(index_.size());
    std::vector<bool> is_free(residents_.size(), false);
    for (std::uint64_t f : free_) is_free[f] = true;
    for (size_t i = 0; i < residents_.size(); ++i) {
      if (!is_free[i]) live.emplace_back(residents_[i].next, residents_[i].key);
    }
    heap_ = std::priority_queue<std::pair<std::int64_t, std::uint64_t>>(
        std::less<std::pair<std::int64_t, std::uint64_t>>(), std::move(live));
  }
}

std::vector<std::int64_t> compute_next_access(const std::vector<std::uint64_t>& keys) {
  std::vector<std::int64_t> next(keys.size(), kNoNextAccess);
  std::unordered_map<std::uint64_t, std::int64_t> last;
  last.reserve(keys.size() / 4 + 16);
  for (size_t i = keys.size(); i-- > 0;) {
    auto [it, inserted] = last.try_emplace(keys[i], static_cast<std::int64_t>(i));
    if (!inserted) {
      next[i] = it->second;
      it->second = static_cast<std::int64_t>(i);
    }
  }
  return next;
}

std::optional<std::vector<CacheSizeSpec>> parse_cache_sizes(std::string_view list) {
  std::vector<CacheSizeSpec> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    std::string_view item =
        trim_ows(list.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (item.empty()) return std::nullopt;
    CacheSizeSpec spec;
    spec.text = std::string(item);
    if (item.back() == '%') {
      item.remove_suffix(1);
      double v = 0;
      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || ptr != item.data() + item.size() || !(v > 0) || v > 100) return std::nullopt;
      spec.percent = true;
      spec.percent_value = v;
    } else {
      auto bytes = parse_size(item);
      if (!bytes || *bytes == 0) return std::nullopt;
      spec.bytes = *bytes;
    }
    out.push_back(std::move(spec));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace cachefwd::replay
