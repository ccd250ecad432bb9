#include "proxy/connect_tunnel.h"

#include <fmt/format.h>

#include "proxy/client_connection.h"
#include "proxy/server.h"

namespace cachefwd::proxy {

struct ConnectTunnel::Remote {
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  ConnectTunnel* owner = nullptr;
  std::size_t queued = 0;
  bool reading = false;
};

namespace {
struct RemoteWrite {
  uv_write_t req{};
  std::string data;
};
constexpr std::size_t kMaxEarlyData = 1 << 20;
}  // namespace

// Reads from the remote land in the loop's buffer (the owner's server), like client reads.
void ConnectTunnel::alloc_remote(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* r = static_cast<Remote*>(h->data);
  *buf = r->owner ? r->owner->conn_.server().read_buffer().get() : make_buf(nullptr, 0);
}

// Half-closes towards the remote; a refused shutdown (already closed) must not leak its request.
void ConnectTunnel::shutdown_remote(Remote* r) {
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&r->tcp), [](uv_shutdown_t* s, int) { delete s; }) != 0)
    delete req;
}

ConnectTunnel::ConnectTunnel(ClientConnection& conn, std::string host, std::uint16_t port,
                             std::function<bool(const sockaddr*)> dest_check)
    : conn_(conn), host_(std::move(host)), port_(port), dest_check_(std::move(dest_check)) {}

ConnectTunnel::~ConnectTunnel() { close(); }

void ConnectTunnel::start() {
  timer_ = new uv_timer_t;
  uv_timer_init(conn_.server().loop(), timer_);
  timer_->data = this;
  last_activity_ = uv_now(conn_.server().loop());
  uv_timer_start(timer_, on_timer,
                 static_cast<std::uint64_t>(conn_.server().config().upstream_options.connect_timeout_ms), 0);
  resolve_ = new uv_getaddrinfo_t;
  resolve_->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(port_);
  int rc = uv_getaddrinfo(conn_.server().loop(), resolve_, on_resolved, host_.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    delete resolve_;
    resolve_ = nullptr;
    fail(502, fmt::format("cannot resolve {}: {}", host_, uv_strerror(rc)));
  }
}

void ConnectTunnel::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<ConnectTunnel*>(req->data);
  delete req;
  if (!self) {
    uv_freeaddrinfo(res);
    return;
  }
  self->resolve_ = nullptr;
  if (status != 0 || !res) {
    uv_freeaddrinfo(res);
    self->fail(502, fmt::format("cannot resolve {}: {}", self->host_, uv_strerror(status)));
    return;
  }
  if (const auto& check = self->dest_check_; check && !check(res->ai_addr)) {
    uv_freeaddrinfo(res);
    self->fail(403, fmt::format("destination {} not allowed (--allow-dest / --deny-dest)", self->host_));
    return;
  }
  auto* r = new Remote;
  r->owner = self;
  uv_tcp_init(self->conn_.server().loop(), &r->tcp);
  r->tcp.data = r;
  r->connect.data = r;
  self->remote_ = r;
  int rc = uv_tcp_connect(&r->connect, &r->tcp, res->ai_addr, on_connected);
  uv_freeaddrinfo(res);
  if (rc != 0) self->fail(502, fmt::format("cannot connect to {}:{}: {}", self->host_, self->port_, uv_strerror(rc)));
}

void ConnectTunnel::on_connected(uv_connect_t* req, int status) {
  auto* r = static_cast<Remote*>(req->data);
  ConnectTunnel* self = r->owner;
  if (!self || status == UV_ECANCELED) return;
  if (status != 0) {
    self->fail(502, fmt::format("cannot connect to {}:{}: {}", self->host_, self->port_, uv_strerror(status)));
    return;
  }
  self->established_ = true;
  self->last_activity_ = uv_now(self->conn_.server().loop());
  uv_timer_start(self->timer_, on_timer,
                 static_cast<std::uint64_t>(self->conn_.server().config().tunnel_idle_timeout_ms), 0);
  uv_tcp_nodelay(&r->tcp, 1);
  self->conn_.write({"HTTP/1.1 200 Connection Established\r\n\r\n"});
  std::string early = self->conn_.take_pending_input();
  early += self->early_data_;
  self->early_data_.clear();
  if (!early.empty()) self->write_remote(early);
  r->reading = true;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&r->tcp),
      alloc_remote,
      on_remote_read);
  if (self->client_eof_) shutdown_remote(r);
}

