#pragma once
// `cachefwd serve`: listeners, the connection set, and the shared parts every connection uses
// (store, upstream client, counters).
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/time.h"
#include "cache/store/store.h"
#include "cache/store/stored_response.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_stats.h"
#include "rules/rule.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

class ClientConnection;
class AccessLogger;
class UpstreamExchange;

class Server {
 public:
  Server(uv_loop_t* loop, ProxyConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every configured address. Returns a one-line error (e.g. the port is in
  // use) and listens on nothing when any address fails.
  std::optional<std::string> start();
  // Closes listeners, connections and upstream transfers; the loop then runs to completion.
  void stop();
  // Graceful stop: no new connections; idle connections close now, busy ones after their current
  // response; whatever is still running after `timeout_ms` is cut by stop().
  void drain(std::int64_t timeout_ms);
  bool draining() const { return draining_; }
  // Applies a reloaded configuration (SIGHUP): access lists, ports, cache policy, timeouts.
  // Listeners and the store's size stay as they are, and so does everything stored.
  void reload(const ProxyConfig& fresh);

  uv_loop_t* loop() const { return loop_; }
  const ProxyConfig& config() const { return config_; }
  ProxyStats& stats() { return stats_; }
  cache::store::Store& store() { return *store_; }
  upstream::UpstreamClient& upstream() { return *upstream_; }
  // The ports actually bound (useful with port 0).
  std::vector<std::uint16_t> bound_ports() const;

  void connection_closed(ClientConnection* c);
  // Counts a client connection from `client` (its address) against --max-connections and
  // --max-connections-per-client; false when it is over either. Admitted ones are released when
  // they close.
  bool admit_client(const std::string& client);
  std::size_t open_connections() const { return connections_.size(); }
  // The access log, when --access-log is set.
  AccessLogger* access_log() { return access_log_.get(); }
  void reopen_logs();

  // Fetches that later requests for the same key may join.
  std::unordered_map<std::string, UpstreamExchange*>& inflight() { return inflight_; }
  // Hit-for-miss memory: keys whose last response could not be stored.
  void remember_uncacheable(const std::string& key, UnixMillis now);
  void forget_uncacheable(const std::string& key);
  bool is_uncacheable(const std::string& key, UnixMillis now);
  // Every live exchange, so that stop() can end background ones nobody waits for.
  std::unordered_set<UpstreamExchange*>& exchanges() { return exchanges_; }
  // Deletes the exchange after the current callback chain has unwound.
  void retire(UpstreamExchange* x);
  // Inserts a complete response, under its variant key when it has Vary (RFC 9111 §4.1), in the
  // store partition of the rule it was fetched under, filed under its cache tags.
  void store_response(std::shared_ptr<cache::StoredResponse> entry, const http::Headers& request_headers,
                      cache::store::PartitionId partition);
  // The store partition for a rule: rules with their own limits get one, others share the default.
  cache::store::PartitionId partition_for(const rules::Rule& rule);
  const std::unordered_map<std::string, cache::store::PartitionId>& partitions() const { return partitions_; }

  // Purge (admin API, PURGE method) and RFC 9111 §4.4 invalidation. Each returns entries removed.
  // Every variant, method and rule-specific key of one URL (keys differ per rule's key policy).
  std::size_t purge_url(const http::TargetUri& target);
  // Everything under a URL prefix such as http://host/api/ (the port is implied when absent).
  std::size_t purge_prefix(const http::TargetUri& prefix);
  std::size_t purge_tag(std::string_view tag);
  std::size_t purge_partition(std::string_view partition);
  std::size_t purge_all();
  // Looks `key` up, following a Vary marker to the variant this request selects. Null on a miss.
  std::shared_ptr<const cache::StoredResponse> lookup(const std::string& key, const http::Headers& request_headers);

 private:
  static void on_new_connection(uv_stream_t* listener, int status);

  uv_loop_t* loop_;
  ProxyConfig config_;
  ProxyStats stats_;
  std::unique_ptr<cache::store::Store> store_;
  std::unique_ptr<upstream::UpstreamClient> upstream_;
  std::vector<uv_tcp_t*> listeners_;
  std::unordered_set<ClientConnection*> connections_;
  std::size_t admitted_ = 0;
  std::unordered_map<std::string, std::size_t> admitted_per_client_;
  std::unique_ptr<AccessLogger> access_log_;
  bool stopping_ = false;
  bool draining_ = false;
  uv_timer_t* drain_timer_ = nullptr;
  std::unordered_map<std::string, UpstreamExchange*> inflight_;
  std::unordered_map<std::string, UnixMillis> uncacheable_;
  std::vector<UpstreamExchange*> retired_;
  std::unordered_set<UpstreamExchange*> exchanges_;
  std::unordered_map<std::string, cache::store::PartitionId> partitions_;
  uv_check_t* reaper_ = nullptr;
};

}  // namespace cachefwd::proxy
