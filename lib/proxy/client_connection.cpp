#include "proxy/client_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "proxy/connect_tunnel.h"
#include "proxy/destination_acl.h"
#include "proxy/server.h"

namespace cachefwd::proxy {

struct ClientConnection::WriteReq {
  uv_write_t req{};
  ClientConnection* conn = nullptr;
  std::string owned;
  std::shared_ptr<const std::string> hold;
  uv_buf_t bufs[4]{};
  unsigned nbufs = 0;
  std::size_t bytes = 0;
};

namespace {
constexpr std::size_t kMaxPendingInput = 1 << 20;  // pipelined bytes we hold before we stop reading
}  // namespace

ClientConnection::ClientConnection(Server& server)
    : server_(server), parser_(server.config().parser), read_deadline_(server.config().read_timeouts) {
  tcp_.data = this;
  idle_timer_.data = this;
  // Only handles that were initialised are closed (and counted) later.
  if (uv_tcp_init(server.loop(), &tcp_) == 0) {
    ++open_handles_;
    tcp_ok_ = true;
  }
  if (uv_timer_init(server.loop(), &idle_timer_) == 0) {
    ++open_handles_;
    timer_ok_ = true;
  }
}

ClientConnection::~ClientConnection() = default;

void ClientConnection::reap() {
  done_.clear();
  failed_tunnels_.clear();
}

void ClientConnection::refuse(int status, std::string_view why, http::Request request) {
  if (current_) done_.push_back(std::move(current_));
  current_ = std::make_unique<Transaction>(*this, std::move(request));
  current_->refuse(status, why);
}

void ClientConnection::start() {
  sockaddr_storage peer{};
  int len = sizeof(peer);
  bool allowed = false;
  char text[64] = "?";
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    static const std::vector<Cidr> loopback = *parse_cidr_list("127.0.0.0/8,::1");
    const std::uint8_t* bytes = nullptr;
    int len = 0;
    if (peer.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&peer);
      bytes = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
      len = 4;
      uv_ip4_name(in, text, sizeof(text));
    } else if (peer.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
      bytes = reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr);
      len = 16;
      uv_ip6_name(in6, text, sizeof(text));
    }
    if (bytes) {
      allowed = any_contains(server_.config().allow, bytes, len);
      peer_may_purge_ = any_contains(loopback, bytes, len) || any_contains(server_.config().allow_purge, bytes, len);
    }
  }
  peer_ = text;
  uv_tcp_nodelay(&tcp_, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) != 0) {
    close();
    return;
  }
  reading_ = true;
  if (!allowed) {
    std::fprintf(stderr, "cachefwd: refused client %s (not in --allow)\n", text);
    server_.stats().client_errors++;
    refuse(403, "client address not allowed by --allow");
    return;
  }
  if (!server_.admit_client(peer_)) {
    // Over the connection limits: a short 503 and close, so the client knows to retry later
    // rather than seeing a bare reset. Its one response costs less than serving it.
    server_.stats().connections_refused++;
    refuse(503, "too many connections (--max-connections / --max-connections-per-client)");
    return;
  }
  admitted_ = true;
  arm_read_timer(false);
}

void ClientConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  *buf = static_cast<ClientConnection*>(h->data)->server_.read_buffer().get();
}

void ClientConnection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<ClientConnection*>(s->data);
  self->reap();
  if (nread == 0) return;
  if (nread < 0) {
    // EOF or reset. A client that goes away abandons its request: the upstream transfer stops.
    if (self->tunnel_) {
      self->client_eof_ = true;
      self->tunnel_->on_client_eof(nread == UV_EOF);
      return;
    }
    self->close();
    return;
  }
  if (self->tunnel_) {
    self->tunnel_->on_client_data(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    return;
  }
  if (self->close_after_flush_) return;  // lingering close: discard what the client still sends
  self->inbuf_.append(buf->base, static_cast<std::size_t>(nread));
  self->process_input(true);
}

