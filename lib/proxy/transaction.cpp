#include "proxy/transaction.h"

#include <uv.h>

#include <fmt/format.h>

#include <cstdio>

#include "base/strings.h"
#include "cache/key/cache_key.h"
#include "http/range.h"
#include "http/status.h"
#include "metrics/access_log.h"
#include "proxy/access_logger.h"
#include "proxy/client_connection.h"
#include "proxy/connect_tunnel.h"
#include "proxy/destination_acl.h"
#include "proxy/server.h"
#include "proxy/upstream_exchange.h"
#include "proxy/upstream_request.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

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

Transaction::Transaction(ClientConnection& conn, http::Request request)
    : conn_(conn), server_(conn.server()), current_(std::move(request)) {
  request_start_ns_ = uv_hrtime();
  request_time_ = wall_clock_now();
  request_keep_alive_ = current_.keep_alive;
  request_minor_ = current_.version_minor;
  request_is_head_ = current_.method == "HEAD";
}

Transaction::~Transaction() = default;

void Transaction::start() {
  auto& cfg = server_.config();
  auto& stats = server_.stats();
  stats.requests++;
  http::Request& req_ = current_;
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
    conn_.open_tunnel(std::move(host), port, dest_check_);
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
    if (!conn_.peer_may_purge()) {
      stats.client_errors++;
      send_error(403, "PURGE is allowed from loopback and --allow-purge only");
      return;
    }
    std::size_t removed = server_.purge_url(route.target);
    std::string body = fmt::format("{{\"purged\":{}}}\n", removed);
    int status = removed ? 200 : 404;
    std::string head = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n", status,
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

void Transaction::execute(cache::flow::Action& a, const http::TargetUri& target) {
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

bool Transaction::destination_permitted(const std::string& host) {
  const auto& cfg = server_.config();
  switch (check_destination_host(cfg, host)) {
    case DestVerdict::allow:
      return true;
    case DestVerdict::deny:
      server_.stats().client_errors++;
      std::fprintf(stderr, "cachefwd: refused destination %s for client %s\n", host.c_str(),
                   conn_.peer().c_str());
      send_error(403, "destination not allowed (--allow-dest / --deny-dest)", "destination-denied");
      return false;
    case DestVerdict::check_address: {
      // Copies: a SIGHUP reload may replace the configuration while this request runs.
      bool name_allowed = destination_name_allowed(cfg, host);
      auto guard = std::make_shared<ProxyConfig>();
      guard->allow_dest_hosts = cfg.allow_dest_hosts;
      guard->allow_dest_cidrs = cfg.allow_dest_cidrs;
      guard->deny_dest_cidrs = cfg.deny_dest_cidrs;
      dest_check_ = [guard, name_allowed](const sockaddr* a) {
        return destination_address_allowed(*guard, a, name_allowed);
      };
      return true;
    }
  }
  return true;
}

void Transaction::start_fetch(const cache::flow::Action& a, const http::TargetUri& target) {
  const http::Request& req = current_;
  auto* x = new UpstreamExchange(server_, a.fill, false, wall_clock_now());
  sub_ = x->subscribe(this, txn_.id, request_is_head_, true);
  auto fr =
      build_upstream_request(req.method, target, req, a.entry.get(), server_.config().via_name, a.store);
  fr.address_check = dest_check_;
  x->start(std::move(fr), a.arm_timer);
}

void Transaction::restart_uncoalesced(cache::flow::Reason why) {
  sub_ = nullptr;
  if (closing()) return;
  http::TargetUri target;
  http::parse_absolute_target(current_url_, target);
  auto action = server_.flow().restart(txn_, why, wall_clock_now());
  execute(action, target);
}

void Transaction::serve_entry(const std::shared_ptr<const cache::StoredResponse>& entry,
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
    if (!request_keep_alive_)
      head += "Connection: close\r\n";
    else if (request_minor_ == 0)
      head += "Connection: keep-alive\r\n";
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

void Transaction::log_response() {
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
    r.client_addr = conn_.peer();
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

void Transaction::send_error(int status, std::string_view detail, std::string_view cache_status_detail) {
  state_ = State::answering;
  std::string body = fmt::format("{} {}: {}\n", status, http::reason_phrase(status), detail);
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Status: "
      "cachefwd; fwd=bypass; detail={}\r\n",
      status, http::reason_phrase(status), body.size(),
      cache_status_detail.empty() ? std::string_view("proxy-error") : cache_status_detail);
  bool close_after = !request_keep_alive_ || status == 400 || status == 413 || status == 431 || status == 403;
  head += close_after ? "Connection: close\r\n\r\n"
                      : (request_minor_ == 0 ? "Connection: keep-alive\r\n\r\n" : "\r\n");
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

void Transaction::refuse(int status, std::string_view why) {
  state_ = State::answering;
  request_keep_alive_ = false;
  request_is_head_ = false;
  send_error(status, why);
}

void Transaction::write(std::initializer_list<std::string_view> parts,
                        std::shared_ptr<const std::string> hold) {
  conn_.write(parts, std::move(hold));
}

std::size_t Transaction::queued_bytes() const { return conn_.queued_bytes(); }

bool Transaction::closing() const { return conn_.closing(); }

void Transaction::response_done(bool close_after) {
  log_response();
  state_ = State::done;
  sub_ = nullptr;
  // The connection may delete this transaction, but not before the current callback has unwound.
  conn_.transaction_done(close_after || !request_keep_alive_);
}

void Transaction::abort_response() {
  state_ = State::done;
  sub_ = nullptr;
  conn_.close();
}

BodySource* Transaction::body() const { return sub_; }

}  // namespace cachefwd::proxy
