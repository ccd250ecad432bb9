#include "load/origin.h"

#include <http_parser.h>

#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "base/hash.h"
#include "base/strings.h"
#include "http/etag.h"
#include "http/headers.h"
#include "http/http_date.h"
#include "http/status.h"

namespace cachefwd::load {

namespace {

constexpr std::int64_t kFixedLastModified = 1767225600;  // 2026-01-01T00:00:00Z, for last-modified=1

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// lib/http's IMF-fixdate formatter, for the seconds this origin works in.
std::string http_date(std::time_t t) { return http::format_http_date(seconds_to_millis(t)); }

// One static block of body bytes; a response body is a series of slices of it, never a copy.
constexpr std::size_t kBodyBlock = 256 * 1024;
const char* body_block() {
  static const std::string block = [] {
    std::string b(kBodyBlock, 'x');
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + i % 26);
    return b;
  }();
  return block.data();
}
// Bodies whose first byte depends on ver: 26 one-byte prefixes.
const char* ver_byte(std::uint64_t ver) {
  static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return &letters[ver % 26];
}

}  // namespace

std::string OriginSpec::cache_control() const {
  std::string out;
  auto add = [&](std::string_view d) {
    if (!out.empty()) out += ", ";
    out += d;
  };
  if (is_private) add("private");
  if (no_store) add("no-store");
  if (no_cache) add("no-cache");
  if (max_age >= 0) add(fmt::format("max-age={}", max_age));
  if (s_maxage >= 0) add(fmt::format("s-maxage={}", s_maxage));
  if (swr >= 0) add(fmt::format("stale-while-revalidate={}", swr));
  if (sie >= 0) add(fmt::format("stale-if-error={}", sie));
  if (!cc.empty()) add(cc);
  return out;
}

std::string OriginSpec::etag_value() const { return fmt::format("\"{:x}-{}-{}\"", hash64(path), size, ver); }

std::optional<OriginSpec> parse_origin_target(std::string_view target, const OriginOptions& opts,
                                              std::string* error) {
  OriginSpec spec;
  spec.size = opts.default_size;
  if (istarts_with(target, "http://")) {
    const auto slash = target.find('/', 7);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const auto qpos = target.find('?');
  spec.path = std::string(target.substr(0, qpos));
  if (qpos == std::string_view::npos) return spec;
  std::string_view query = target.substr(qpos + 1);
  auto fail = [&](std::string_view name, std::string_view value) {
    if (error) *error = fmt::format("bad value for {}: '{}'", name, value);
    return std::nullopt;
  };
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto num = [&](std::int64_t& out) {
      const auto v = parse_decimal(value);
      if (!v) return false;
      out = *v;
      return true;
    };
    auto flag = [&](bool& out) {
      if (value.empty() || value == "1" || value == "true") {
        out = true;
      } else if (value == "0" || value == "false") {
        out = false;
      } else {
        return false;
      }
      return true;
    };
    std::int64_t n = 0;
    if (name == "size") {
      const auto v = parse_size(value);
      if (!v || *v > opts.max_size) return fail(name, value);
      spec.size = *v;
    } else if (name == "status") {
      if (!num(n) || n < 200 || n > 599) return fail(name, value);
      spec.status = static_cast<int>(n);
    } else if (name == "max-age") {
      if (!num(spec.max_age)) return fail(name, value);
    } else if (name == "s-maxage") {
      if (!num(spec.s_maxage)) return fail(name, value);
    } else if (name == "swr") {
      if (!num(spec.swr)) return fail(name, value);
    } else if (name == "sie") {
      if (!num(spec.sie)) return fail(name, value);
    } else if (name == "no-store") {
      if (!flag(spec.no_store)) return fail(name, value);
    } else if (name == "no-cache") {
      if (!flag(spec.no_cache)) return fail(name, value);
    } else if (name == "private") {
      if (!flag(spec.is_private)) return fail(name, value);
    } else if (name == "cc") {
      spec.cc = percent_decode(value);
      if (spec.cc.find_first_of("\r\n") != std::string::npos) return fail(name, value);
    } else if (name == "expires") {
      std::string_view v = value;
      const bool neg = !v.empty() && v.front() == '-';
      if (neg) v.remove_prefix(1);
      const auto p = parse_decimal(v);
      if (!p) return fail(name, value);
      spec.expires = neg ? -*p : *p;
    } else if (name == "etag") {
      if (!flag(spec.etag)) return fail(name, value);
    } else if (name == "last-modified") {
      if (!num(n) || n <= 0) return fail(name, value);
      spec.last_modified = n == 1 ? kFixedLastModified : n;
    } else if (name == "ver") {
      if (!num(n)) return fail(name, value);
      spec.ver = static_cast<std::uint64_t>(n);
    } else if (name == "vary") {
      spec.vary = percent_decode(value);
      if (spec.vary.find_first_of("\r\n") != std::string::npos) return fail(name, value);
    } else if (name == "cache-status") {
      spec.cache_status = percent_decode(value);
      if (spec.cache_status.find_first_of("\r\n") != std::string::npos) return fail(name, value);
    } else if (name == "delay_ms") {
      if (!num(spec.delay_ms) || spec.delay_ms > 3'600'000) return fail(name, value);
    } else if (name == "close") {
      if (!flag(spec.close)) return fail(name, value);
    } else if (name == "set-cookie") {
      if (!flag(spec.set_cookie)) return fail(name, value);
    }
  }
  return spec;
}

