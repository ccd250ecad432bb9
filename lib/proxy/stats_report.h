#pragma once
// The proxy's counters as JSON (GET /stats) and Prometheus text (GET /metrics).
#include <cstdint>
#include <string>
#include <vector>

#include "cache/store/store.h"
#include "proxy/proxy_stats.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

struct StatsSnapshot {
  const ProxyStats* stats = nullptr;
  const cache::store::StoreStats* store = nullptr;
  std::uint64_t max_bytes = 0;
  std::string policy;
  std::uint64_t rss_bytes = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t inflight = 0;
  upstream::UpstreamCounters upstream;  // connection pool, TLS and HTTP/2 use
  struct Partition {
    std::string name;
    const cache::store::StoreStats* stats;
    std::uint64_t max_bytes, max_entries;
  };
  std::vector<Partition> partitions;  // rule partitions with limits of their own
};

std::string render_stats_json(const StatsSnapshot& s);
std::string render_prometheus(const StatsSnapshot& s);

}  // namespace cachefwd::proxy
