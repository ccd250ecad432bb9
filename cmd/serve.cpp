// `cachefwd serve`: flags → ProxyConfig → Server on a libuv loop.
#include <fmt/format.h>
#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <random>

#include "base/strings.h"
#include "commands.h"
#include "proxy/server.h"

namespace {

struct ServeFlags {
  std::vector<std::string> listen{"127.0.0.1:3128"};
  std::string upstream;
  std::string ttl = "0";
  std::string max_bytes = "256MiB";
  std::uint64_t max_entries = 0;
  std::string max_object_size = "16MiB";
  std::string policy = "lru";
  std::string allow = "127.0.0.0/8,::1";
  std::string connect_ports = "443";
  std::string connect_timeout = "5s";
  std::string upstream_timeout = "30s";
  std::string client_timeout = "60s";
  std::string max_header_size = "64KiB";
  std::string max_body_size = "64MiB";
  bool no_cache = false;
  std::string stale_if_error = "0";
  bool no_coalesce = false;
  std::string coalesce_timeout = "5s";
  std::string hit_for_miss = "30s";
};

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "cachefwd serve: %s\n", msg.c_str());
  std::exit(2);
}

std::int64_t duration_flag(const char* name, const std::string& v) {
  auto ms = cachefwd::parse_duration_ms(v);
  if (!ms) fail(fmt::format("{} wants a duration such as 30s, 500ms, 5m (got '{}')", name, v));
  return *ms;
}

std::uint64_t size_flag(const char* name, const std::string& v) {
  auto n = cachefwd::parse_size(v);
  if (!n) fail(fmt::format("{} wants a size such as 256MiB, 64KiB, 1048576 (got '{}')", name, v));
  return *n;
}