void OriginStats::reset() {
  for (auto* c : {&requests, &status_2xx, &status_3xx, &status_4xx, &status_5xx, &not_modified, &head,
                  &body_bytes, &connections_accepted}) {
    c->store(0, std::memory_order_relaxed);
  }
}

std::string OriginStats::to_json() const {
  return fmt::format(
      "{{\"requests\":{},\"status_2xx\":{},\"status_3xx\":{},\"status_4xx\":{},\"status_5xx\":{},"
      "\"not_modified\":{},\"head\":{},\"body_bytes\":{},\"connections_accepted\":{},"
      "\"connections_open\":{}}}\n",
      requests.load(), status_2xx.load(), status_3xx.load(), status_4xx.load(), status_5xx.load(),
      not_modified.load(), head.load(), body_bytes.load(), connections_accepted.load(),
      connections_open.load());
}

// ---------------------------------------------------------------------------------------------
// The server.

namespace {
struct Conn;

struct Pending {
  std::string head;
  std::string inline_body;     // small generated bodies (errors, stats JSON)
  std::uint64_t body_len = 0;  // bytes from the static block, after inline_body
  std::uint64_t ver = 0;
  bool ready = true;
  bool close_after = false;
  uv_timer_t* timer = nullptr;
};

struct DelayTimer {
  uv_timer_t timer;
  Conn* conn;
  Pending* pending;
};

struct WriteReq {
  uv_write_t req;
  Conn* conn;
  std::string data;
};
}  // namespace

struct Origin::Impl {
  uv_loop_t* loop;
  OriginOptions opts;
  OriginStats* stats;
  uv_tcp_t listener{};
  bool listening = false;
  bool closing = false;
  std::vector<Conn*> conns;  // for close(); a connection removes itself when it goes
  http_parser_settings settings{};
  std::time_t date_second = 0;
  std::string date;

  const std::string& now_date() {
    const std::time_t t = std::time(nullptr);
    if (t != date_second) {
      date_second = t;
      date = http_date(t);
    }
    return date;
  }
};

namespace {

struct Conn {
  uv_tcp_t tcp{};
  Origin::Impl* srv;
  http_parser parser{};
  std::string url;
  std::string field, value;
  bool in_value = false;
  std::string if_none_match, if_modified_since;
  std::deque<std::unique_ptr<Pending>> queue;
  std::size_t writes_in_flight = 0;
  bool closing = false;  // a Connection: close response was queued: ignore further requests
  bool close_when_flushed = false;
  bool closed = false;

  void header_done() {
    if (!in_value) return;
    if (iequals(field, "if-none-match")) {
      if_none_match = value;
    } else if (iequals(field, "if-modified-since")) {
      if_modified_since = value;
    }
    field.clear();
    value.clear();
    in_value = false;
  }
  void on_request();
  void flush();
  void close();
};

void conn_closed(uv_handle_t* h) {
  auto* c = static_cast<Conn*>(h->data);
  delete c;
}

void timer_closed(uv_handle_t* h) { delete static_cast<DelayTimer*>(h->data); }

void Conn::close() {
  if (closed) return;
  closed = true;
  for (auto& p : queue) {
    if (p->timer) uv_close(reinterpret_cast<uv_handle_t*>(p->timer), timer_closed);
  }
  queue.clear();
  auto& v = srv->conns;
  for (auto& c : v) {
    if (c == this) {
      c = v.back();
      v.pop_back();
      break;
    }
  }
  srv->stats->connections_open.fetch_sub(1, std::memory_order_relaxed);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp), conn_closed);
}