void ClientConnection::process_input(bool new_bytes) {
  if (in_process_input_) return;
  in_process_input_ = true;
  while (!current_ && !closing_ && !close_after_flush_ && !tunnel_ && inpos_ < inbuf_.size()) {
    std::size_t n = parser_.feed(inbuf_.data() + inpos_, inbuf_.size() - inpos_);
    inpos_ += n;
    if (parser_.state() == http::RequestParser::State::error) {
      server_.stats().client_errors++;
      refuse(parser_.error_status(), parser_.error_reason());
      break;
    }
    if (parser_.state() != http::RequestParser::State::complete) {
      if (parser_.head_complete() && !expectation_answered_) {
        expectation_answered_ = true;
        answer_expectation();
      }
      break;
    }
    expectation_answered_ = false;
    uv_timer_stop(&idle_timer_);
    read_deadline_.suspend();
    current_ = std::make_unique<Transaction>(*this, parser_.take());
    current_->start();
  }
  if (inpos_ == inbuf_.size()) {
    inbuf_.clear();
    inpos_ = 0;
  } else if (inpos_ > 64 * 1024) {
    inbuf_.erase(0, inpos_);
    inpos_ = 0;
  }
  in_process_input_ = false;
  if (closing_) return;
  if (!current_ && !tunnel_) arm_read_timer(new_bytes);
  // Backpressure on pipelined input: stop reading while a backlog waits behind a slow response.
  std::size_t pending = inbuf_.size() - inpos_;
  if (!tunnel_ && reading_ && current_ && pending > kMaxPendingInput) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  } else if (!reading_ && !tunnel_ && pending <= kMaxPendingInput) {
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) != 0) {
      close();
      return;
    }
    reading_ = true;
  }
}

void ClientConnection::write(std::initializer_list<std::string_view> parts, std::shared_ptr<const std::string> hold) {
  if (closing_) return;
  uv_buf_t bufs[4];
  unsigned n = 0;
  std::size_t total = 0;
  for (auto p : parts) {
    if (p.empty() || n == 4) continue;
    bufs[n++] = make_buf(p.data(), p.size());
    total += p.size();
  }
  if (n == 0) return;
  std::size_t written = 0;
  if (queued_bytes_ == 0) {
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n);
    if (r >= 0) {
      written = static_cast<std::size_t>(r);
    } else if (r != UV_EAGAIN) {
      close();
      return;
    }
    if (written == total) return;
  }
  // Queue what the socket did not take. Parts inside `hold` are referenced, the rest copied
  // (curl's buffers and our head strings do not outlive this call).
  auto* w = new WriteReq;
  w->conn = this;
  w->hold = hold;
  struct Seg {
    bool owned;
    std::size_t off;
    const char* ptr;
    std::size_t len;
  };
  Seg segs[4];
  unsigned nsegs = 0;
  std::size_t skip = written;
  for (unsigned i = 0; i < n; ++i) {
    const char* base = bufs[i].base;
    std::size_t len = bufs[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    base += skip;
    len -= skip;
    skip = 0;
    bool in_hold = hold && base >= hold->data() && base + len <= hold->data() + hold->size();
    if (in_hold) {
      segs[nsegs++] = Seg{false, 0, base, len};
    } else {
      segs[nsegs++] = Seg{true, w->owned.size(), nullptr, len};
      w->owned.append(base, len);
    }
  }
  for (unsigned i = 0; i < nsegs; ++i) {
    const char* p = segs[i].owned ? w->owned.data() + segs[i].off : segs[i].ptr;
    w->bufs[i] = make_buf(p, segs[i].len);
    w->bytes += segs[i].len;
  }
  w->nbufs = nsegs;
  w->req.data = w;
  queued_bytes_ += w->bytes;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), w->bufs, w->nbufs, on_write) != 0) {
    queued_bytes_ -= w->bytes;
    delete w;
    close();
  }
}

void ClientConnection::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  ClientConnection* self = w->conn;
  self->queued_bytes_ -= w->bytes;
  delete w;
  self->reap();
  if (status < 0) {
    if (!self->closing_) self->close();
    return;
  }
  if (self->closing_) return;
  if (self->queued_bytes_ < kLowWater) {
    if (BodySource* b = self->body()) b->proceed();
  }
  if (self->queued_bytes_ == 0 && self->close_after_flush_) self->finish_close_after_flush();
}

void ClientConnection::begin_drain() {
  if (closing_) return;
  if (!current_ && !tunnel_) {
    close();
    return;
  }
  if (current_) current_->end_keep_alive();
}

void ClientConnection::transaction_done(bool close_after) {
  if (current_) done_.push_back(std::move(current_));
  if (server_.draining()) close_after = true;
  if (close_after) {
    close_after_flush_ = true;
    if (queued_bytes_ == 0) finish_close_after_flush();
    return;
  }
  if (!in_process_input_) process_input(false);
}

void ClientConnection::finish_close_after_flush() {
  if (closing_ || shutdown_sent_) return;
  shutdown_sent_ = true;
  // Half-close and give the client a moment to read the last response before the socket goes:
  // closing with unread input would send a reset that can destroy that response.
  auto* req = new uv_shutdown_t;
  req->data = this;
  int rc = uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), [](uv_shutdown_t* r, int) {
    auto* self = static_cast<ClientConnection*>(r->data);
    delete r;
    if (self->closing_) return;
    // A client that already finished sending (a tunnel's half-close) has nothing left to say:
    // waiting for its EOF would hold the connection, and a drain, for the whole grace period.
    if (self->client_eof_)
      self->close();
    else
      uv_timer_start(&self->idle_timer_, on_idle_timeout, 2000, 0);
  });
  if (rc != 0) {
    delete req;
    close();
  }
}

