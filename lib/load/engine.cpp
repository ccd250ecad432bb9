#include "load/engine.h"

#include <http_parser.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "base/strings.h"
#include "http/cache_status.h"

namespace cachefwd::load {

std::uint64_t read_rss_bytes(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::uint64_t kb = 0;
      for (char c : line) {
        if (c >= '0' && c <= '9') kb = kb * 10 + static_cast<std::uint64_t>(c - '0');
      }
      return kb * 1024;
    }
  }
  return 0;
}

namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kTickMs = 100;

struct Engine;

struct Inflight {
  std::uint64_t start_ns;  // intended (open model) or actual (closed) send time: latency origin
  std::uint64_t sent_ns;   // actual send time: timeouts count from here
  bool head;
};

struct Conn {
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  Engine* eng = nullptr;
  std::size_t slot = 0;
  bool connected = false;
  bool closed = false;
  bool writing = false;
  bool server_close = false;  // the last response said the connection ends
  http_parser parser{};
  std::deque<Inflight> inflight;
  std::string out;
  // header capture: only Cache-Status / X-Cache matter
  std::string field;
  bool in_value = false;
  // The field being captured (nullptr: none), and what each field said (nullopt: absent).
  std::optional<std::string>* capture = nullptr;
  std::optional<std::string> cache_status, x_cache;
  std::uint64_t body = 0;
};

struct WriteReq {
  uv_write_t req;
  Conn* conn;
  std::string data;
};

struct Engine {
  uv_loop_t loop{};
  const Workload& wl;
  LoadOptions o;
  LoadResult r;
  Rng rng;
  http_parser_settings settings{};
  sockaddr_storage addr{};
  std::vector<Conn*> conns;  // per slot; nullptr while (re)connecting is pending
  std::uint64_t t_start = 0, t_measure = 0;
  bool measuring = false, stopping = false;
  std::uint64_t issued_measured = 0;
  std::uint64_t total_inflight = 0;
  bool ever_connected = false;
  std::uint64_t last_progress_ns = 0;
  // open model
  int tfd = -1;
  uv_poll_t tpoll{};
  std::uint64_t next_k = 0;
  double interval_ns = 0;
  std::deque<std::uint64_t> backlog;
  std::size_t rr = 0;
  // timers
  uv_timer_t tick{}, warmup_timer{}, end_timer{}, sample_timer{};
  Histogram interval;
  Sample cur;
  std::uint64_t interval_start = 0;

  Engine(const Workload& w, const LoadOptions& opts)
      : wl(w), o(opts), rng(opts.seed * 0x9e3779b97f4a7c15ull + 7) {}

  std::uint64_t sample_ms() const {
    return static_cast<std::uint64_t>(std::clamp(o.sample_s, 0.05, 10.0) * 1000.0);
  }
  bool limit_reached() const { return o.requests && issued_measured >= o.requests; }
  bool can_issue() const { return !stopping && !limit_reached(); }

  void issue(Conn* c, std::uint64_t start_ns, std::uint64_t now) {
    const std::size_t i = wl.pick(rng.uniform());
    const bool head = o.head_fraction > 0 && rng.uniform() < o.head_fraction;
    wl.append_request(i, o.absolute_form, head, c->out);
    c->inflight.push_back(Inflight{start_ns, now, head});
    ++total_inflight;
    if (measuring) {
      ++r.sent;
      ++issued_measured;
    }
  }

  void connect_slot(std::size_t slot);
  void close_conn(Conn* c, bool reconnect_now);
  void flush(Conn* c);
  void pump(Conn* c);
  void complete(Conn* c);
  void on_timerfd();
  void arm_timerfd();
  void on_tick();
  void start_measuring();
  void emit_sample(std::uint64_t now);
  void maybe_finish();
  void stop();
};

Conn* conn_of(http_parser* p) { return static_cast<Conn*>(p->data); }