void write_done(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  Conn* c = w->conn;
  delete w;
  if (c->closed) return;
  --c->writes_in_flight;
  if (status < 0 || (c->close_when_flushed && c->writes_in_flight == 0)) c->close();
}

// Gathers every response that is ready at the head of the queue into one write: with pipelining
// that turns N writes into one (style.md §11).
void Conn::flush() {
  if (closed) return;
  std::vector<uv_buf_t> bufs;
  std::vector<std::unique_ptr<Pending>> batch;
  bool close_after = false;
  while (!queue.empty() && queue.front()->ready && !close_after) {
    std::unique_ptr<Pending> p = std::move(queue.front());
    queue.pop_front();
    bufs.push_back(uv_buf_init(p->head.data(), static_cast<unsigned>(p->head.size())));
    if (!p->inline_body.empty()) {
      bufs.push_back(uv_buf_init(p->inline_body.data(), static_cast<unsigned>(p->inline_body.size())));
    }
    std::uint64_t left = p->body_len;
    if (left > 0) {
      bufs.push_back(uv_buf_init(const_cast<char*>(ver_byte(p->ver)), 1));
      --left;
    }
    std::size_t off = 1;
    while (left > 0) {
      const std::size_t n = std::min<std::uint64_t>(left, kBodyBlock - off);
      bufs.push_back(uv_buf_init(const_cast<char*>(body_block()) + off, static_cast<unsigned>(n)));
      left -= n;
      off = 0;
    }
    close_after = p->close_after;
    batch.push_back(std::move(p));
  }
  if (bufs.empty()) return;
  if (close_after) close_when_flushed = true;
  std::size_t total = 0;
  for (auto& b : bufs) total += b.len;
  int n = writes_in_flight == 0 ? uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp), bufs.data(),
                                               static_cast<unsigned>(bufs.size()))
                                : UV_EAGAIN;
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    close();
    return;
  }
  if (static_cast<std::size_t>(n) == total) {
    if (close_when_flushed) close();
    return;
  }
  // Copy what the socket did not take; the heads die with `batch`.
  auto* w = new WriteReq;
  w->conn = this;
  w->data.reserve(total - n);
  std::size_t skip = static_cast<std::size_t>(n);
  for (auto& b : bufs) {
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    w->data.append(b.base + skip, b.len - skip);
    skip = 0;
  }
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  ++writes_in_flight;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1, write_done) < 0) {
    --writes_in_flight;
    delete w;
    close();
  }
}

void delay_fired(uv_timer_t* t) {
  auto* d = static_cast<DelayTimer*>(t->data);
  d->pending->ready = true;
  d->pending->timer = nullptr;
  Conn* c = d->conn;
  uv_close(reinterpret_cast<uv_handle_t*>(t), timer_closed);
  c->flush();
}