cachefwd::proxy::ProxyConfig build_config(const ServeFlags& f) {
  using namespace cachefwd;
  proxy::ProxyConfig c;
  for (auto& l : f.listen) {
    auto a = proxy::parse_listen_address(l);
    if (!a) fail(fmt::format("--listen wants ADDR:PORT, e.g. 127.0.0.1:3128 or [::1]:3128 (got '{}')", l));
    c.listen.push_back(*a);
  }
  if (!f.upstream.empty()) {
    http::TargetUri u;
    if (!http::parse_absolute_target(f.upstream, u))
      fail(fmt::format("--upstream wants an http URL such as http://127.0.0.1:8080 (got '{}')", f.upstream));
    c.upstream = u;
  }
  c.policy.default_ttl_ms = duration_flag("--ttl", f.ttl);
  c.store_limits.max_bytes = size_flag("--max-bytes", f.max_bytes);
  c.store_limits.max_entries = f.max_entries;
  c.max_object_size = size_flag("--max-object-size", f.max_object_size);
  c.eviction_policy = f.policy;
  if (!cache::store::make_eviction_policy(f.policy)) fail(fmt::format("--policy: unknown eviction policy '{}'", f.policy));
  std::string bad;
  auto allow = parse_cidr_list(f.allow, &bad);
  if (!allow) fail(fmt::format("--allow: '{}' is not an address or CIDR range", bad));
  c.allow = *allow;
  c.connect_ports.clear();
  size_t start = 0;
  while (start <= f.connect_ports.size()) {
    auto comma = f.connect_ports.find(',', start);
    auto item = trim_ows(std::string_view(f.connect_ports).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) {
      auto p = parse_decimal(item);
      if (!p || *p == 0 || *p > 65535) fail(fmt::format("--connect-ports: '{}' is not a port", item));
      c.connect_ports.insert(static_cast<std::uint16_t>(*p));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  c.upstream_options.connect_timeout_ms = duration_flag("--connect-timeout", f.connect_timeout);
  c.upstream_options.idle_timeout_ms = duration_flag("--upstream-timeout", f.upstream_timeout);
  c.client_idle_timeout_ms = duration_flag("--client-timeout", f.client_timeout);
  if (c.upstream_options.connect_timeout_ms <= 0 || c.upstream_options.idle_timeout_ms <= 0 || c.client_idle_timeout_ms <= 0)
    fail("timeouts must be greater than zero");
  c.parser.max_header_bytes = size_flag("--max-header-size", f.max_header_size);
  c.parser.max_body_bytes = size_flag("--max-body-size", f.max_body_size);
  c.cache_enabled = !f.no_cache;
  c.policy.stale_if_error_ms = duration_flag("--stale-if-error", f.stale_if_error);
  c.coalesce = !f.no_coalesce;
  c.coalesce_timeout_ms = duration_flag("--coalesce-timeout", f.coalesce_timeout);
  c.hit_for_miss_ms = duration_flag("--hit-for-miss", f.hit_for_miss);
  // Loop detection looks for our own Via entry: make it this instance's, so that a chain of two
  // cachefwd proxies (a forward proxy in front of a gateway) is not mistaken for a loop.
  std::random_device rd;
  c.via_name = fmt::format("cachefwd-{:06x}", rd() & 0xffffff);
  return c;
}

int run_serve(const ServeFlags& flags) {
  using namespace cachefwd;
  auto config = build_config(flags);
  // libuv writes without MSG_NOSIGNAL: a client reset must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 0;
  {
    proxy::Server server(&loop, config);
    if (auto err = server.start()) {
      std::fprintf(stderr, "cachefwd serve: %s\n", err->c_str());
      rc = 1;
    } else {
      std::string where;
      auto ports = server.bound_ports();
      for (size_t i = 0; i < config.listen.size(); ++i) {
        bool v6 = config.listen[i].host.find(':') != std::string::npos;
        where += fmt::format("{}{}{}{}:{}", i ? ", " : "", v6 ? "[" : "", config.listen[i].host, v6 ? "]" : "",
                             i < ports.size() ? ports[i] : config.listen[i].port);
      }
      std::fprintf(stderr, "cachefwd: listening on %s (%s), cache %s, default ttl %llds\n", where.c_str(),
                   config.upstream ? fmt::format("gateway to {}", config.upstream->url()).c_str() : "forward proxy",
                   config.cache_enabled ? fmt::format("{} bytes {}", config.store_limits.max_bytes, config.eviction_policy).c_str()
                                        : "off",
                   static_cast<long long>(config.policy.default_ttl_ms / 1000));
      uv_signal_t sigint, sigterm;
      uv_signal_init(&loop, &sigint);
      uv_signal_init(&loop, &sigterm);
      sigint.data = sigterm.data = &server;
      auto on_signal = [](uv_signal_t* s, int signum) {
        std::fprintf(stderr, "cachefwd: signal %d, stopping\n", signum);
        static_cast<proxy::Server*>(s->data)->stop();
        uv_walk(s->loop, [](uv_handle_t* h, void*) {
          if (h->type == UV_SIGNAL && !uv_is_closing(h)) uv_close(h, nullptr);
        }, nullptr);
      };
      uv_signal_start(&sigint, on_signal, SIGINT);
      uv_signal_start(&sigterm, on_signal, SIGTERM);
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    server.stop();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the caching HTTP proxy (forward proxy, or gateway with --upstream)");
  cmd->add_option("--listen", flags->listen, "Address to accept clients on, ADDR:PORT or [IPv6]:PORT; repeatable")
      ->capture_default_str();
  cmd->add_option("--upstream", flags->upstream,
                  "Gateway mode: send origin-form requests (GET /path) to this http URL; its path is a prefix");
  cmd->add_option("--ttl", flags->ttl,
                  "Freshness lifetime for responses that carry none of their own (no max-age, s-maxage or "
                  "Expires): applies to otherwise storable 200, 203, 204, 300, 301 and 308 responses; never "
                  "overrides an origin's own lifetime and never makes no-store, private or authenticated "
                  "responses storable. 0 = such responses are not stored")
      ->capture_default_str();
  cmd->add_option("--max-bytes", flags->max_bytes,
                  "Memory for stored responses, counting keys, headers and bodies; LRU eviction beyond it")
      ->capture_default_str();
  cmd->add_option("--max-entries", flags->max_entries, "Most stored responses (0 = no limit)")->capture_default_str();
  cmd->add_option("--max-object-size", flags->max_object_size,
                  "Largest response body stored; bigger ones are streamed to the client uncached, never cut")
      ->capture_default_str();
  cmd->add_option("--policy", flags->policy, "Eviction policy")->capture_default_str();
  cmd->add_option("--allow", flags->allow, "Client addresses (CIDR list) the proxy serves; others get 403")
      ->capture_default_str();
  cmd->add_option("--connect-ports", flags->connect_ports, "Ports CONNECT may tunnel to (comma list)")
      ->capture_default_str();
  cmd->add_option("--connect-timeout", flags->connect_timeout, "Upstream connect timeout (502/504 after it)")
      ->capture_default_str();
  cmd->add_option("--upstream-timeout", flags->upstream_timeout,
                  "Upstream idle timeout: no byte for this long answers 504 (or cuts a started body)")
      ->capture_default_str();
  cmd->add_option("--client-timeout", flags->client_timeout, "Idle keep-alive and slow-request timeout for clients")
      ->capture_default_str();
  cmd->add_option("--max-header-size", flags->max_header_size, "Largest request header section (431 beyond)")
      ->capture_default_str();
  cmd->add_option("--max-body-size", flags->max_body_size, "Largest request body (413 beyond)")->capture_default_str();
  cmd->add_flag("--no-cache", flags->no_cache, "Forward only: store nothing");
  cmd->add_option("--stale-if-error", flags->stale_if_error,
                  "Serve a stored response up to this long past its expiry when the upstream fails, times "
                  "out or answers 5xx (RFC 5861), unless the response forbids it (must-revalidate, "
                  "proxy-revalidate, s-maxage, no-cache). The origin's own stale-if-error also applies")
      ->capture_default_str();
  cmd->add_flag("--no-coalesce", flags->no_coalesce,
                "Send every miss upstream, even while the same key is being fetched");
  cmd->add_option("--coalesce-timeout", flags->coalesce_timeout,
                  "How long a request waits for a fetch of the same key it joined to return its head "
                  "before going upstream itself")
      ->capture_default_str();
  cmd->add_option("--hit-for-miss", flags->hit_for_miss,
                  "How long a key whose response could not be stored skips coalescing (0 = never)")
      ->capture_default_str();
  cmd->callback([flags] { g_exit_code = run_serve(*flags); });
}