int on_message_begin(http_parser* p) {
  auto* c = conn_of(p);
  c->field.clear();
  c->in_value = false;
  c->capture = nullptr;
  c->cache_status.reset();
  c->x_cache.reset();
  c->body = 0;
  return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t len) {
  auto* c = conn_of(p);
  if (c->in_value) {
    c->in_value = false;
    c->capture = nullptr;
    c->field.clear();
  }
  c->field.append(at, len);
  return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t len) {
  auto* c = conn_of(p);
  if (!c->in_value) {
    c->in_value = true;
    // RFC 9211 Cache-Status; X-Cache is what squid, varnish setups and CDNs send instead.
    c->capture = iequals(c->field, "cache-status") ? &c->cache_status
                 : iequals(c->field, "x-cache")    ? &c->x_cache
                                                   : nullptr;
    if (c->capture) {
      // Field lines of one name are one comma-separated list (RFC 9110 §5.3).
      if (*c->capture)
        **c->capture += ", ";
      else
        c->capture->emplace();
    }
  }
  if (c->capture) (*c->capture)->append(at, len);
  return 0;
}
int on_headers_complete(http_parser* p) {
  auto* c = conn_of(p);
  // A HEAD answer has no body whatever Content-Length says (RFC 9110 §9.3.2).
  return (!c->inflight.empty() && c->inflight.front().head) ? 1 : 0;
}
int on_body(http_parser* p, const char*, std::size_t len) {
  conn_of(p)->body += len;
  return 0;
}
int on_message_complete(http_parser* p) {
  auto* c = conn_of(p);
  if (!http_should_keep_alive(p)) c->server_close = true;
  c->eng->complete(c);
  return 0;
}

void Engine::complete(Conn* c) {
  if (c->inflight.empty()) return;  // an unsolicited response: ignore it
  const Inflight f = c->inflight.front();
  c->inflight.pop_front();
  --total_inflight;
  if (!measuring) return;
  const std::uint64_t now = uv_hrtime();
  const std::uint64_t lat = now > f.start_ns ? now - f.start_ns : 0;
  ++r.responses;
  ++cur.responses;
  r.latency.record(lat);
  interval.record(lat);
  r.body_bytes += c->body;
  cur.body_bytes += c->body;
  const auto outcome = http::cache_outcome(c->cache_status, c->x_cache);
  if (outcome != http::CacheOutcome::unknown) {
    if (outcome == http::CacheOutcome::hit) {
      ++r.hits;
      ++cur.hits;
      r.hit_latency.record(lat);
      r.hit_body_bytes += c->body;
      cur.hit_body_bytes += c->body;
    } else {
      ++r.misses;
      ++cur.misses;
      r.miss_latency.record(lat);
      r.miss_body_bytes += c->body;
    }
  } else {
    ++r.unclassified;
  }
  const unsigned status = c->parser.status_code;
  if (status < 300) {
    ++r.status_1xx_2xx;
  } else if (status < 400) {
    ++r.status_3xx;
  } else if (status < 500) {
    ++r.status_4xx;
  } else {
    ++r.status_5xx;
  }
}

void alloc_cb(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  static thread_local char storage[64 * 1024];
  *buf = uv_buf_init(storage, sizeof storage);
}

void count_lost(Engine* e, Conn* c, std::uint64_t& counter) {
  if (e->measuring) counter += c->inflight.size();
  e->total_inflight -= c->inflight.size();
  c->inflight.clear();
}

void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(s->data);
  Engine* e = c->eng;
  if (nread == 0) return;
  if (nread < 0) {
    // A response delimited by the close (no Content-Length) completes at EOF.
    if (nread == UV_EOF) http_parser_execute(&c->parser, &e->settings, nullptr, 0);
    count_lost(e, c, e->r.err_io);
    e->close_conn(c, nread == UV_EOF);
    e->maybe_finish();
    return;
  }
  const std::size_t n =
      http_parser_execute(&c->parser, &e->settings, buf->base, static_cast<std::size_t>(nread));
  if (n != static_cast<std::size_t>(nread) && !c->server_close) {
    if (e->measuring) ++e->r.err_parse;
    if (!c->inflight.empty()) {
      c->inflight.pop_front();
      --e->total_inflight;
    }
    count_lost(e, c, e->r.err_io);
    e->close_conn(c, false);
    e->maybe_finish();
    return;
  }
  if (c->server_close) {
    count_lost(e, c, e->r.err_io);
    e->close_conn(c, true);
    e->maybe_finish();
    return;
  }
  e->pump(c);
  e->maybe_finish();
}