void Conn::on_request() {
  auto p = std::make_unique<Pending>();
  const bool is_head = parser.method == HTTP_HEAD;
  const bool keep_alive = http_should_keep_alive(&parser) != 0;
  auto& st = *srv->stats;
  std::string error;
  std::optional<OriginSpec> spec;
  int status = 200;
  const char* content_type = "application/octet-stream";
  std::string_view path = std::string_view(url).substr(0, url.find('?'));
  if (istarts_with(path, "http://")) {
    const auto slash = path.find('/', 7);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  if (path == "/__origin/stats" || path == "/__origin/reset") {
    if (path == "/__origin/reset") st.reset();
    p->inline_body = st.to_json();
    content_type = "application/json";
  } else {
    const auto n = st.requests.fetch_add(1, std::memory_order_relaxed) + 1;
    spec = parse_origin_target(url, srv->opts, &error);
    if (!spec) {
      status = 400;
      p->inline_body = error + "\n";
      content_type = "text/plain";
    } else {
      status = spec->status;
      // RFC 9110 §13.1.2: If-None-Match takes precedence; If-Modified-Since is ignored when it is
      // present (§13.1.3).
      if (spec->etag && !if_none_match.empty()) {
        const auto tag = http::parse_entity_tag(spec->etag_value());
        const bool match = tag && http::list_weak_matches(http::parse_entity_tag_list(if_none_match), *tag);
        if (match && status == 200) status = 304;
      } else if (spec->last_modified > 0 && !if_modified_since.empty() && status == 200) {
        const auto ims = http::parse_http_date(if_modified_since);
        if (ims && millis_to_seconds(*ims) >= spec->last_modified) status = 304;
      }
      const bool bodyless = status == 204 || status == 304;
      if (!bodyless && !is_head) p->body_len = spec->size;
      p->ver = spec->ver;
      std::string& h = p->head;
      h.reserve(256);
      fmt::format_to(std::back_inserter(h), "HTTP/1.1 {} {}\r\nDate: {}\r\n", status,
                     http::reason_phrase(status), srv->now_date());
      // A 304 and a HEAD answer carry the size of the representation they stand for.
      if (status != 204) fmt::format_to(std::back_inserter(h), "Content-Length: {}\r\n", spec->size);
      fmt::format_to(std::back_inserter(h), "Content-Type: {}\r\nX-Origin-Requests: {}\r\n", content_type, n);
      const std::string cc = spec->cache_control();
      if (!cc.empty()) fmt::format_to(std::back_inserter(h), "Cache-Control: {}\r\n", cc);
      if (spec->expires) {
        fmt::format_to(std::back_inserter(h), "Expires: {}\r\n",
                       http_date(std::time(nullptr) + *spec->expires));
      }
      if (spec->etag) fmt::format_to(std::back_inserter(h), "ETag: {}\r\n", spec->etag_value());
      if (spec->last_modified > 0) {
        fmt::format_to(std::back_inserter(h), "Last-Modified: {}\r\n", http_date(spec->last_modified));
      }
      if (!spec->vary.empty()) fmt::format_to(std::back_inserter(h), "Vary: {}\r\n", spec->vary);
      if (spec->set_cookie) h += "Set-Cookie: replay=1\r\n";
      if (!spec->cache_status.empty()) {
        fmt::format_to(std::back_inserter(h), "Cache-Status: {}\r\n", spec->cache_status);
      }
      if (url.size() <= 1024) fmt::format_to(std::back_inserter(h), "X-Origin-Path: {}\r\n", url);
      if (status == 304) st.not_modified.fetch_add(1, std::memory_order_relaxed);
      if (is_head) st.head.fetch_add(1, std::memory_order_relaxed);
    }
    auto& cls = status < 300   ? st.status_2xx
                : status < 400 ? st.status_3xx
                : status < 500 ? st.status_4xx
                               : st.status_5xx;
    cls.fetch_add(1, std::memory_order_relaxed);
    st.body_bytes.fetch_add(p->body_len + (is_head ? 0 : p->inline_body.size()), std::memory_order_relaxed);
  }
  if (!spec) {
    // stats, reset and 400 answers: a generated body, its own head.
    const std::size_t body_size = p->inline_body.size();
    if (is_head) p->inline_body.clear();
    p->head = fmt::format(
        "HTTP/1.1 {} {}\r\nDate: {}\r\nContent-Length: {}\r\nContent-Type: {}\r\n"
        "Cache-Control: no-store\r\n",
        status, http::reason_phrase(status), srv->now_date(), body_size, content_type);
  }
  p->close_after = !keep_alive || (spec && spec->close) || srv->closing;
  if (p->close_after) {
    p->head += "Connection: close\r\n";
    closing = true;
  } else if (parser.http_minor == 0) {
    p->head += "Connection: keep-alive\r\n";
  }
  p->head += "\r\n";
  if (spec && spec->delay_ms > 0) {
    auto* d = new DelayTimer{};
    d->conn = this;
    d->pending = p.get();
    d->timer.data = d;
    uv_timer_init(srv->loop, &d->timer);
    uv_timer_start(&d->timer, delay_fired, static_cast<std::uint64_t>(spec->delay_ms), 0);
    p->ready = false;
    p->timer = &d->timer;
  }
  queue.push_back(std::move(p));
}

Conn* conn_of(http_parser* p) { return static_cast<Conn*>(p->data); }

int on_message_begin(http_parser* p) {
  auto* c = conn_of(p);
  c->url.clear();
  c->field.clear();
  c->value.clear();
  c->in_value = false;
  c->if_none_match.clear();
  c->if_modified_since.clear();
  return 0;
}
int on_url(http_parser* p, const char* at, std::size_t len) {
  conn_of(p)->url.append(at, len);
  return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t len) {
  auto* c = conn_of(p);
  if (c->in_value) c->header_done();
  c->field.append(at, len);
  return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t len) {
  auto* c = conn_of(p);
  c->in_value = true;
  c->value.append(at, len);
  return 0;
}
int on_headers_complete(http_parser* p) {
  conn_of(p)->header_done();
  return 0;
}
int on_message_complete(http_parser* p) {
  auto* c = conn_of(p);
  if (!c->closing) c->on_request();
  return 0;
}

// One read buffer for every connection: the loop is single-threaded and a read is parsed before
// the next one starts (style.md §11: per-read malloc of 64 KiB costs more than it buys).
void alloc_cb(uv_handle_t* h, std::size_t, uv_buf_t* buf) {
  static thread_local char storage[64 * 1024];
  (void)h;
  *buf = uv_buf_init(storage, sizeof storage);
}

void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(s->data);
  if (nread < 0) {
    c->close();
    return;
  }
  if (nread == 0 || c->closing) return;
  const std::size_t n =
      http_parser_execute(&c->parser, &c->srv->settings, buf->base, static_cast<std::size_t>(nread));
  if (c->parser.upgrade || n != static_cast<std::size_t>(nread)) {
    if (!c->closing) {
      // Answer what was well-formed, then a 400, then close.
      auto p = std::make_unique<Pending>();
      p->inline_body = fmt::format("malformed request: {}\n", http_errno_name(HTTP_PARSER_ERRNO(&c->parser)));
      p->head = fmt::format(
          "HTTP/1.1 400 Bad Request\r\nDate: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
          c->srv->now_date(), p->inline_body.size());
      p->close_after = true;
      c->closing = true;
      c->queue.push_back(std::move(p));
    }
  }
  c->flush();
}

