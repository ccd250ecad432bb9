#pragma once
// One client TCP connection: reads and parses requests, hands each to a Transaction and answers
// them in order (pipelining), owns the CONNECT tunnel once one is set up, and writes with
// backpressure.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/read_deadline.h"
#include "http/request_parser.h"
#include "proxy/body_source.h"
#include "proxy/transaction.h"

namespace cachefwd::proxy {

class Server;
class ConnectTunnel;

class ClientConnection {
 public:
  explicit ClientConnection(Server& server);
  ~ClientConnection();

  // No current request: reading the next one. Otherwise current() is the one being answered.
  bool idle() const { return !current_; }
  Transaction* current() { return current_.get(); }

  uv_tcp_t* handle() { return &tcp_; }
  // Both handles were initialised; otherwise close() (no accept) is all it is good for.
  bool usable() const { return tcp_ok_ && timer_ok_; }
  Server& server() { return server_; }
  // Called once accepted: checks the ACL, then starts reading.
  void start();
  // Closes the socket now (pending output is dropped); the object deletes itself later.
  void close();
  // The server is draining: close now when idle, else after the current response.
  void begin_drain();

  // Writes `parts` in order. Parts that point into `hold` are sent from it without a copy (hold
  // is kept alive until written); others are copied only if the socket does not take them now.
  void write(std::initializer_list<std::string_view> parts,
             std::shared_ptr<const std::string> hold = nullptr);
  std::size_t queued_bytes() const { return queued_bytes_; }
  // The current transaction's response has been fully handed to write(). Continues with the next
  // pipelined request, or closes when the response or request asked for it. The transaction is
  // deleted once no callback of its own can be on the stack (the next socket callback).
  void transaction_done(bool close_after);

  static constexpr std::size_t kHighWater = 256 * 1024;
  static constexpr std::size_t kLowWater = 64 * 1024;

  // Starts a CONNECT tunnel for the current request; `dest_check` guards its resolved address.
  void open_tunnel(std::string host, std::uint16_t port, std::function<bool(const sockaddr*)> dest_check);
  // Tunnel support: flow control of the client side, and the raw bytes that followed CONNECT.
  void set_reading(bool on);
  std::string take_pending_input();
  // The CONNECT could not be established: answer it, and read the next request on this connection.
  void tunnel_failed(int status, std::string_view why);
  // The tunnel's remote finished: flush what it sent, then close.
  void tunnel_done();
  bool closing() const { return closing_; }
  // Counted against the connection limits (Server::admit_client), under this client address.
  bool admitted() const { return admitted_; }
  const std::string& peer() const { return peer_; }
  // Loopback or in --allow-purge.
  bool peer_may_purge() const { return peer_may_purge_; }

 private:
  struct WriteReq;
  static void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_closed(uv_handle_t* h);
  static void on_idle_timeout(uv_timer_t* t);

  // new_bytes: input just arrived (it restarts the body idle clock; see http::ReadDeadline).
  void process_input(bool new_bytes);
  // Answers `status` on a transaction of its own (the request could not be read, or the client may
  // not be served), then closes.
  void refuse(int status, std::string_view why, http::Request request = {});
  // Arms the one read timer for the current phase: keep-alive idle, request head, or body idle.
  void arm_read_timer(bool progressed);
  // Once a request head is in and its body is still to come: 100 Continue, or a final status.
  void answer_expectation();
  void finish_close_after_flush();
  // The current response's body source: the transaction's fill, or the tunnel (null for stored
  // and generated bodies).
  BodySource* body() const;
  // Frees finished transactions and failed tunnels; called from socket callbacks only, where none
  // of their own callbacks can be on the stack.
  void reap();

  Server& server_;
  uv_tcp_t tcp_{};
  uv_timer_t idle_timer_{};
  int open_handles_ = 0;
  bool tcp_ok_ = false;    // uv_tcp_init succeeded
  bool timer_ok_ = false;  // uv_timer_init succeeded
  http::RequestParser parser_;
  http::ReadDeadline read_deadline_;
  bool expectation_answered_ = false;  // for the request being read
  std::string inbuf_;
  std::size_t inpos_ = 0;
  bool reading_ = false;
  bool in_process_input_ = false;
  bool closing_ = false;
  bool close_after_flush_ = false;
  bool shutdown_sent_ = false;
  bool client_eof_ = false;  // the client half-closed (seen only while tunnelling)
  std::size_t queued_bytes_ = 0;
  std::unique_ptr<Transaction> current_;
  // Transactions whose response is written, kept until no callback of theirs can be on the stack.
  std::vector<std::unique_ptr<Transaction>> done_;
  std::unique_ptr<ConnectTunnel> tunnel_;
  // Failed tunnels, kept until no callback of theirs can be on the stack (the next read).
  std::vector<std::unique_ptr<ConnectTunnel>> failed_tunnels_;
  std::string peer_;  // client address, for logs and the per-client limit
  bool admitted_ = false;
  bool peer_may_purge_ = false;  // loopback or in --allow-purge
};

}  // namespace cachefwd::proxy
