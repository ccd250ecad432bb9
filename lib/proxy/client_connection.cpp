#include "proxy/client_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/strings.h"
#include "cache/key/cache_key.h"
#include "cache/policy/policy.h"
#include "cache/store/stored_response.h"
#include "http/cache_control.h"
#include "http/hop_by_hop.h"
#include "http/range.h"
#include "http/status.h"
#include "metrics/access_log.h"
#include "proxy/access_logger.h"
#include "proxy/connect_tunnel.h"
#include "proxy/destination_acl.h"
#include "proxy/upstream_exchange.h"
#include "proxy/upstream_request.h"
#include "proxy/server.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

namespace policy = cache::policy;

// Where a request goes once its target is resolved.
struct Route {
  http::TargetUri target;
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
// One read buffer for every connection: the loop is single-threaded and each read is consumed
// (appended to the connection's input) before the next one.
char g_read_buffer[64 * 1024];
constexpr std::size_t kMaxPendingInput = 1 << 20;  // pipelined bytes we hold before we stop reading

// Where a non-CONNECT request goes: its absolute-form target, or the gateway's upstream. Returns
// the reason it cannot be routed, or nullptr.
const char* resolve_route(const ProxyConfig& cfg, const http::Request& req, Route& route) {
  if (!req.target.empty() && req.target[0] == '/') {
    if (!cfg.upstream)
      return "origin-form request to a forward proxy: send absolute-form (curl -x) or start with --upstream";
    route.target = *cfg.upstream;
    std::string_view t = req.target;
    auto q = t.find('?');
    std::string_view path = t.substr(0, q);
    std::string prefix = route.target.path == "/" ? std::string() : route.target.path;
    if (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    route.target.path = prefix + std::string(path);
    route.target.has_query = q != std::string_view::npos;
    route.target.query = route.target.has_query ? std::string(t.substr(q + 1)) : std::string();
  } else if (!http::parse_absolute_target(req.target, route.target)) {
    return istarts_with(req.target, "https://") ? "https is proxied with CONNECT, not absolute-form"
                                                : "malformed request target";
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
  uv_tcp_init(server.loop(), &tcp_);
  uv_timer_init(server.loop(), &idle_timer_);
  tcp_.data = this;
  idle_timer_.data = this;
  open_handles_ = 2;
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
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  if (!allowed) {
    std::fprintf(stderr, "cachefwd: refused client %s (not in --allow)\n", text);
    server_.stats().client_errors++;
    active_ = true;
    request_keep_alive_ = false;
    send_error(403, "client address not allowed by --allow");
    return;
  }
  if (!server_.admit_client(peer_)) {
    // Over the connection limits: a short 503 and close, so the client knows to retry later
    // rather than seeing a bare reset. Its one response costs less than serving it.
    server_.stats().connections_refused++;
    active_ = true;
    request_keep_alive_ = false;
    send_error(503, "too many connections (--max-connections / --max-connections-per-client)");
    return;
  }
  admitted_ = true;
  arm_read_timer(false);
}

void ClientConnection::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(g_read_buffer, sizeof(g_read_buffer));
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
  while (!active_ && !closing_ && !close_after_flush_ && !tunnel_ && inpos_ < inbuf_.size()) {
    std::size_t n = parser_.feed(inbuf_.data() + inpos_, inbuf_.size() - inpos_);
    inpos_ += n;
    if (parser_.state() == http::RequestParser::State::error) {
      server_.stats().client_errors++;
      active_ = true;
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
    active_ = true;
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
  if (!active_ && !tunnel_) arm_read_timer(new_bytes);
  // Backpressure on pipelined input: stop reading while a backlog waits behind a slow response.
  std::size_t pending = inbuf_.size() - inpos_;
  if (!tunnel_ && reading_ && active_ && pending > kMaxPendingInput) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  } else if (!reading_ && !tunnel_ && pending <= kMaxPendingInput) {
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
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
  if (auto via = req_.headers.combined("via"); !via.empty() && via.find(cfg.via_name) != std::string::npos) {
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
    tunnel_ = std::make_unique<ConnectTunnel>(*this, std::move(host), port);
    tunnel_->start();
    return;
  }

  Route route;
  if (const char* err = resolve_route(cfg, req_, route)) {
    stats.client_errors++;
    send_error(400, err);
    return;
  }
  // The gateway's upstream is the operator's own choice; in forward mode the client picks the
  // destination, and the destination rules apply.
  if (!cfg.upstream && !destination_permitted(route.target.host)) return;
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
    note_response(status, "fwd=bypass; detail=purge", false);
    write({head, body});
    note_body_bytes(body.size());
    response_done(false);
    return;
  }
  rules_ = cfg.rules;
  current_rule_ = &rules_->match(route.target.host, route.target.path, req_.method);
  const rules::Rule& rule = *current_rule_;

  bool lookup_method = req_.method == "GET" || req_.method == "HEAD" ||
                       (rule.policy.cacheable_methods.count(req_.method) && req_.method == "POST");
  if (cfg.cache_enabled && rule.cache_enabled && lookup_method) {
    handle_cacheable(route);
    return;
  }
  stats.bypasses++;
  if (lookup_method) stats.bypass_rule++;
  else stats.bypass_method++;
  FetchPlan plan;
  plan.fwd = lookup_method ? "bypass" : "method";
  if (lookup_method) plan.detail = "rule";
  plan.method = req_.method;
  plan.request_time = wall_clock_now();
  plan.policy = rule.policy;
  plan.max_object_size = cfg.max_object_size;
  // RFC 9111 §4.4: a successful unsafe request invalidates what is stored for its target.
  if (!policy::is_safe_method(req_.method)) {
    plan.invalidate_target = route.target;
    plan.invalidate_key_policy = rule.key;
  }
  start_fetch(std::move(plan), route, false);
}

void ClientConnection::handle_cacheable(Route& route) {
  auto& cfg = server_.config();
  auto& stats = server_.stats();
  const http::Request& req = current_;
  UnixMillis now = wall_clock_now();
  const rules::Rule& rule = *current_rule_;
  current_key_ = cache::key::build_key(req.method, route.target, req.headers, req.body, rule.key);
  bool has_range = req.headers.has("range");

  FetchPlan plan;
  plan.fwd = "uri-miss";
  plan.key = current_key_;
  plan.method = req.method;
  plan.request_time = now;
  plan.policy = rule.policy;
  plan.max_object_size = cfg.max_object_size;
  plan.partition = server_.partition_for(rule);

  if (auto entry = server_.lookup(current_key_, req.headers)) {
    std::int64_t age = policy::current_age_ms(entry->corrected_initial_age_ms, entry->response_time, now);
    std::int64_t lifetime = entry->freshness_lifetime_ms;
    auto serve = policy::can_serve_stored(req.headers, entry->cache_control, lifetime, age);
    if (serve != policy::Serve::must_validate) {
      stats.hits++;
      std::int64_t ttl_ms = lifetime - age;
      serve_entry(entry, policy::cache_status_hit(ttl_ms >= 0 ? ttl_ms / 1000 : -((-ttl_ms + 999) / 1000)));
      return;
    }
    if (age >= lifetime && policy::may_serve_stale_while_revalidate(req.headers, entry->headers, lifetime, age)) {
      // RFC 5861 §3: answer with the stale entry now, refresh it in the background (once).
      stats.hits++;
      stats.stale_served++;
      if (!server_.inflight().count(current_key_)) {
        FetchPlan bg = plan;
        bg.fwd = "stale";
        bg.stale = entry;
        bg.background = true;
        bg.coalesce = true;
        bg.method = "GET";
        bg.request_headers = req.headers;
        auto* x = new UpstreamExchange(server_, std::move(bg));
        auto fr = build_upstream_request("GET", route.target, req, entry.get(), cfg.via_name, true);
        fr.address_check = dest_check_;
        x->start(std::move(fr));
      }
      std::int64_t ttl_s = -((age - lifetime + 999) / 1000);
      policy::CacheStatus cs;
      cs.hit = true;
      cs.ttl = ttl_s;
      cs.detail = "stale-while-revalidate";
      serve_entry(entry, policy::format_cache_status(cs));
      return;
    }
    plan.fwd = age >= lifetime ? "stale" : "request";
    plan.stale = entry;
  }
  // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored.
  if (http::parse_cache_control(req.headers).only_if_cached) {
    send_error(504, "only-if-cached: no usable stored response", "only-if-cached");
    return;
  }
  stats.misses++;
  bool uncacheable = server_.is_uncacheable(current_key_, now);
  if (has_range) {
    // A Range miss is forwarded as it is: the 206 is never stored as the whole object, and the
    // stored full response (if any) is neither evicted nor replaced (RFC 9111 §3.3).
    plan.key.clear();
    plan.stale.reset();
    plan.detail = "range";
    start_fetch(std::move(plan), route, false);
    return;
  }
  if (cfg.coalesce && !uncacheable) {
    auto it = server_.inflight().find(current_key_);
    if (it != server_.inflight().end() && it->second->joinable()) {
      sub_ = it->second->subscribe(this, request_is_head_, false);
      return;
    }
  }
  if (request_is_head_) {
    // A HEAD miss with nothing to join is forwarded as HEAD and not stored; the next GET fills the
    // entry that later HEADs are answered from.
    plan.key.clear();
    plan.detail = "head";
    plan.stale.reset();
    start_fetch(std::move(plan), route, false);
    return;
  }
  plan.coalesce = cfg.coalesce && !uncacheable;
  bool conditional = plan.stale != nullptr;
  start_fetch(std::move(plan), route, conditional);
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

void ClientConnection::start_fetch(FetchPlan plan, const Route& route, bool conditional_from_stale) {
  const http::Request& req = current_;
  plan.request_headers = req.headers;
  auto* x = new UpstreamExchange(server_, std::move(plan));
  sub_ = x->subscribe(this, request_is_head_, true);
  auto fr = build_upstream_request(req.method, route.target, req, conditional_from_stale ? x->stale_entry() : nullptr,
                                   server_.config().via_name, !x->key().empty());
  fr.address_check = dest_check_;
  x->start(std::move(fr));
}

void ClientConnection::restart_uncoalesced(std::string_view detail) {
  sub_ = nullptr;
  if (closing_) return;
  auto& cfg = server_.config();
  FetchPlan plan;
  plan.fwd = "uri-miss";
  plan.detail = std::string(detail);
  plan.key = current_key_;
  plan.method = current_.method;
  plan.request_time = wall_clock_now();
  plan.policy = current_rule_ ? current_rule_->policy : cfg.policy;
  plan.max_object_size = cfg.max_object_size;
  if (current_rule_) plan.partition = server_.partition_for(*current_rule_);
  Route route;
  http::parse_absolute_target(current_url_, route.target);
  if (request_is_head_) plan.key.clear();
  start_fetch(std::move(plan), route, false);
}

void ClientConnection::serve_entry(const std::shared_ptr<const cache::StoredResponse>& entry,
                                   std::string_view cache_status) {
  sub_ = nullptr;
  UnixMillis now = wall_clock_now();
  std::int64_t age = policy::current_age_ms(entry->corrected_initial_age_ms, entry->response_time, now);
  auto tail = [&](std::string& head) {
    head += "Age: ";
    head += std::to_string(policy::age_header_seconds(age));
    head += "\r\nCache-Status: ";
    head += cache_status;
    head += "\r\n";
    if (!request_keep_alive_) head += "Connection: close\r\n";
    else if (request_minor_ == 0) head += "Connection: keep-alive\r\n";
    head += "\r\n";
  };
  bool hit = cache_status.find("hit") != std::string_view::npos;
  const auto& req = current_;
  std::uint64_t length = entry->body ? entry->body->size() : 0;
  // RFC 9111 §4.3.2: the client's own If-None-Match / If-Modified-Since, answered from the store.
  if (entry->status == 200 && (req.method == "GET" || req.method == "HEAD") &&
      policy::client_precondition_304(req.headers, entry->headers, entry->status, entry->response_time)) {
    std::string head = "HTTP/1.1 304 Not Modified\r\n";
    auto fields = policy::not_modified_response_headers(entry->headers);
    for (auto& h : fields.fields()) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
    tail(head);
    note_response(304, cache_status, hit);
    write({head});
    response_done(false);
    return;
  }
  // RFC 9110 §14: a single range of a stored full 200 is answered with 206 from the same bytes.
  if (entry->status == 200 && req.headers.has("range")) {
    auto rr = http::evaluate_range_request(req.method, req.headers, entry->headers, length);
    if (rr.decision != http::RangeDecision::full) {
      bool partial = rr.decision == http::RangeDecision::partial;
      int status = partial ? 206 : 416;
      std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
      for (auto& h : entry->headers.fields()) {
        if (iequals(h.name, "content-length") || iequals(h.name, "age") || iequals(h.name, "content-range")) continue;
        head += h.name;
        head += ": ";
        head += h.value;
        head += "\r\n";
      }
      std::string_view body;
      if (partial) {
        head += "Content-Range: " + http::format_content_range(rr.range, length) + "\r\n";
        head += fmt::format("Content-Length: {}\r\n", rr.range.size());
        body = std::string_view(*entry->body).substr(static_cast<std::size_t>(rr.range.first),
                                                    static_cast<std::size_t>(rr.range.size()));
      } else {
        head += "Content-Range: " + http::format_unsatisfied_content_range(length) + "\r\nContent-Length: 0\r\n";
      }
      tail(head);
      note_response(status, cache_status, hit);
      if (request_is_head_ || body.empty()) {
        write({head});
      } else {
        write({head, body}, entry->body);
        note_body_bytes(body.size());
      }
      response_done(false);
      return;
    }
  }
  std::string head;
  head.reserve(entry->head.size() + 96);
  head += entry->head;
  tail(head);
  note_response(entry->status, cache_status, hit);
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
    bufs[n++] = uv_buf_init(const_cast<char*>(p.data()), static_cast<unsigned>(p.size()));
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
    w->bufs[i] = uv_buf_init(const_cast<char*>(p), static_cast<unsigned>(segs[i].len));
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
    if (self->sub_) self->sub_->exchange->pump(self->sub_);
    if (self->tunnel_) self->tunnel_->on_client_drained();
  }
  if (self->queued_bytes_ == 0 && self->close_after_flush_) self->finish_close_after_flush();
}

void ClientConnection::begin_drain() {
  if (closing_) return;
  if (!active_ && !tunnel_) {
    close();
    return;
  }
  request_keep_alive_ = false;
}

void ClientConnection::log_response() {
  if (resp_status_ == 0) return;
  auto& stats = server_.stats();
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
  active_ = false;
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
  active_ = false;
  sub_ = nullptr;
  close();
}

void ClientConnection::send_error(int status, std::string_view detail, std::string_view cache_status_detail) {
  std::string body = fmt::format("{} {}: {}\n", status, http::reason_phrase(status), detail);
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Status: "
      "cachefwd; fwd=bypass; detail={}\r\n",
      status, http::reason_phrase(status), body.size(),
      cache_status_detail.empty() ? std::string_view("proxy-error") : cache_status_detail);
  bool close_after = !request_keep_alive_ || status == 400 || status == 413 || status == 431 || status == 403;
  head += close_after ? "Connection: close\r\n\r\n" : (request_minor_ == 0 ? "Connection: keep-alive\r\n\r\n" : "\r\n");
  note_response(status, "fwd=bypass; detail=proxy-error", false);
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
    status = 400;
    reason = err;
  } else if (!cfg.upstream && check_destination_host(cfg, route.target.host) == DestVerdict::deny) {
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
  active_ = true;
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
  if (!self->shutdown_sent_ && !self->active_ && self->parser_.mid_request()) {
    self->active_ = true;
    self->request_keep_alive_ = false;
    self->send_error(408, "request not received in time");
    return;
  }
  self->close();
}

void ClientConnection::close() {
  if (closing_) return;
  closing_ = true;
  if (sub_) {
    Subscription* sub = sub_;
    sub_ = nullptr;
    sub->exchange->unsubscribe(sub);
  }
  if (tunnel_) tunnel_->close();
  uv_timer_stop(&idle_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_timer_), on_closed);
}

void ClientConnection::on_closed(uv_handle_t* h) {
  auto* self = static_cast<ClientConnection*>(h->data);
  if (--self->open_handles_ == 0) self->server_.connection_closed(self);
}

void ClientConnection::set_reading(bool on) {
  if (closing_ || on == reading_) return;
  reading_ = on;
  if (on) uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  else uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
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
