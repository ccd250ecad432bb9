#include "proxy/server.h"

#include <fmt/format.h>

#include <cstdio>

#include "base/strings.h"
#include "proxy/access_logger.h"
#include "proxy/client_connection.h"
#include "proxy/upstream_exchange.h"
#include "proxy/vary.h"
#include "cache/key/cache_key.h"
#include <set>

namespace cachefwd::proxy {

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  auto p = parse_decimal(port);
  if (!p || *p > 65535) return std::nullopt;
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  out.port = static_cast<std::uint16_t>(*p);
  sockaddr_in6 a6;
  sockaddr_in a4;
  if (uv_ip4_addr(out.host.c_str(), out.port, &a4) != 0 && uv_ip6_addr(out.host.c_str(), out.port, &a6) != 0)
    return std::nullopt;
  return out;
}

Server::Server(uv_loop_t* loop, ProxyConfig config) : loop_(loop), config_(std::move(config)) {
  auto policy = cache::store::make_eviction_policy(config_.eviction_policy);
  if (!policy) policy = cache::store::make_eviction_policy("lru");
  store_ = std::make_unique<cache::store::Store>(config_.store_limits, std::move(policy));
  upstream_ = std::make_unique<upstream::UpstreamClient>(loop, config_.upstream_options);
  reaper_ = new uv_check_t;
  uv_check_init(loop, reaper_);
  reaper_->data = this;
  uv_check_start(reaper_, [](uv_check_t* c) {
    auto* self = static_cast<Server*>(c->data);
    auto dead = std::move(self->retired_);
    self->retired_.clear();
    for (auto* x : dead) delete x;
  });
  uv_unref(reinterpret_cast<uv_handle_t*>(reaper_));  // never keeps the loop alive by itself
}

Server::~Server() {
  for (auto* x : retired_) delete x;
  retired_.clear();
  if (reaper_) uv_close(reinterpret_cast<uv_handle_t*>(reaper_), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
}

void Server::retire(UpstreamExchange* x) { retired_.push_back(x); }

void Server::remember_uncacheable(const std::string& key, UnixMillis now) {
  if (config_.hit_for_miss_ms <= 0) return;
  // Bounded: a flood of distinct uncacheable URLs must not grow this map without limit.
  if (uncacheable_.size() >= 100'000) {
    for (auto it = uncacheable_.begin(); it != uncacheable_.end();) it = it->second <= now ? uncacheable_.erase(it) : std::next(it);
    if (uncacheable_.size() >= 100'000) uncacheable_.clear();
  }
  uncacheable_[key] = now + config_.hit_for_miss_ms;
}

void Server::forget_uncacheable(const std::string& key) { uncacheable_.erase(key); }

bool Server::is_uncacheable(const std::string& key, UnixMillis now) {
  auto it = uncacheable_.find(key);
  if (it == uncacheable_.end()) return false;
  if (it->second > now) return true;
  uncacheable_.erase(it);
  return false;
}

cache::store::PartitionId Server::partition_for(const rules::Rule& rule) {
  if (rule.max_entries == 0 && rule.max_bytes == 0) return cache::store::kDefaultPartition;
  auto it = partitions_.find(rule.partition);
  if (it != partitions_.end()) return it->second;
  cache::store::StoreLimits limits;
  limits.max_bytes = rule.max_bytes;
  limits.max_entries = rule.max_entries;
  auto id = store_->add_partition(limits);
  partitions_.emplace(rule.partition, id);
  return id;
}

std::size_t Server::purge_url(const http::TargetUri& target) {
  std::size_t n = 0;
  std::set<std::string> prefixes;
  prefixes.insert(cache::key::url_key_prefix(target, config_.rules->default_rule().key));
  for (auto& r : config_.rules->rules()) prefixes.insert(cache::key::url_key_prefix(target, r.key));
  for (auto& p : prefixes) n += store_->erase_prefix(p);
  stats_.purged += n;
  return n;
}

std::size_t Server::purge_prefix(const http::TargetUri& prefix) {
  // A key starts with scheme://host:port/path: the prefix is that, without query handling.
  cache::key::KeyPolicy plain;
  plain.query = cache::key::KeyPolicy::Query::none;
  std::string p = cache::key::normalized_url(prefix, plain);
  std::size_t n = store_->erase_prefix(p);
  stats_.purged += n;
  return n;
}

std::size_t Server::purge_tag(std::string_view tag) {
  std::size_t n = store_->erase_tag(tag);
  stats_.purged += n;
  return n;
}

std::size_t Server::purge_partition(std::string_view partition) {
  // Keys are url \x1f method \x1f partition [\x1f ...].
  std::size_t n = store_->erase_if([&](std::string_view key, const cache::store::Value&) {
    auto a = key.find(cache::key::kKeySeparator);
    if (a == std::string_view::npos) return false;
    auto b = key.find(cache::key::kKeySeparator, a + 1);
    if (b == std::string_view::npos) return false;
    auto c = key.find(cache::key::kKeySeparator, b + 1);
    std::string_view part = key.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
    return part == partition;
  });
  stats_.purged += n;
  return n;
}

std::size_t Server::purge_all() {
  std::size_t n = store_->stats().entries;
  store_->clear();
  stats_.purged += n;
  return n;
}

void Server::store_response(std::shared_ptr<cache::StoredResponse> entry, const http::Headers& request_headers,
                            cache::store::PartitionId partition) {
  std::string key = entry->key;
  if (entry->headers.has("vary")) {
    auto marker = std::make_shared<cache::StoredResponse>();
    marker->key = key;
    marker->is_vary_marker = true;
    marker->status = entry->status;
    marker->headers.add("Vary", entry->headers.combined("vary"));
    std::string variant = key;
    variant += kVariantSeparator;
    variant += vary_value(entry->headers, request_headers);
    entry->key = variant;
    auto marker_charge = marker->charge();
    std::shared_ptr<const cache::StoredResponse> m = std::move(marker);
    store_->insert(partition, key, std::move(m), marker_charge, entry->tags);
    key = variant;
  }
  auto charge = entry->charge();
  std::vector<std::string> tags = entry->tags;
  std::shared_ptr<const cache::StoredResponse> e = std::move(entry);
  if (store_->insert(partition, key, std::move(e), charge, tags)) stats_.stored++;
}

std::shared_ptr<const cache::StoredResponse> Server::lookup(const std::string& key, const http::Headers& request_headers) {
  auto e = store_->find(key);
  if (e && e->is_vary_marker) {
    std::string variant = key;
    variant += kVariantSeparator;
    variant += vary_value(e->headers, request_headers);
    e = store_->find(variant);
  }
  return e;
}

void Server::reopen_logs() {
  if (access_log_) access_log_->reopen();
}

std::optional<std::string> Server::start() {
  if (!config_.access_log.empty()) {
    access_log_ = std::make_unique<AccessLogger>(loop_, config_.access_log, config_.access_log_format);
    if (auto err = access_log_->open(); !err.empty()) return err;
  }
  for (auto& addr : config_.listen) {
    sockaddr_storage sa{};
    if (uv_ip4_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in*>(&sa)) != 0 &&
        uv_ip6_addr(addr.host.c_str(), addr.port, reinterpret_cast<sockaddr_in6*>(&sa)) != 0) {
      stop();
      return fmt::format("invalid listen address {}", addr.host);
    }
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop_, tcp);
    tcp->data = this;
    listeners_.push_back(tcp);
    int rc = uv_tcp_bind(tcp, reinterpret_cast<sockaddr*>(&sa), sa.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp), 1024, on_new_connection);
    if (rc != 0) {
      stop();
      bool v6 = addr.host.find(':') != std::string::npos;
      return fmt::format("cannot listen on {}{}{}:{}: {}", v6 ? "[" : "", addr.host, v6 ? "]" : "", addr.port,
                         uv_strerror(rc));
    }
  }
  return std::nullopt;
}

