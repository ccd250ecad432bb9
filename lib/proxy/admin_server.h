#pragma once
// --admin ADDR:PORT: the operator's API, on its own listener.
//   GET  /stats                     JSON counters
//   GET  /metrics                   Prometheus text exposition
//   GET  /healthz                   "ok"
//   POST /purge?url=URL             every stored variant of one URL
//   POST /purge?prefix=URL          everything under a URL prefix
//   POST /purge?tag=TAG             everything the origin tagged (Cache-Tag / Surrogate-Key)
//   POST /purge?partition=NAME      a rule partition
//   POST /purge?all=1               everything
// With a token (--admin-token / --admin-token-file) every request needs
// "Authorization: Bearer TOKEN"; off loopback a token is required to start at all.
#include <uv.h>

#include <optional>
#include <string>
#include <unordered_set>

#include "proxy/proxy_config.h"

namespace cachefwd::proxy {

class Server;

class AdminServer {
 public:
  AdminServer(Server& server, ListenAddress address, std::string token);
  ~AdminServer();
  std::optional<std::string> start();
  void stop();
  std::uint16_t port() const;

  struct Connection;
  // The response to one admin request: status, content type, body.
  struct Reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };
  Reply handle(const http::Request& req);

 private:
  static void on_connection(uv_stream_t* listener, int status);

  Server& server_;
  ListenAddress address_;
  std::string token_;
  uv_tcp_t* listener_ = nullptr;
  std::unordered_set<Connection*> connections_;

  friend struct Connection;
};

// Reads the process's resident set size from /proc/self/statm (0 when unavailable).
std::uint64_t process_rss_bytes();

}  // namespace cachefwd::proxy