void ClientConnection::arm_read_timer(bool progressed) {
  auto now = static_cast<std::int64_t>(uv_now(server_.loop()));
  read_deadline_.observe(parser_.phase(), now, progressed);
  auto deadline = read_deadline_.deadline_ms();
  if (!deadline) return;
  uv_timer_start(&idle_timer_, on_idle_timeout,
                 static_cast<std::uint64_t>(std::max<std::int64_t>(*deadline - now, 0)), 0);
}

void ClientConnection::answer_expectation() {
  // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" may wait for an interim 100
  // before the body. It gets the 100 when the request will be forwarded, or the final status now
  // when it would be refused anyway; the connection then closes, since body bytes may follow.
  const http::Request& head = parser_.head();
  auto expectation = http::request_expectation(head);
  if (expectation == http::Expectation::none ||
      (expectation == http::Expectation::continue_100 && !parser_.body_expected()))
    return;
  int status = 0;
  std::string reason;
  const auto& cfg = server_.config();
  Route route;
  if (expectation == http::Expectation::unsupported) {
    status = 417;
    reason = "only the 100-continue expectation is supported";
  } else if (head.version_major != 1) {
    status = 505;
    reason = "only HTTP/1.0 and HTTP/1.1 are supported";
  } else if (const char* err = resolve_route(cfg, head, route)) {
    status = route.error_status;
    reason = err;
  } else if (!cfg.upstream && !route.rule &&
             check_destination_host(cfg, route.target.host) == DestVerdict::deny) {
    status = 403;
    reason = "destination not allowed (--allow-dest / --deny-dest)";
  } else if (head.method == "PURGE" && !peer_may_purge_) {
    status = 403;
    reason = "PURGE is allowed from loopback and --allow-purge only";
  }
  if (status == 0) {
    write({"HTTP/1.1 100 Continue\r\n\r\n"});
    return;
  }
  server_.stats().client_errors++;
  uv_timer_stop(&idle_timer_);
  read_deadline_.suspend();
  refuse(status, reason, head);
}

void ClientConnection::on_idle_timeout(uv_timer_t* t) {
  auto* self = static_cast<ClientConnection*>(t->data);
  self->reap();
  if (self->closing_) return;
  if (!self->shutdown_sent_ && !self->current_ && self->parser_.mid_request()) {
    self->refuse(408, "request not received in time");
    return;
  }
  self->close();
}

void ClientConnection::close() {
  if (closing_) return;
  closing_ = true;
  // The body source stops producing (a fill drops this waiter, a tunnel closes).
  if (BodySource* b = body()) {
    if (current_) current_->detach_body();
    b->stop();
  }
  if (timer_ok_) uv_timer_stop(&idle_timer_);
  if (open_handles_ == 0) {
    server_.connection_closed(this);
    return;
  }
  if (tcp_ok_) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  if (timer_ok_) uv_close(reinterpret_cast<uv_handle_t*>(&idle_timer_), on_closed);
}

void ClientConnection::on_closed(uv_handle_t* h) {
  auto* self = static_cast<ClientConnection*>(h->data);
  if (--self->open_handles_ == 0) self->server_.connection_closed(self);
}

void ClientConnection::set_reading(bool on) {
  if (closing_ || on == reading_) return;
  if (on && uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) != 0) {
    close();
    return;
  }
  if (!on) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = on;
}

BodySource* ClientConnection::body() const {
  if (current_ && current_->body()) return current_->body();
  return tunnel_.get();
}

void ClientConnection::open_tunnel(std::string host, std::uint16_t port,
                                   std::function<bool(const sockaddr*)> dest_check) {
  tunnel_ = std::make_unique<ConnectTunnel>(*this, std::move(host), port, std::move(dest_check));
  tunnel_->start();
}

void ClientConnection::tunnel_failed(int status, std::string_view why) {
  failed_tunnels_.push_back(std::move(tunnel_));
  if (current_) current_->send_error(status, why, "connect-failed");
}

void ClientConnection::tunnel_done() {
  if (current_) current_->response_done(true);
}

std::string ClientConnection::take_pending_input() {
  std::string rest = inbuf_.substr(inpos_);
  inbuf_.clear();
  inpos_ = 0;
  return rest;
}

}  // namespace cachefwd::proxy
