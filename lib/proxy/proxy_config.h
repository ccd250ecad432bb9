#pragma once
// Everything `cachefwd serve` is configured with, immutable once the server starts.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/cidr.h"
#include "cache/policy/config.h"
#include "cache/store/store.h"
#include "http/read_deadline.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "metrics/access_log.h"
#include "rules/rule.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 (without brackets)
  std::uint16_t port = 0;
};
// "127.0.0.1:3128", "[::1]:3128", ":3128" (all IPv4 interfaces). nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

struct ProxyConfig {
  std::vector<ListenAddress> listen;
  // Gateway mode: origin-form requests go to this upstream (its path, if any, is a prefix).
  std::optional<http::TargetUri> upstream;
  std::vector<Cidr> allow;             // proxy clients; loopback by default (an open proxy is an incident)
  std::set<std::uint16_t> connect_ports{443};
  bool cache_enabled = true;
  // Per-route policy; the default rule carries the global flags. Shared so that a request keeps
  // the rule it matched even if SIGHUP swaps the set while it runs.
  std::shared_ptr<const rules::RuleSet> rules = std::make_shared<const rules::RuleSet>(rules::Rule{});
  cache::policy::PolicyConfig policy;  // the default rule's, kept for code that has no route
  cache::store::StoreLimits store_limits;
  std::string eviction_policy = "s3fifo";
  std::uint64_t max_object_size = 16ULL << 20;  // bigger responses stream through uncached
  http::ParserLimits parser;
  upstream::UpstreamOptions upstream_options;
  std::int64_t tunnel_idle_timeout_ms = 300'000;  // a CONNECT tunnel with no byte either way is closed
  // Client connections at once, in total and from one client address; more are answered 503.
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_client = 1024;
  http::ReadTimeouts read_timeouts;              // keep-alive idle, request head deadline, body idle
  bool coalesce = true;                          // concurrent misses on one key share one fetch
  std::int64_t coalesce_timeout_ms = 5'000;      // how long a joiner waits for the response head
  std::int64_t hit_for_miss_ms = 30'000;         // an uncacheable key skips coalescing this long
  std::int64_t drain_timeout_ms = 10'000;        // SIGTERM: how long in-flight requests may finish
  std::string via_name = "cachefwd";
  std::string access_log;  // path, "-" for stdout, empty = none
  std::optional<ListenAddress> admin;  // --admin
  std::string admin_token;             // required off loopback
  std::vector<Cidr> allow_purge;       // besides loopback, who may send PURGE to the proxy port
  // Destinations (SSRF guard when the proxy is exposed): host globs, and CIDRs checked against
  // the literal or resolved address. An allow list, when given, must match; a deny entry refuses.
  std::vector<std::string> allow_dest_hosts, deny_dest_hosts;
  std::vector<Cidr> allow_dest_cidrs, deny_dest_cidrs;
  metrics::AccessLogFormat access_log_format = metrics::AccessLogFormat::combined;
};

}  // namespace cachefwd::proxy
