#include "proxy/admin_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "base/strings.h"
#include "http/request_parser.h"
#include "http/status.h"
#include "metrics/json_writer.h"
#include "metrics/prometheus.h"
#include "proxy/server.h"
#include "proxy/stats_report.h"

namespace cachefwd::proxy {

namespace {

// %XX and '+' decoding for query values (URLs passed as parameters are usually encoded).
std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto item = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    auto eq = item.find('=');
    if (item.substr(0, eq) == name) return url_decode(eq == std::string_view::npos ? "" : item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::nullopt;
}

// Compares without an early exit, so response timing does not reveal how much of a guess matched.
bool token_equals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::string json_error(std::string_view message) {
  metrics::JsonWriter w;
  w.begin_object().member("error", message).end_object();
  return w.take();
}

}  // namespace

std::uint64_t process_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

struct AdminServer::Connection {
  AdminServer* owner;
  uv_tcp_t tcp{};
  http::RequestParser parser;
  std::string out;
  uv_write_t write_req{};
  bool closing = false;

  explicit Connection(AdminServer* o) : owner(o) {}

  void close() {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), [](uv_handle_t* h) {
      auto* c = static_cast<Connection*>(h->data);
      c->owner->connections_.erase(c);
      delete c;
    });
  }

  void respond(const Reply& r) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n{}",
                      r.status, http::reason_phrase(r.status), r.content_type, r.body.size(), r.body);
    uv_buf_t b = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
    write_req.data = this;
    if (uv_write(&write_req, reinterpret_cast<uv_stream_t*>(&tcp), &b, 1,
                 [](uv_write_t* w, int) { static_cast<Connection*>(w->data)->close(); }) != 0)
      close();
  }
};

AdminServer::AdminServer(Server& server, ListenAddress address, std::string token)
    : server_(server), address_(std::move(address)), token_(std::move(token)) {}

AdminServer::~AdminServer() { stop(); }

std::optional<std::string> AdminServer::start() {
  sockaddr_storage sa{};
  if (uv_ip4_addr(address_.host.c_str(), address_.port, reinterpret_cast<sockaddr_in*>(&sa)) != 0 &&
      uv_ip6_addr(address_.host.c_str(), address_.port, reinterpret_cast<sockaddr_in6*>(&sa)) != 0)
    return fmt::format("invalid --admin address {}", address_.host);
  listener_ = new uv_tcp_t;
  uv_tcp_init(server_.loop(), listener_);
  listener_->data = this;
  int rc = uv_tcp_bind(listener_, reinterpret_cast<sockaddr*>(&sa), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, on_connection);
  if (rc != 0) {
    stop();
    return fmt::format("cannot listen on --admin {}:{}: {}", address_.host, address_.port, uv_strerror(rc));
  }
  return std::nullopt;
}

std::uint16_t AdminServer::port() const {
  if (!listener_) return 0;
  sockaddr_storage sa{};
  int len = sizeof(sa);
  if (uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return sa.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
}

void AdminServer::stop() {
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  std::vector<Connection*> conns(connections_.begin(), connections_.end());
  for (auto* c : conns) c->close();
}

void AdminServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<AdminServer*>(listener->data);
  if (status < 0) return;
  auto* c = new Connection(self);
  uv_tcp_init(self->server_.loop(), &c->tcp);
  c->tcp.data = c;
  self->connections_.insert(c);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->close();
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = static_cast<char*>(std::malloc(suggested));
        buf->len = buf->base ? suggested : 0;
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<Connection*>(s->data);
        if (nread < 0) {
          std::free(buf->base);
          c->close();
          return;
        }
        c->parser.feed(buf->base, static_cast<size_t>(nread));
        std::free(buf->base);
        if (c->parser.state() == http::RequestParser::State::error) {
          c->respond(Reply{c->parser.error_status(), "application/json", json_error(c->parser.error_reason())});
        } else if (c->parser.state() == http::RequestParser::State::complete) {
          c->respond(c->owner->handle(c->parser.take()));
        }
      });
}

AdminServer::Reply AdminServer::handle(const http::Request& req) {
  if (!token_.empty()) {
    const std::string* auth = req.headers.find("authorization");
    std::string_view given = auth ? std::string_view(*auth) : std::string_view();
    if (!istarts_with(given, "bearer ") || !token_equals(trim_ows(given.substr(7)), token_))
      return Reply{401, "application/json", json_error("admin API needs Authorization: Bearer <token>")};
  }
  std::string_view target = req.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  StatsSnapshot snap;
  snap.stats = &server_.stats();
  snap.store = &server_.store().stats();
  snap.max_bytes = server_.store().limits().max_bytes;
  snap.policy = std::string(server_.store().policy_name());
  snap.rss_bytes = process_rss_bytes();
  snap.connections_open = server_.open_connections();
  snap.inflight = server_.flow().inflight();
  snap.upstream = server_.upstream().counters();
  for (auto& [name, id] : server_.partitions()) {
    const auto& lim = server_.store().partition_limits(id);
    snap.partitions.push_back({name, &server_.store().partition_stats(id), lim.max_bytes, lim.max_entries});
  }

  if (path == "/healthz") return Reply{200, "text/plain", "ok\n"};
  if (path == "/stats" && (req.method == "GET" || req.method == "HEAD")) return Reply{200, "application/json", render_stats_json(snap)};
  if (path == "/metrics" && (req.method == "GET" || req.method == "HEAD"))
    return Reply{200, std::string(metrics::kPrometheusContentType), render_prometheus(snap)};
  if (path == "/purge") {
    if (req.method != "POST" && req.method != "DELETE" && req.method != "PURGE")
      return Reply{405, "application/json", json_error("purge with POST")};
    std::size_t removed = 0;
    std::string what;
    if (auto url = query_param(query, "url")) {
      http::TargetUri t;
      if (!http::parse_absolute_target(*url, t)) return Reply{400, "application/json", json_error("url must be an absolute http URL")};
      removed = server_.purge_url(t);
      what = "url";
    } else if (auto prefix = query_param(query, "prefix")) {
      http::TargetUri t;
      if (!http::parse_absolute_target(*prefix, t)) return Reply{400, "application/json", json_error("prefix must be an absolute http URL")};
      removed = server_.purge_prefix(t);
      what = "prefix";
    } else if (auto tag = query_param(query, "tag")) {
      removed = server_.purge_tag(*tag);
      what = "tag";
    } else if (auto part = query_param(query, "partition")) {
      removed = server_.purge_partition(*part);
      what = "partition";
    } else if (query_param(query, "all")) {
      removed = server_.purge_all();
      what = "all";
    } else {
      return Reply{400, "application/json", json_error("purge needs url=, prefix=, tag=, partition= or all=1")};
    }
    metrics::JsonWriter w;
    w.begin_object().member("purged", removed).member("selector", what).end_object();
    return Reply{200, "application/json", w.take()};
  }
  return Reply{404, "application/json", json_error("unknown admin path; try /stats, /metrics, /purge")};
}

}  // namespace cachefwd::proxy
