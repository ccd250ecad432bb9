#pragma once
// The proxy's counters as JSON (GET /stats) and Prometheus text (GET /metrics).
#include <cstdint>
#include <string>

#include "cache/store/store.h"
#include "proxy/proxy_stats.h"

namespace cachefwd::proxy {

struct StatsSnapshot {
  const ProxyStats* stats = nullptr;
  const cache::store::StoreStats* store = nullptr;
  std::uint64_t max_bytes = 0;
  std::string policy;
  std::uint64_t rss_bytes = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t inflight = 0;
};

std::string render_stats_json(const StatsSnapshot& s);
std::string render_prometheus(const StatsSnapshot& s);

}  // namespace cachefwd::proxy
