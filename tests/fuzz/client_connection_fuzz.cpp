// The whole client connection: the fuzzer's bytes go, over a real loopback TCP connection, into a
// real cachefwd Server (ClientConnection, parser, cache, coalescing, CONNECT tunnels, the libcurl
// upstream client) in gateway mode, whose origin is a loopback socket answering every connection
// with the fuzzer's response bytes. One fresh server per input, on one libuv loop; an input ends
// when everything has gone quiet (no fetch, no exchange, no byte moving).
//
// Input: CLIENT_BYTES [kSplit ORIGIN_BYTES]. Without the split marker the origin answers a fixed
// small cacheable 200.
//
// The process moves into its own network namespace first (only its own loopback exists there),
// so that no fuzzed target or Host can reach anything else, on this machine or beyond.
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/cidr.h"
#include "http/request.h"
#include "proxy/proxy_config.h"
#include "proxy/server.h"

namespace {

using namespace cachefwd;

constexpr std::string_view kSplit = "\xff\xfe\xfd\xfc";
constexpr std::string_view kDefaultResponse =
    "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: \"v1\"\r\nContent-Length: 5\r\n\r\nhello";

uv_loop_t g_loop;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "client_connection_fuzz: %s\n", what);
    __builtin_trap();
  }
}

// Moves the process into a new network namespace with only its own loopback up. False when the
// system does not allow it (no CAP_SYS_ADMIN and no unprivileged user namespaces): then the
// target does nothing rather than let fuzzed targets reach other services on this machine.
bool isolate_network() {
  if (unshare(CLONE_NEWNET) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "client_connection_fuzz: SKIPPED: cannot create a network namespace (%s)\n",
                 std::strerror(errno));
    return false;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
            (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
  if (fd >= 0) close(fd);
  if (!up) {
    std::fprintf(stderr, "client_connection_fuzz: SKIPPED: cannot bring up lo in the new namespace (%s)\n",
                 std::strerror(errno));
    return false;
  }
  return true;
}

bool g_isolated = false;

// Counts everything that moves, to tell when an input has been fully processed.
struct Progress {
  std::uint64_t client_rx = 0, origin_rx = 0, origin_accepts = 0;
  bool client_eof = false;
};

// The scripted origin: each connection gets `response` once some request bytes arrived, then a
// graceful close.
struct Origin {
  uv_tcp_t listener{};
  std::string response;
  Progress* progress = nullptr;
  std::vector<uv_tcp_t*> conns;

  struct Conn {
    uv_tcp_t tcp{};
    Origin* origin = nullptr;
    bool answered = false;
  };

  static void on_connection(uv_stream_t* server, int status) {
    auto* self = static_cast<Origin*>(server->data);
    if (status < 0) return;
    auto* c = new Conn;
    c->origin = self;
    uv_tcp_init(&g_loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_closed);
      return;
    }
    self->conns.push_back(&c->tcp);
    self->progress->origin_accepts++;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc, on_read);
  }
  static void alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    static char storage[65536];
    *buf = uv_buf_init(storage, sizeof storage);
  }
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
    auto* c = static_cast<Conn*>(s->data);
    if (n < 0) {
      c->origin->forget(&c->tcp);
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_closed);
      return;
    }
    c->origin->progress->origin_rx += static_cast<std::uint64_t>(n);
    if (n == 0 || c->answered) return;
    c->answered = true;
    auto* w = new uv_write_t;
    uv_buf_t b = uv_buf_init(c->origin->response.data(), static_cast<unsigned>(c->origin->response.size()));
    uv_write(w, s, &b, 1, [](uv_write_t* req, int) {
      auto* sh = new uv_shutdown_t;
      if (uv_shutdown(sh, req->handle, [](uv_shutdown_t* r, int) { delete r; }) != 0) delete sh;
      delete req;
    });
  }
  static void on_closed(uv_handle_t* h) { delete static_cast<Conn*>(h->data); }
  void forget(uv_tcp_t* t) { std::erase(conns, t); }
  void close_all() {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    for (auto* t : conns) uv_close(reinterpret_cast<uv_handle_t*>(t), on_closed);
    conns.clear();
  }
};

struct Client {
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  uv_write_t write{};
  std::string out;  // what we send
  std::string in;   // what the proxy answered
  Progress* progress = nullptr;
  bool closed = false;

