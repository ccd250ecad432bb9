#pragma once
// `cachefwd serve`: listeners, the connection set, and the shared parts every connection uses
// (store, upstream client, counters).
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "cache/store/store.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_stats.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

class ClientConnection;

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

  uv_loop_t* loop() const { return loop_; }
  const ProxyConfig& config() const { return config_; }
  ProxyStats& stats() { return stats_; }
  cache::store::Store& store() { return *store_; }
  upstream::UpstreamClient& upstream() { return *upstream_; }
  // The ports actually bound (useful with port 0).
  std::vector<std::uint16_t> bound_ports() const;

  void connection_closed(ClientConnection* c);

 private:
  static void on_new_connection(uv_stream_t* listener, int status);

  uv_loop_t* loop_;
  ProxyConfig config_;
  ProxyStats stats_;
  std::unique_ptr<cache::store::Store> store_;
  std::unique_ptr<upstream::UpstreamClient> upstream_;
  std::vector<uv_tcp_t*> listeners_;
  std::unordered_set<ClientConnection*> connections_;
  bool stopping_ = false;
};

}  // namespace cachefwd::proxy
