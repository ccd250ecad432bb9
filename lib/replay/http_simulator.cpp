#include "replay/http_simulator.h"

#include <stdexcept>

#include "cache/policy/freshness.h"

namespace cachefwd::replay {

namespace {
std::unique_ptr<cache::store::EvictionPolicy> policy_or_throw(std::string_view name) {
  auto p = cache::store::make_eviction_policy(name);
  if (!p) throw std::invalid_argument("unknown eviction policy: " + std::string(name));
  return p;
}
bool unsafe(std::string_view m) { return m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH"; }
}  // namespace

HttpSimulator::HttpSimulator(std::string_view policy, std::uint64_t cache_bytes,
                             cache::policy::PolicyConfig cfg)
    : cfg_(std::move(cfg)), store_(cache::store::StoreLimits{cache_bytes, 0}, policy_or_throw(policy)) {}

HttpSimulator::Outcome HttpSimulator::access(const HttpRequest& r) {
  ++c_.requests;
  const bool head = r.method == "HEAD";
  const std::uint64_t bytes = head ? 0 : r.size;
  c_.bytes += bytes;
  const int status = replay_status(r);
  const UnixMillis now = r.time;
  const std::string& key = r.url;

  const bool lookup = r.method == "GET" || head;
  bool resident_stale = false;
  if (lookup && store_.contains(key)) {
    const auto it = entries_.find(key);
    if (it != entries_.end()) {
      const std::int64_t age = now - it->second.stored_at;
      const auto serve = cache::policy::can_serve_stored(
          r.request_headers, it->second.cc, it->second.lifetime_ms, age < 0 ? 0 : age, cfg_.shared);
      if (serve != cache::policy::Serve::must_validate) {
        store_.touch(key);
        ++c_.hits;
        c_.hit_bytes += bytes;
        return Outcome::hit;
      }
      resident_stale = true;
    }
  }
  ++c_.misses;
  if (resident_stale) ++c_.stale_misses;

  if (unsafe(r.method)) {
    // RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI.
    if (status >= 200 && status < 400 && store_.erase(key)) ++c_.invalidated;
    ++c_.not_stored["method"];
    return Outcome::miss;
  }
  if (head) {
    ++c_.not_stored["method"];
    return resident_stale ? Outcome::stale_miss : Outcome::miss;
  }
  // Logs carry no response headers: the response then has only what the operator's config gives
  // it (--ttl), as the embedded origin's answer without Cache-Control would.
  static const http::Headers kNone;
  const http::Headers& resp = r.has_response_headers ? r.response_headers : kNone;
  const auto st = cache::policy::storability(r.method, r.request_headers, status, resp, cfg_);
  std::int64_t lifetime = 0;
  if (st.storable) lifetime = cache::policy::freshness_lifetime_ms(status, resp, now, cfg_);
  if (!st.storable || lifetime <= 0) {
    // A replacement that may not be stored leaves the stale one unusable: drop it.
    if (resident_stale) store_.erase(key);
    ++c_.not_stored[std::string(st.storable ? "no-freshness" : cache::policy::to_string(st.reason))];
    return resident_stale ? Outcome::stale_miss : Outcome::miss;
  }
  if (store_.insert(key, nullptr, r.size == 0 ? 1 : r.size)) {
    ++c_.stored;
    entries_[key] = Entry{now, lifetime, http::parse_cache_control(resp)};
  } else {
    ++c_.not_stored["too-large"];
  }
  return resident_stale ? Outcome::stale_miss : Outcome::miss;
}

}  // namespace cachefwd::replay