std::vector<std::uint16_t> Server::bound_ports() const {
  std::vector<std::uint16_t> ports;
  for (auto* l : listeners_) {
    sockaddr_storage sa{};
    int len = sizeof(sa);
    if (uv_tcp_getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) != 0) continue;
    if (sa.ss_family == AF_INET) ports.push_back(ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port));
    else ports.push_back(ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port));
  }
  return ports;
}

void Server::on_new_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (status < 0 || self->stopping_) return;
  auto* c = new ClientConnection(*self);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(c->handle())) != 0) {
    c->close();
    self->connections_.insert(c);
    return;
  }
  self->connections_.insert(c);
  self->stats_.connections++;
  c->start();
}

bool Server::admit_client(const std::string& client) {
  // Refused connections are not counted: they are answered and closed, and counting them would
  // let a flood of refusals keep the count up.
  if (admitted_ >= config_.max_connections) return false;
  auto& n = admitted_per_client_[client];
  if (n >= config_.max_connections_per_client) return false;
  ++n;
  ++admitted_;
  return true;
}

void Server::connection_closed(ClientConnection* c) {
  connections_.erase(c);
  if (c->admitted()) {
    --admitted_;
    auto it = admitted_per_client_.find(c->peer());
    if (it != admitted_per_client_.end() && --it->second == 0) admitted_per_client_.erase(it);
  }
  delete c;
  if (draining_ && connections_.empty()) stop();
}

void Server::drain(std::int64_t timeout_ms) {
  if (draining_ || stopping_) return;
  draining_ = true;
  for (auto* l : listeners_)
    uv_close(reinterpret_cast<uv_handle_t*>(l), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  listeners_.clear();
  if (connections_.empty()) {
    stop();
    return;
  }
  std::vector<ClientConnection*> conns(connections_.begin(), connections_.end());
  for (auto* c : conns) c->begin_drain();
  drain_timer_ = new uv_timer_t;
  uv_timer_init(loop_, drain_timer_);
  drain_timer_->data = this;
  uv_timer_start(drain_timer_, [](uv_timer_t* t) { static_cast<Server*>(t->data)->stop(); },
                 static_cast<std::uint64_t>(std::max<std::int64_t>(timeout_ms, 1)), 0);
}

void Server::reload(const ProxyConfig& fresh) {
  auto listen = config_.listen;
  auto limits = config_.store_limits;
  auto eviction = config_.eviction_policy;
  auto via = config_.via_name;
  config_ = fresh;
  config_.listen = listen;
  config_.store_limits = limits;
  config_.eviction_policy = eviction;
  config_.via_name = via;
}

void Server::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (drain_timer_) {
    uv_close(reinterpret_cast<uv_handle_t*>(drain_timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    drain_timer_ = nullptr;
  }
  for (auto* l : listeners_)
    uv_close(reinterpret_cast<uv_handle_t*>(l), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  listeners_.clear();
  std::vector<ClientConnection*> conns(connections_.begin(), connections_.end());
  for (auto* c : conns) c->close();
  upstream_->shutdown();
  if (access_log_) access_log_->close();
  for (auto* x : retired_) delete x;
  retired_.clear();
  std::vector<UpstreamExchange*> left(exchanges_.begin(), exchanges_.end());
  for (auto* x : left) delete x;
  // The loop may still hold work nobody waits for any more (a CONNECT's name lookup in libuv's
  // threadpool cannot be cancelled once running): hand control back to whoever runs the loop,
  // which decides how long to wait for the close callbacks.
  uv_stop(loop_);
}

}  // namespace cachefwd::proxy