void write_cb(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  Conn* c = w->conn;
  delete w;
  if (c->closed) return;
  c->writing = false;
  if (status < 0) {
    count_lost(c->eng, c, c->eng->r.err_io);
    c->eng->close_conn(c, false);
    return;
  }
  c->eng->flush(c);
}

void Engine::flush(Conn* c) {
  if (c->out.empty() || c->writing || !c->connected || c->closed) return;
  uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    count_lost(this, c, r.err_io);
    close_conn(c, false);
    return;
  }
  if (static_cast<std::size_t>(n) == c->out.size()) {
    c->out.clear();
    return;
  }
  auto* w = new WriteReq;
  w->conn = c;
  w->data.assign(c->out, static_cast<std::size_t>(n));
  c->out.clear();
  b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  c->writing = true;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1, write_cb) != 0) {
    delete w;
    c->writing = false;
    count_lost(this, c, r.err_io);
    close_conn(c, false);
  }
}

void Engine::pump(Conn* c) {
  if (!c->connected || c->closed || stopping) return;
  const auto depth = static_cast<std::size_t>(o.pipeline);
  if (o.rate > 0) {
    const std::uint64_t now = uv_hrtime();
    while (c->inflight.size() < depth && !backlog.empty()) {
      const std::uint64_t due = backlog.front();
      backlog.pop_front();
      if (measuring && now > due + kMs) ++r.late_sends;
      issue(c, due, now);
    }
  } else {
    while (c->inflight.size() < depth && can_issue()) {
      const std::uint64_t now = uv_hrtime();
      issue(c, now, now);
    }
  }
  flush(c);
}

void conn_closed(uv_handle_t* h) { delete static_cast<Conn*>(h->data); }

void on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<Conn*>(req->data);
  Engine* e = c->eng;
  if (c->closed) return;
  if (status < 0) {
    ++e->r.err_connect;
    e->close_conn(c, false);
    return;
  }
  c->connected = true;
  e->ever_connected = true;
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_cb, read_cb);
  e->pump(c);
}

void Engine::connect_slot(std::size_t slot) {
  if (stopping) return;
  auto* c = new Conn;
  c->eng = this;
  c->slot = slot;
  c->tcp.data = c;
  c->connect_req.data = c;
  http_parser_init(&c->parser, HTTP_RESPONSE);
  c->parser.data = c;
  uv_tcp_init(&loop, &c->tcp);
  conns[slot] = c;
  const int rc =
      uv_tcp_connect(&c->connect_req, &c->tcp, reinterpret_cast<const sockaddr*>(&addr), on_connect);
  if (rc != 0) {
    ++r.err_connect;
    close_conn(c, false);
  }
}

// reconnect_now: the server ended a healthy connection; otherwise the slot waits for the next
// tick, so a refusing target is retried 10 times a second rather than in a hot loop.
void Engine::close_conn(Conn* c, bool reconnect_now) {
  if (c->closed) return;
  c->closed = true;
  c->connected = false;
  total_inflight -= c->inflight.size();
  c->inflight.clear();
  if (conns[c->slot] == c) conns[c->slot] = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), conn_closed);
  if (reconnect_now && !stopping) {
    ++r.reconnects;
    connect_slot(c->slot);
  }
}