void on_connection(uv_stream_t* server, int status) {
  auto* srv = static_cast<Origin::Impl*>(server->data);
  if (status < 0) return;
  auto* c = new Conn;
  c->srv = srv;
  uv_tcp_init(srv->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), conn_closed);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  srv->conns.push_back(c);
  srv->stats->connections_accepted.fetch_add(1, std::memory_order_relaxed);
  srv->stats->connections_open.fetch_add(1, std::memory_order_relaxed);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_cb, read_cb);
}

}  // namespace

Origin::Origin(uv_loop_t* loop, OriginOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->loop = loop;
  impl_->opts = opts;
  impl_->stats = &stats_;
  auto& s = impl_->settings;
  s.on_message_begin = on_message_begin;
  s.on_url = on_url;
  s.on_header_field = on_header_field;
  s.on_header_value = on_header_value;
  s.on_headers_complete = on_headers_complete;
  s.on_message_complete = on_message_complete;
}

Origin::~Origin() = default;

int Origin::listen(const HostPort& where) {
  sockaddr_storage addr{};
  if (!to_sockaddr(where, addr)) return UV_EINVAL;
  uv_tcp_init(impl_->loop, &impl_->listener);
  impl_->listener.data = impl_.get();
  impl_->listening = true;
  int rc = uv_tcp_bind(&impl_->listener, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&impl_->listener), 1024, on_connection);
  if (rc != 0) return rc;
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&impl_->listener, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return 0;
}

void Origin::close() {
  if (impl_->closing) return;
  impl_->closing = true;
  if (impl_->listening) uv_close(reinterpret_cast<uv_handle_t*>(&impl_->listener), nullptr);
  auto conns = impl_->conns;
  for (Conn* c : conns) c->close();
}

// ---------------------------------------------------------------------------------------------

OriginThread::OriginThread(OriginOptions opts) : opts_(opts) {}
OriginThread::~OriginThread() { stop(); }

std::uint16_t OriginThread::start(const HostPort& where) {
  uv_loop_init(&loop_);
  origin_ = std::make_unique<Origin>(&loop_, opts_);
  const int rc = origin_->listen(where);
  if (rc != 0) {
    origin_->close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    origin_.reset();
    throw std::runtime_error(
        fmt::format("origin: cannot listen on {}: {}", where.authority(), uv_strerror(rc)));
  }
  stop_async_.data = this;
  uv_async_init(&loop_, &stop_async_, [](uv_async_t* a) {
    auto* self = static_cast<OriginThread*>(a->data);
    self->origin_->close();
    uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
  });
  running_ = true;
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  return origin_->port();
}

void OriginThread::stop() {
  if (!running_) return;
  running_ = false;
  uv_async_send(&stop_async_);
  thread_.join();
  uv_loop_close(&loop_);
}

OriginStats& OriginThread::stats() { return origin_->stats(); }

}  // namespace cachefwd::load
