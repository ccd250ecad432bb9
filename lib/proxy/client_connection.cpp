#include "proxy/client_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/strings.h"
#include "cache/key/cache_key.h"
#include "cache/store/stored_response.h"
#include "http/cache_control.h"
#include "http/hop_by_hop.h"
#include "http/range.h"
#include "http/status.h"
#include "metrics/access_log.h"
#include "proxy/access_logger.h"
#include "proxy/connect_tunnel.h"
#include "proxy/destination_acl.h"
#include "proxy/server.h"
#include "proxy/upstream_exchange.h"
#include "proxy/upstream_request.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

// Where a request goes once its target is resolved.
struct Route {
  http::TargetUri target;
  const rules::Rule* rule = nullptr;  // the rule whose upstream= it goes to, if any
  int error_status = 400;             // when it cannot be routed
};

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

// Where a non-CONNECT request goes: its absolute-form target, or the gateway's upstream. Returns
// the reason it cannot be routed, or nullptr.
const char* resolve_route(const ProxyConfig& cfg, const http::Request& req, Route& route) {
  if (!req.target.empty() && req.target[0] == '/') {
    if (cfg.rules->routes_upstreams()) {
      // The first rule matching the request as the client sent it (Host without port, path)
      // decides; it routes only when it names an upstream.
      const std::string* host_field = req.headers.find("host");
      std::string_view host = host_field ? std::string_view(*host_field) : std::string_view();
      if (auto colon = host.rfind(':');
          colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
        host = host.substr(0, colon);
      std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
      const rules::Rule& r = cfg.rules->match(host, path, req.method);
      if (r.upstream) route.rule = &r;
    }
    if (!cfg.upstream && !route.rule) {
      if (cfg.rules->routes_upstreams()) {
        route.error_status = 404;
        return "no rule routes this path to an upstream, and there is no --upstream";
      }
      return "origin-form request to a forward proxy: send absolute-form (curl -x) or start with --upstream";
    }
    route.target = route.rule ? *route.rule->upstream : *cfg.upstream;
    std::string_view t = req.target;
    auto q = t.find('?');
    std::string_view path = t.substr(0, q);
    std::string prefix = route.target.path == "/" ? std::string() : route.target.path;
    if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    route.target.path = prefix + std::string(path);
    route.target.has_query = q != std::string_view::npos;
    route.target.query = route.target.has_query ? std::string(t.substr(q + 1)) : std::string();
  } else if (!http::parse_absolute_target(req.target, route.target)) {
    return "malformed request target";
  } else if (cfg.upstream) {
    // A gateway serves its upstream only, whatever authority an absolute-form target names.
    auto path = route.target.path;
    auto query = route.target.query;
    bool has_query = route.target.has_query;
    route.target = *cfg.upstream;
    route.target.path = path;
    route.target.query = query;
    route.target.has_query = has_query;
  }
  return nullptr;
}

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
    state_ = State::answering;
    request_keep_alive_ = false;
    send_error(403, "client address not allowed by --allow");
    return;
  }
  if (!server_.admit_client(peer_)) {
    // Over the connection limits: a short 503 and close, so the client knows to retry later
    // rather than seeing a bare reset. Its one response costs less than serving it.
    server_.stats().connections_refused++;
    state_ = State::answering;
    request_keep_alive_ = false;
    send_error(503, "too many connections (--max-connections / --max-connections-per-client)");
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
  self->failed_tunnels_.clear();
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
  while (state_ == State::idle && !closing_ && !close_after_flush_ && !tunnel_ && inpos_ < inbuf_.size()) {
    std::size_t n = parser_.feed(inbuf_.data() + inpos_, inbuf_.size() - inpos_);
    inpos_ += n;
    if (parser_.state() == http::RequestParser::State::error) {
      server_.stats().client_errors++;
      state_ = State::answering;
      request_keep_alive_ = false;
      send_error(parser_.error_status(), parser_.error_reason());
      break;
    }
    if (parser_.state() != http::RequestParser::State::complete) {
      if (parser_.head_complete() && !expectation_answered_) {
        expectation_answered_ = true;
        answer_expectation();
      }
      break;
    }
    state_ = State::routing;
    expectation_answered_ = false;
    uv_timer_stop(&idle_timer_);
    read_deadline_.suspend();
    dispatch(parser_.take());
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
  if (state_ == State::idle && !tunnel_) arm_read_timer(new_bytes);
  // Backpressure on pipelined input: stop reading while a backlog waits behind a slow response.
  std::size_t pending = inbuf_.size() - inpos_;
  if (!tunnel_ && reading_ && state_ != State::idle && pending > kMaxPendingInput) {
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

void ClientConnection::dispatch(http::Request req) {
  auto& cfg = server_.config();
  auto& stats = server_.stats();
  stats.requests++;
  request_start_ns_ = uv_hrtime();
  request_time_ = wall_clock_now();
  resp_status_ = 0;
  resp_cache_status_.clear();
  resp_hit_ = false;
  resp_body_bytes_ = 0;
  upstream_ms_ = -1;
  current_ = std::move(req);
  http::Request& req_ = current_;
  request_keep_alive_ = req_.keep_alive;
  request_minor_ = req_.version_minor;
  request_is_head_ = req_.method == "HEAD";
  if (req_.version_major != 1) {
    request_keep_alive_ = false;
    send_error(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return;
  }
  if (http::request_expectation(req_) == http::Expectation::unsupported) {
    stats.client_errors++;
    send_error(417, "only the 100-continue expectation is supported");
    return;
  }
  if (auto via = req_.headers.combined("via"); !via.empty() && via_names(via, cfg.via_name)) {
    send_error(508, "request already passed through this proxy (Via)");
    return;
  }
  dest_check_ = nullptr;
  if (req_.is_connect) {
    std::string host;
    std::uint16_t port = 0;
    if (!http::parse_authority(req_.target, host, port)) {
      stats.client_errors++;
      request_keep_alive_ = false;
      send_error(400, "CONNECT needs host:port");
      return;
    }
    if (!cfg.connect_ports.count(port)) {
      stats.client_errors++;
      send_error(403, fmt::format("CONNECT to port {} is not allowed (--connect-ports)", port));
      return;
    }
    if (!destination_permitted(host)) return;
    stats.tunnels++;
    state_ = State::tunnel;
    tunnel_ = std::make_unique<ConnectTunnel>(*this, std::move(host), port);
    tunnel_->start();
    return;
  }

  Route route;
  if (const char* err = resolve_route(cfg, req_, route)) {
    stats.client_errors++;
    send_error(route.error_status, err);
    return;
  }
  // The gateway's upstreams are the operator's own choice; in forward mode the client picks the
  // destination, and the destination rules apply.
  if (!cfg.upstream && !route.rule && !destination_permitted(route.target.host)) return;
  current_url_ = route.target.url();
  current_key_.clear();
  if (req_.method == "PURGE") {
    if (!peer_may_purge_) {
      stats.client_errors++;
      send_error(403, "PURGE is allowed from loopback and --allow-purge only");
      return;
    }
    std::size_t removed = server_.purge_url(route.target);
    std::string body = fmt::format("{{\"purged\":{}}}\n", removed);
    int status = removed ? 200 : 404;
    std::string head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n", status,
                                   http::reason_phrase(status), body.size(), request_keep_alive_ ? "" : "Connection: close\r\n");
    note_response(status, "fwd=bypass; detail=purge", cache::flow::Outcome::bypass);
    write({head, body});
    note_body_bytes(body.size());
    response_done(false);
    return;
  }
  rules_ = cfg.rules;
  current_rule_ = route.rule ? route.rule : &rules_->match(route.target.host, route.target.path, req_.method);
  if (route.rule) service_ = route.rule->name;
  const rules::Rule& rule = *current_rule_;

  bool lookup_method = req_.method == "GET" || req_.method == "HEAD" ||
                       (rule.policy.cacheable_methods.count(req_.method) && req_.method == "POST");
  txn_ = cache::flow::Txn{};
  txn_.id = server_.next_waiter();
  txn_.method = req_.method;
  txn_.headers = &req_.headers;
  txn_.policy = &rule.policy;
  txn_.lookup = cfg.cache_enabled && rule.cache_enabled && lookup_method;
  txn_.rule_bypass = lookup_method;
  if (txn_.lookup) {
    current_key_ = cache::key::build_key(req_.method, route.target, req_.headers, req_.body, rule.key);
    txn_.key = current_key_;
    txn_.partition = server_.partition_for(rule);
  } else {
    stats.bypasses++;
    if (lookup_method)
      stats.bypass_rule++;
    else
      stats.bypass_method++;
  }
  if (cache::flow::is_unsafe(req_.method)) txn_.target = route.target;
  if (req_.method == "POST" && !txn_.lookup && cfg.cache_enabled) {
    // RFC 9110 §9.3.3: its response may turn out to be the GET answer; keyed as a GET would be.
    const rules::Rule& get_rule = rules_->match(route.target.host, route.target.path, "GET");
    if (get_rule.cache_enabled) {
      txn_.get_key = cache::key::build_key("GET", route.target, req_.headers, {}, get_rule.key);
      txn_.partition = server_.partition_for(get_rule);
    }
  }
  auto action = server_.flow().begin(txn_, wall_clock_now());
  if (txn_.lookup &&
      (action.kind == cache::flow::Action::Kind::fetch || action.kind == cache::flow::Action::Kind::join))
    stats.misses++;
  execute(action, route.target);
}

void ClientConnection::execute(cache::flow::Action& a, const http::TargetUri& target) {
  using Kind = cache::flow::Action::Kind;
  auto& stats = server_.stats();
  switch (a.kind) {
    case Kind::serve:
      state_ = State::serving;
      stats.hits++;
      serve_entry(a.entry, a.cache_status, txn_.outcome);
      return;
    case Kind::serve_stale_and_refresh: {
      // RFC 5861 §3: answer with the stale entry now; the flow names the one refresh to run.
      state_ = State::serving;
      stats.hits++;
      stats.stale_served++;
      if (a.fill) {
        auto* x = new UpstreamExchange(server_, a.fill, true, wall_clock_now());
        auto fr =
            build_upstream_request("GET", target, current_, a.entry.get(), server_.config().via_name, true);
        fr.address_check = dest_check_;
        x->start(std::move(fr), true);
      }
      serve_entry(a.entry, a.cache_status, txn_.outcome);
      return;
    }
    case Kind::join: {
      state_ = State::waiting;
      auto it = server_.exchanges().find(a.fill);
      if (it != server_.exchanges().end()) {
        sub_ = it->second->subscribe(this, txn_.id, request_is_head_, false);
        return;
      }
      // The fill has no transfer (it cannot happen while the flow and the exchanges agree).
      server_.flow().leave(a.fill, txn_.id);
      restart_uncoalesced(cache::flow::Reason::not_stored);
      return;
    }
    case Kind::fetch:
      state_ = State::waiting;
      start_fetch(a, target);
      return;
    case Kind::lookup:
      // No second tier in this build: the store's miss stands.
      {
        auto next = server_.flow().lookup_done(txn_, nullptr, wall_clock_now());
        execute(next, target);
      }
      return;
    case Kind::answer:
      send_error(a.status, a.detail, "only-if-cached");
      return;
  }
}

bool ClientConnection::destination_permitted(const std::string& host) {
  const auto& cfg = server_.config();
  switch (check_destination_host(cfg, host)) {
    case DestVerdict::allow:
      return true;
    case DestVerdict::deny:
      server_.stats().client_errors++;
      std::fprintf(stderr, "cachefwd: refused destination %s for client %s\n", host.c_str(), peer_.c_str());
      send_error(403, "destination not allowed (--allow-dest / --deny-dest)", "destination-denied");
      return false;
    case DestVerdict::check_address: {
      // Copies: a SIGHUP reload may replace the configuration while this request runs.
      bool name_allowed = destination_name_allowed(cfg, host);
      auto guard = std::make_shared<ProxyConfig>();
      guard->allow_dest_hosts = cfg.allow_dest_hosts;
      guard->allow_dest_cidrs = cfg.allow_dest_cidrs;
      guard->deny_dest_cidrs = cfg.deny_dest_cidrs;
      dest_check_ = [guard, name_allowed](const sockaddr* a) { return destination_address_allowed(*guard, a, name_allowed); };
      return true;
    }
  }
  return true;
}

void ClientConnection::start_fetch(const cache::flow::Action& a, const http::TargetUri& target) {
  const http::Request& req = current_;
  auto* x = new UpstreamExchange(server_, a.fill, false, wall_clock_now());
  sub_ = x->subscribe(this, txn_.id, request_is_head_, true);
  auto fr =
      build_upstream_request(req.method, target, req, a.entry.get(), server_.config().via_name, a.store);
  fr.address_check = dest_check_;
  x->start(std::move(fr), a.arm_timer);
}

void ClientConnection::restart_uncoalesced(cache::flow::Reason why) {
  sub_ = nullptr;
  if (closing_) return;
  http::TargetUri target;
  http::parse_absolute_target(current_url_, target);
  auto action = server_.flow().restart(txn_, why, wall_clock_now());
  execute(action, target);
}

void ClientConnection::serve_entry(const std::shared_ptr<const cache::StoredResponse>& entry,
                                   std::string_view cache_status, cache::flow::Outcome outcome) {
  sub_ = nullptr;
  state_ = State::serving;
  const auto& req = current_;
  auto d = cache::flow::deliver(*entry, req.method, req.headers, wall_clock_now());
  auto tail = [&](std::string& head) {
    head += "Age: ";
    head += std::to_string(d.age_s);
    head += "\r\nCache-Status: ";
    head += cache_status;
    head += "\r\n";
    if (!request_keep_alive_) head += "Connection: close\r\n";
    else if (request_minor_ == 0) head += "Connection: keep-alive\r\n";
    head += "\r\n";
  };
  using Kind = cache::flow::Delivery::Kind;
  if (d.kind == Kind::not_modified) {
    std::string head = "HTTP/1.1 304 Not Modified\r\n";
    for (auto& h : d.not_modified_fields.fields()) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
    tail(head);
    note_response(304, cache_status, outcome);
    write({head});
    response_done(false);
    return;
  }
  if (d.kind == Kind::partial || d.kind == Kind::unsatisfiable) {
    bool partial = d.kind == Kind::partial;
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", d.status, http::reason_phrase(d.status));
    for (auto& h : entry->headers.fields()) {
      if (iequals(h.name, "content-length") || iequals(h.name, "age") || iequals(h.name, "content-range"))
        continue;
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
    std::string_view body;
    if (partial) {
      http::ByteRange range{d.first, d.first + d.length - 1};
      head += "Content-Range: " + http::format_content_range(range, d.total) + "\r\n";
      head += fmt::format("Content-Length: {}\r\n", d.length);
      body = std::string_view(*entry->body)
                 .substr(static_cast<std::size_t>(d.first), static_cast<std::size_t>(d.length));
    } else {
      head +=
          "Content-Range: " + http::format_unsatisfied_content_range(d.total) + "\r\nContent-Length: 0\r\n";
    }
    tail(head);
    note_response(d.status, cache_status, outcome);
    if (request_is_head_ || body.empty()) {
      write({head});
    } else {
      write({head, body}, entry->body);
      note_body_bytes(body.size());
    }
    response_done(false);
    return;
  }
  std::string head;
  head.reserve(entry->head.size() + 96);
  head += entry->head;
  tail(head);
  note_response(entry->status, cache_status, outcome);
  if (request_is_head_ || !entry->body) {
    write({head});
  } else {
    write({head, *entry->body}, entry->body);
    note_body_bytes(entry->body->size());
  }
  response_done(false);
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
  if (state_ == State::idle && !tunnel_) {
    close();
    return;
  }
  request_keep_alive_ = false;
}

void ClientConnection::log_response() {
  if (resp_status_ == 0) return;
  auto& stats = server_.stats();
  stats.outcomes[static_cast<std::size_t>(resp_outcome_)]++;
  if (!service_.empty()) {
    stats.service_outcomes[service_][static_cast<std::size_t>(resp_outcome_)]++;
    service_.clear();
  }
  if (resp_outcome_ == cache::flow::Outcome::not_stored)
    stats.not_stored_by_reason[static_cast<std::size_t>(resp_reason_)]++;
  stats.bytes_sent += resp_body_bytes_;
  if (resp_hit_) {
    stats.hit_bytes += resp_body_bytes_;
    stats.hit_latency.observe(static_cast<std::int64_t>(uv_hrtime() - request_start_ns_));
  }
  if (auto* log = server_.access_log()) {
    metrics::AccessRecord r;
    r.client_addr = peer_;
    r.time = request_time_;
    r.method = current_.method;
    r.target = current_.target;
    r.http_version = fmt::format("{}.{}", current_.version_major, current_.version_minor);
    r.status = resp_status_;
    r.response_bytes = resp_body_bytes_;
    if (auto* ref = current_.headers.find("referer")) r.referer = *ref;
    if (auto* ua = current_.headers.find("user-agent")) r.user_agent = *ua;
    std::string_view cs = resp_cache_status_;
    if (cs.starts_with("cachefwd; ")) cs.remove_prefix(10);
    r.cache_status = std::string(cs);
    r.upstream_ms = upstream_ms_;
    r.total_ms = static_cast<std::int64_t>((uv_hrtime() - request_start_ns_) / 1'000'000);
    if (!current_key_.empty()) r.key = current_key_;
    log->log(r);
  }
  resp_status_ = 0;
}

void ClientConnection::response_done(bool close_after) {
  log_response();
  state_ = State::idle;
  sub_ = nullptr;
  if (server_.draining()) close_after = true;
  if (close_after || !request_keep_alive_) {
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

void ClientConnection::abort_response() {
  state_ = State::idle;
  sub_ = nullptr;
  close();
}

void ClientConnection::send_error(int status, std::string_view detail, std::string_view cache_status_detail) {
  state_ = State::answering;
  std::string body = fmt::format("{} {}: {}\n", status, http::reason_phrase(status), detail);
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Status: "
      "cachefwd; fwd=bypass; detail={}\r\n",
      status, http::reason_phrase(status), body.size(),
      cache_status_detail.empty() ? std::string_view("proxy-error") : cache_status_detail);
  bool close_after = !request_keep_alive_ || status == 400 || status == 413 || status == 431 || status == 403;
  head += close_after ? "Connection: close\r\n\r\n" : (request_minor_ == 0 ? "Connection: keep-alive\r\n\r\n" : "\r\n");
  note_response(
      status,
      fmt::format("fwd=bypass; detail={}", cache_status_detail.empty() ? "proxy-error" : cache_status_detail),
      cache_status_detail == "only-if-cached" ? cache::flow::Outcome::only_if_cached
                                              : cache::flow::Outcome::error);
  if (request_is_head_) {
    write({head});
  } else {
    write({head, body});
    note_body_bytes(body.size());
  }
  response_done(close_after);
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
  current_ = head;
  state_ = State::answering;
  request_keep_alive_ = false;
  request_minor_ = head.version_minor;
  request_is_head_ = false;
  uv_timer_stop(&idle_timer_);
  read_deadline_.suspend();
  send_error(status, reason);
}

void ClientConnection::on_idle_timeout(uv_timer_t* t) {
  auto* self = static_cast<ClientConnection*>(t->data);
  if (self->closing_) return;
  if (!self->shutdown_sent_ && self->state_ == State::idle && self->parser_.mid_request()) {
    self->state_ = State::answering;
    self->request_keep_alive_ = false;
    self->send_error(408, "request not received in time");
    return;
  }
  self->close();
}

void ClientConnection::close() {
  if (closing_) return;
  closing_ = true;
  // The body source stops producing (a fill drops this waiter, a tunnel closes).
  if (BodySource* b = body()) {
    sub_ = nullptr;
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
  if (sub_) return sub_;
  return tunnel_.get();
}

void ClientConnection::tunnel_failed(int status, std::string_view why) {
  failed_tunnels_.push_back(std::move(tunnel_));
  send_error(status, why, "connect-failed");
}

std::string ClientConnection::take_pending_input() {
  std::string rest = inbuf_.substr(inpos_);
  inbuf_.clear();
  inpos_ = 0;
  return rest;
}

}  // namespace cachefwd::proxy
