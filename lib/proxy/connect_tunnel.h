#pragma once
// CONNECT host:port (RFC 9110 §9.3.6): a byte tunnel between the client and a TCP connection we
// open, never cached and never parsed. Both directions have backpressure.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proxy/body_source.h"

namespace cachefwd::proxy {

class ClientConnection;

// A body source for its client connection: proceed() resumes reading the remote, stop() closes.
class ConnectTunnel final : public BodySource {
 public:
  // `dest_check` guards the resolved address (--allow-dest / --deny-dest), when set.
  ConnectTunnel(ClientConnection& conn, std::string host, std::uint16_t port,
                std::function<bool(const sockaddr*)> dest_check);
  ~ConnectTunnel() override;
  void proceed() override { on_client_drained(); }
  void stop() override { close(); }

  void start();
  void on_client_data(std::string_view data);
  void on_client_eof(bool clean);
  void on_client_drained();
  void close();

 private:
  struct Remote;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connected(uv_connect_t* req, int status);
  static void on_remote_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void alloc_remote(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void shutdown_remote(Remote* r);
  void write_remote(std::string_view data);
  void fail(int status, std::string_view why);
  void maybe_finish();
  static void on_timer(uv_timer_t* t);

  ClientConnection& conn_;
  std::string host_;
  std::uint16_t port_;
  std::function<bool(const sockaddr*)> dest_check_;
  Remote* remote_ = nullptr;  // freed by its own close callback
  // Connect deadline until established, then the idle timeout; freed by its close callback.
  uv_timer_t* timer_ = nullptr;
  std::uint64_t last_activity_ = 0;  // uv_now() of the last byte either way
  uv_getaddrinfo_t* resolve_ = nullptr;
  bool established_ = false;
  bool closed_ = false;
  bool client_eof_ = false;
  bool remote_eof_ = false;
  std::string early_data_;  // client bytes that arrived before the remote connection was up
};

}  // namespace cachefwd::proxy