  static void alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
    static char storage[65536];
    *buf = uv_buf_init(storage, sizeof storage);
  }
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* self = static_cast<Client*>(s->data);
    if (n < 0) {
      self->progress->client_eof = true;
      uv_read_stop(s);
      return;
    }
    self->progress->client_rx += static_cast<std::uint64_t>(n);
    if (self->in.size() < 64) self->in.append(buf->base, static_cast<std::size_t>(n));
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_isolated = isolate_network();
  uv_loop_init(&g_loop);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto split = in.find(kSplit);
  std::string_view client_bytes = in.substr(0, split);
  std::string_view origin_bytes =
      split == std::string_view::npos ? kDefaultResponse : in.substr(split + kSplit.size());
  if (client_bytes.empty() || !g_isolated) return 0;

  Progress progress;
  Origin origin;
  origin.progress = &progress;
  origin.response.assign(origin_bytes);
  uv_tcp_init(&g_loop, &origin.listener);
  origin.listener.data = &origin;
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  check(uv_tcp_bind(&origin.listener, reinterpret_cast<const sockaddr*>(&addr), 0) == 0, "origin bind");
  check(uv_listen(reinterpret_cast<uv_stream_t*>(&origin.listener), 64, Origin::on_connection) == 0,
        "origin listen");
  sockaddr_in bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&origin.listener, reinterpret_cast<sockaddr*>(&bound), &len);
  const std::uint16_t origin_port = ntohs(bound.sin_port);

  proxy::ProxyConfig cfg;
  cfg.listen = {proxy::ListenAddress{"127.0.0.1", 0}};
  http::TargetUri upstream;
  check(http::parse_absolute_target("http://127.0.0.1:" + std::to_string(origin_port) + "/", upstream),
        "upstream");
  cfg.upstream = upstream;
  cfg.allow = *parse_cidr_list("127.0.0.0/8,::1");
  cfg.connect_ports = {origin_port};
  // Inside the namespace only loopback exists anyway; this keeps the destination guard's code
  // on the path too.
  cfg.allow_dest_cidrs = *parse_cidr_list("127.0.0.0/8,::1");
  cfg.store_limits.max_bytes = 1 << 20;
  cfg.max_object_size = 64 << 10;
  cfg.upstream_options.connect_timeout_ms = 1'000;
  cfg.upstream_options.idle_timeout_ms = 2'000;

  {
    proxy::Server server(&g_loop, cfg);
    check(!server.start(), "proxy start");
    const std::uint16_t proxy_port = server.bound_ports().at(0);

    Client client;
    client.progress = &progress;
    client.out.assign(client_bytes);
    uv_tcp_init(&g_loop, &client.tcp);
    client.tcp.data = &client;
    uv_ip4_addr("127.0.0.1", proxy_port, &addr);
    client.connect.data = &client;
    uv_tcp_connect(&client.connect, &client.tcp, reinterpret_cast<const sockaddr*>(&addr),
                   [](uv_connect_t* c, int status) {
                     auto* self = static_cast<Client*>(c->data);
                     if (status < 0) {
                       self->progress->client_eof = true;
                       return;
                     }
                     uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp), Client::alloc,
                                   Client::on_read);
                     uv_buf_t b = uv_buf_init(self->out.data(), static_cast<unsigned>(self->out.size()));
                     uv_write(&self->write, reinterpret_cast<uv_stream_t*>(&self->tcp), &b, 1, nullptr);
                   });

    // Run until quiet: nothing in flight upstream and nothing moved for a few loop turns (the
    // loop polls without blocking, so a byte in any socket buffer counts as movement).
    int quiet_turns = 0;
    Progress last = progress;
    std::uint64_t turns = 0;
    while (quiet_turns < 8) {
      uv_run(&g_loop, UV_RUN_NOWAIT);
      bool busy = server.upstream().active_fetches() > 0 || !server.exchanges().empty();
      bool moved = progress.client_rx != last.client_rx || progress.origin_rx != last.origin_rx ||
                   progress.origin_accepts != last.origin_accepts || progress.client_eof != last.client_eof;
      last = progress;
      quiet_turns = busy || moved ? 0 : quiet_turns + 1;
      if (std::getenv("FUZZ_DEBUG"))
        std::fprintf(stderr,
                     "turn %llu fetches %zu exchanges %zu rx %llu origin_rx %llu accepts %llu eof %d\n",
                     (unsigned long long)turns, server.upstream().active_fetches(), server.exchanges().size(),
                     (unsigned long long)progress.client_rx, (unsigned long long)progress.origin_rx,
                     (unsigned long long)progress.origin_accepts, progress.client_eof);
      if (busy && !moved) uv_run(&g_loop, UV_RUN_ONCE);  // wait for the upstream instead of spinning
      check(++turns < 1'000'000, "the proxy never went quiet");
    }
    // Whatever the proxy sent first is an HTTP/1.1 response, never forwarded raw bytes.
    check(client.in.empty() || client.in.starts_with("HTTP/1.1 "),
          "client received something other than HTTP/1.1");

    uv_close(reinterpret_cast<uv_handle_t*>(&client.tcp), nullptr);
    origin.close_all();
    // stop() hands the loop back (uv_stop); the caller runs it until the connections are gone, as
    // serve does, before the server may be destroyed.
    server.stop();
    for (int i = 0; server.open_connections() > 0; ++i) {
      check(i < 100'000, "connections still open long after stop()");
      uv_run(&g_loop, UV_RUN_ONCE);
    }
  }
  while (uv_run(&g_loop, UV_RUN_DEFAULT) != 0) {
  }  // close callbacks of what the server's destructor released
  check(uv_loop_alive(&g_loop) == 0, "handles left open after the server stopped");
  return 0;
}