void Engine::arm_timerfd() {
  if (!can_issue()) return;
  const auto due = t_start + static_cast<std::uint64_t>(static_cast<double>(next_k) * interval_ns);
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(due / 1'000'000'000);
  its.it_value.tv_nsec = static_cast<long>(due % 1'000'000'000);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
}

// Issues every request whose intended time has passed: to a connection with room, or to the
// backlog when all are busy (the latency of a backlogged request still counts from its intended
// time).
void Engine::on_timerfd() {
  std::uint64_t expirations;
  if (::read(tfd, &expirations, sizeof expirations) < 0) {
    // EAGAIN: a re-arm raced the wakeup; fall through and issue what is due.
  }
  const std::uint64_t now = uv_hrtime();
  std::vector<Conn*> touched;
  while (can_issue()) {
    const auto due = t_start + static_cast<std::uint64_t>(static_cast<double>(next_k) * interval_ns);
    if (due > now) break;
    ++next_k;
    Conn* target = nullptr;
    if (backlog.empty()) {
      const auto depth = static_cast<std::size_t>(o.pipeline);
      for (std::size_t i = 0; i < conns.size(); ++i) {
        Conn* c = conns[(rr + i) % conns.size()];
        if (c && c->connected && c->inflight.size() < depth) {
          target = c;
          rr = (rr + i + 1) % conns.size();
          break;
        }
      }
    }
    if (target) {
      if (measuring && now > due + kMs) ++r.late_sends;
      issue(target, due, now);
      touched.push_back(target);
    } else {
      backlog.push_back(due);
      if (measuring) r.max_backlog = std::max<std::uint64_t>(r.max_backlog, backlog.size());
    }
  }
  for (Conn* c : touched) flush(c);
  arm_timerfd();
}

void Engine::emit_sample(std::uint64_t now) {
  cur.t_s = static_cast<double>(now - t_measure) / 1e9;
  cur.p50_ns = interval.percentile(50);
  cur.p99_ns = interval.percentile(99);
  if (o.rss_pid > 0) {
    cur.rss_bytes = read_rss_bytes(o.rss_pid);
    r.rss_max = std::max(r.rss_max, cur.rss_bytes);
  }
  r.series.push_back(cur);
  // The live line once a second, whatever the sample interval.
  if (o.progress && now - last_progress_ns >= 1'000'000'000ull) {
    last_progress_ns = now;
    const double secs = static_cast<double>(now - interval_start) / 1e9;
    const auto classified = cur.hits + cur.misses;
    std::string line = fmt::format("\r[{:6.1f}s] {:>10.0f} req/s  p99 {:>8.3f} ms", cur.t_s,
                                   secs > 0 ? static_cast<double>(cur.responses) / secs : 0.0,
                                   static_cast<double>(cur.p99_ns) / 1e6);
    if (classified) line += fmt::format("  hit {:5.1f}%", 100.0 * static_cast<double>(cur.hits) / classified);
    line += fmt::format("  errors {}", r.errors());
    if (cur.rss_bytes)
      line += fmt::format("  rss {:.1f} MiB", static_cast<double>(cur.rss_bytes) / 1048576.0);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }
  cur = Sample{};
  interval.reset();
  interval_start = now;
}

void Engine::on_tick() {
  const std::uint64_t now = uv_hrtime();
  for (std::size_t i = 0; i < conns.size(); ++i) {
    Conn* c = conns[i];
    if (!c) {
      connect_slot(i);
      continue;
    }
    if (!c->inflight.empty() &&
        now - c->inflight.front().sent_ns > static_cast<std::uint64_t>(o.timeout_s * 1e9)) {
      count_lost(this, c, r.err_timeout);
      close_conn(c, false);
    }
  }
  // A target that refuses every connection for a whole --timeout will not start answering: stop
  // rather than retry for the rest of the run (bench then reports the connect errors, exit 1).
  if (!ever_connected && r.err_connect > 0 && now - t_start > static_cast<std::uint64_t>(o.timeout_s * 1e9)) {
    stop();
    return;
  }
  maybe_finish();
}

void Engine::start_measuring() {
  if (o.on_measure_start) o.on_measure_start();
  const std::uint64_t now = uv_hrtime();
  // Requests sent during warmup and answered later still count: they were sent under load.
  r = LoadResult{};
  measuring = true;
  t_measure = now;
  interval_start = now;
  uv_timer_start(
      &sample_timer,
      [](uv_timer_t* t) {
        auto* e = static_cast<Engine*>(t->data);
        e->emit_sample(uv_hrtime());
      },
      sample_ms(), sample_ms());
  interval.reset();
  cur = Sample{};
  if (o.rss_pid > 0) r.rss_max = r.rss_start = read_rss_bytes(o.rss_pid);
  if (o.progress && o.warmup_s > 0) {
    std::fputs("\r[ warmup done ]", stdout);
    std::fflush(stdout);
  }
}

void Engine::maybe_finish() {
  if (!stopping && measuring && limit_reached() && total_inflight == 0 && backlog.empty()) stop();
}

void Engine::stop() {
  if (stopping) return;
  const std::uint64_t now = uv_hrtime();
  stopping = true;
  if (measuring) {
    r.elapsed_s = static_cast<double>(now - t_measure) / 1e9;
    if (cur.responses > 0 && now - interval_start > 100 * kMs) emit_sample(now);
    if (o.rss_pid > 0) {
      r.rss_end = read_rss_bytes(o.rss_pid);
      r.rss_max = std::max(r.rss_max, r.rss_end);
    }
  }
  if (o.progress) std::fputs("\n", stdout);
  for (uv_timer_t* t : {&tick, &warmup_timer, &end_timer, &sample_timer}) {
    uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
  }
  if (tfd >= 0) uv_close(reinterpret_cast<uv_handle_t*>(&tpoll), nullptr);
  for (Conn* c : conns) {
    if (c) close_conn(c, false);
  }
}

}  // namespace

LoadResult run_load(const Workload& workload, const LoadOptions& opts) {
  if (workload.size() == 0) throw std::runtime_error("empty workload");
  if (opts.connections < 1 || opts.pipeline < 1)
    throw std::runtime_error("connections and pipeline must be >= 1");
  Engine e(workload, opts);
  if (!to_sockaddr(opts.connect_to, e.addr)) {
    throw std::runtime_error("cannot resolve the target host " + opts.connect_to.host);
  }
  auto& s = e.settings;
  s.on_message_begin = on_message_begin;
  s.on_header_field = on_header_field;
  s.on_header_value = on_header_value;
  s.on_headers_complete = on_headers_complete;
  s.on_body = on_body;
  s.on_message_complete = on_message_complete;

  uv_loop_init(&e.loop);
  e.loop.data = &e;
  e.conns.assign(static_cast<std::size_t>(opts.connections), nullptr);
  e.t_start = uv_hrtime();

  uv_timer_init(&e.loop, &e.tick);
  e.tick.data = &e;
  uv_timer_start(
      &e.tick, [](uv_timer_t* t) { static_cast<Engine*>(t->data)->on_tick(); }, kTickMs, kTickMs);
  uv_timer_init(&e.loop, &e.warmup_timer);
  e.warmup_timer.data = &e;
  uv_timer_init(&e.loop, &e.end_timer);
  e.end_timer.data = &e;
  uv_timer_init(&e.loop, &e.sample_timer);
  e.sample_timer.data = &e;
  const auto warm_ms = static_cast<std::uint64_t>(opts.warmup_s * 1000);
  const auto dur_ms = static_cast<std::uint64_t>(opts.duration_s * 1000);
  if (warm_ms == 0) {
    e.start_measuring();
  } else {
    uv_timer_start(
        &e.warmup_timer, [](uv_timer_t* t) { static_cast<Engine*>(t->data)->start_measuring(); }, warm_ms, 0);
  }
  uv_timer_start(
      &e.end_timer, [](uv_timer_t* t) { static_cast<Engine*>(t->data)->stop(); }, warm_ms + dur_ms, 0);

  if (opts.rate > 0) {
    // A timerfd, not a uv_timer: libuv timers have millisecond resolution and would add up to a
    // millisecond of our own lateness to every latency measured from the intended time.
    e.interval_ns = 1e9 / opts.rate;
    e.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (e.tfd < 0) throw std::runtime_error("timerfd_create failed");
    uv_poll_init(&e.loop, &e.tpoll, e.tfd);
    e.tpoll.data = &e;
    uv_poll_start(&e.tpoll, UV_READABLE,
                  [](uv_poll_t* p, int, int) { static_cast<Engine*>(p->data)->on_timerfd(); });
    e.arm_timerfd();
  }
  for (std::size_t i = 0; i < e.conns.size(); ++i) e.connect_slot(i);

  uv_run(&e.loop, UV_RUN_DEFAULT);
  uv_loop_close(&e.loop);
  if (e.tfd >= 0) ::close(e.tfd);
  return std::move(e.r);
}

}  // namespace cachefwd::load