void ConnectTunnel::on_remote_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* r = static_cast<Remote*>(s->data);
  ConnectTunnel* self = r->owner;
  if (!self || nread == 0) return;
  if (nread < 0) {
    self->remote_eof_ = true;
    uv_read_stop(s);
    r->reading = false;
    if (nread != UV_EOF) {
      self->conn_.close();
      return;
    }
    // The remote finished: flush what it sent, then half-close towards the client.
    self->conn_.tunnel_done();
    return;
  }
  self->last_activity_ = uv_now(self->conn_.server().loop());
  self->conn_.write({std::string_view(buf->base, static_cast<std::size_t>(nread))});
  if (self->conn_.queued_bytes() >= ClientConnection::kHighWater) {
    uv_read_stop(s);
    r->reading = false;
  }
}

void ConnectTunnel::write_remote(std::string_view data) {
  if (!remote_) return;
  auto* w = new RemoteWrite;
  w->data.assign(data);
  w->req.data = remote_;
  remote_->queued += w->data.size();
  uv_buf_t b = make_buf(w->data.data(), w->data.size());
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&remote_->tcp), &b, 1, [](uv_write_t* req, int status) {
    auto* w = reinterpret_cast<RemoteWrite*>(req);
    auto* r = static_cast<Remote*>(req->data);
    r->queued -= w->data.size();
    delete w;
    ConnectTunnel* self = r->owner;
    if (!self) return;
    if (status < 0) {
      self->conn_.close();
      return;
    }
    if (r->queued < ClientConnection::kLowWater) self->conn_.set_reading(true);
  });
  if (rc != 0) {
    remote_->queued -= w->data.size();
    delete w;
    conn_.close();
    return;
  }
  if (remote_->queued >= ClientConnection::kHighWater) conn_.set_reading(false);
}

void ConnectTunnel::on_client_data(std::string_view data) {
  if (closed_) return;
  last_activity_ = uv_now(conn_.server().loop());
  if (!established_) {
    if (early_data_.size() + data.size() > kMaxEarlyData) {
      conn_.close();
      return;
    }
    early_data_.append(data);
    return;
  }
  write_remote(data);
}

void ConnectTunnel::on_client_eof(bool clean) {
  if (!clean || !established_ || remote_eof_) {
    conn_.close();
    return;
  }
  client_eof_ = true;
  conn_.set_reading(false);
  shutdown_remote(remote_);
}

void ConnectTunnel::on_client_drained() {
  if (remote_ && !remote_->reading && !remote_eof_ && established_) {
    remote_->reading = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&remote_->tcp),
        alloc_remote,
        on_remote_read);
  }
}

void ConnectTunnel::on_timer(uv_timer_t* t) {
  auto* self = static_cast<ConnectTunnel*>(t->data);
  if (self->closed_) return;
  if (!self->established_) {
    self->fail(504, fmt::format("cannot connect to {}:{}: timed out", self->host_, self->port_));
    return;
  }
  // Time since the last byte either way decides; bytes do not restart the timer each time.
  std::uint64_t now = uv_now(self->conn_.server().loop());
  auto limit = static_cast<std::uint64_t>(self->conn_.server().config().tunnel_idle_timeout_ms);
  if (now - self->last_activity_ < limit) {
    uv_timer_start(t, on_timer, limit - (now - self->last_activity_), 0);
    return;
  }
  self->conn_.close();
}

void ConnectTunnel::fail(int status, std::string_view why) {
  if (closed_) return;
  close();
  // The connection goes back to reading requests: this tunnel is over before it began.
  conn_.tunnel_failed(status, why);
}

void ConnectTunnel::close() {
  if (closed_) return;
  closed_ = true;
  if (timer_) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (resolve_) {
    resolve_->data = nullptr;  // on_resolved frees it
    uv_cancel(reinterpret_cast<uv_req_t*>(resolve_));
    resolve_ = nullptr;
  }
  if (remote_) {
    remote_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&remote_->tcp), [](uv_handle_t* h) { delete static_cast<Remote*>(h->data); });
    remote_ = nullptr;
  }
}

}  // namespace cachefwd::proxy
