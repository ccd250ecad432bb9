// `cachefwd serve`: flags → ProxyConfig → Server on a libuv loop.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "base/strings.h"
#include "cli.h"
#include "commands.h"
#include "proxy/admin_server.h"
#include "proxy/config_file.h"
#include "proxy/server.h"
#include "rules/rule.h"
#include "metrics/access_log.h"
#include <arpa/inet.h>
#include <array>

namespace {

struct ServeFlags {
  std::vector<std::string> listen{"127.0.0.1:3128"};
  std::string upstream;
  std::string ttl = "0";
  std::string max_bytes = "256MiB";
  std::uint64_t max_entries = 0;
  std::string max_object_size = "16MiB";
  std::string policy = "s3fifo";
  std::string allow = "127.0.0.0/8,::1";
  std::string connect_ports = "443";
  std::string tunnel_idle_timeout = "5m";
  std::string connect_timeout = "5s";
  std::string upstream_timeout = "30s";
  std::string max_upstream_header_size = "64KiB";
  std::string upstream_ca;
  bool upstream_insecure = false;
  std::string upstream_cert;
  std::string upstream_key;
  std::string upstream_sni;
  std::string upstream_http2 = "auto";
  std::string client_timeout = "60s";
  std::string header_timeout = "10s";
  std::string body_timeout = "30s";
  std::uint64_t max_connections = 4096;
  std::uint64_t max_connections_per_client = 1024;
  std::string max_header_size = "64KiB";
  std::string max_body_size = "64MiB";
  bool no_cache = false;
  std::string stale_if_error = "0";
  bool no_coalesce = false;
  std::string coalesce_timeout = "5s";
  std::string hit_for_miss = "30s";
  std::string drain_timeout = "10s";
  bool dump_config = false;
  bool help_rules = false;
  std::string config;
  std::string ttl_mode = "respect";
  std::string min_ttl = "0";
  std::string max_ttl = "0";
  bool heuristic = false;
  std::string cache_status;
  std::string cache_methods = "GET,HEAD";
  std::string key_query = "all";
  std::string key_ignore_query;
  std::string key_headers;
  std::string key_cookies;
  bool cache_set_cookie = false;
  std::vector<std::string> rules;
  std::string access_log;
  std::string log_format = "combined";
  std::string admin;
  std::string admin_token;
  std::string admin_token_file;
  std::string allow_purge;
  std::string allow_dest;
  std::string deny_dest;
  bool quiet = false;
  bool verbose = false;
};

// argv as given, for re-reading the configuration on SIGHUP with the same overrides.
std::vector<std::string> g_serve_argv;

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& msg) { throw ConfigError(msg); }

std::int64_t duration_flag(const char* name, const std::string& v) {
  auto ms = cachefwd::parse_duration_ms(v);
  if (!ms) fail(fmt::format("{} wants a duration such as 30s, 1m30s, 1.5s or 500ms (got '{}')", name, v));
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
    auto a = proxy::parse_listen_address(cli::resolve_listen_address(l));
    if (!a) fail(fmt::format("--listen wants ADDR:PORT, e.g. 127.0.0.1:3128 or [::1]:3128 (got '{}')", l));
    c.listen.push_back(*a);
  }
  if (!f.upstream.empty()) {
    http::TargetUri u;
    if (!http::parse_absolute_target(f.upstream, u))
      fail(
          fmt::format("--upstream wants an http or https URL such as http://127.0.0.1:8080 or "
                      "https://api.internal:8443/prefix (got '{}')",
                      f.upstream));
    c.upstream = u;
  }
  auto& tls = c.upstream_options.tls;
  tls.ca = f.upstream_ca;
  tls.insecure = f.upstream_insecure;
  tls.cert = f.upstream_cert;
  tls.key = f.upstream_key;
  tls.sni = f.upstream_sni;
  auto readable = [](const std::string& flag, const std::string& path) {
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
      fail(fmt::format("{}: cannot read '{}'", flag, path));
  };
  readable("--upstream-ca", tls.ca);
  readable("--upstream-cert", tls.cert);
  readable("--upstream-key", tls.key);
  if (!tls.key.empty() && tls.cert.empty()) fail("--upstream-key needs --upstream-cert");
  if (!tls.sni.empty()) {
    if (!c.upstream || c.upstream->scheme != "https") fail("--upstream-sni needs an https --upstream");
    tls.sni_for_host = c.upstream->host;
    tls.sni_for_port = c.upstream->port;
  }
  if (f.upstream_http2 == "auto")
    c.upstream_options.http2 = upstream::Http2Mode::automatic;
  else if (f.upstream_http2 == "on")
    c.upstream_options.http2 = upstream::Http2Mode::on;
  else if (f.upstream_http2 == "off")
    c.upstream_options.http2 = upstream::Http2Mode::off;
  else
    fail(fmt::format("--upstream-http2 wants auto, on or off (got '{}')", f.upstream_http2));
  duration_flag("--ttl", f.ttl);
  c.store_limits.max_bytes = size_flag("--max-bytes", f.max_bytes);
  if (c.store_limits.max_bytes == 0 && !f.no_cache)
    fail("--max-bytes 0 leaves no room to store anything: give a size such as 256MiB, or --no-cache");
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
  c.tunnel_idle_timeout_ms = duration_flag("--tunnel-idle-timeout", f.tunnel_idle_timeout);
  if (c.tunnel_idle_timeout_ms <= 0) fail("--tunnel-idle-timeout must be greater than zero");
  c.upstream_options.connect_timeout_ms = duration_flag("--connect-timeout", f.connect_timeout);
  c.upstream_options.idle_timeout_ms = duration_flag("--upstream-timeout", f.upstream_timeout);
  c.upstream_options.max_header_bytes = size_flag("--max-upstream-header-size", f.max_upstream_header_size);
  if (c.upstream_options.max_header_bytes < 1024) fail("--max-upstream-header-size must be at least 1KiB");
  c.read_timeouts.idle_ms = duration_flag("--client-timeout", f.client_timeout);
  c.read_timeouts.head_ms = duration_flag("--header-timeout", f.header_timeout);
  c.read_timeouts.body_idle_ms = duration_flag("--body-timeout", f.body_timeout);
  if (c.upstream_options.connect_timeout_ms <= 0 || c.upstream_options.idle_timeout_ms <= 0 ||
      c.read_timeouts.idle_ms <= 0 || c.read_timeouts.head_ms <= 0 || c.read_timeouts.body_idle_ms <= 0)
    fail("timeouts must be greater than zero");
  if (f.max_connections == 0 || f.max_connections_per_client == 0)
    fail("--max-connections and --max-connections-per-client must be at least 1");
  c.max_connections = f.max_connections;
  c.max_connections_per_client = f.max_connections_per_client;
  c.parser.max_header_bytes = size_flag("--max-header-size", f.max_header_size);
  c.parser.max_body_bytes = size_flag("--max-body-size", f.max_body_size);
  c.cache_enabled = !f.no_cache;
  // The global cache flags are the default rule: build it with the rule parser, so flags and
  // --rule options share one meaning and one validation.
  auto list = [](std::string v, char sep) {
    for (auto& ch : v)
      if (ch == ',') ch = sep;
    return v;
  };
  std::string spec = fmt::format(
      "ttl={},ttl-mode={},min-ttl={},max-ttl={},heuristic={},stale-if-error={},key-query={},cache-methods={},"
      "set-cookie={},cache-status={},key-ignore-query={},key-headers={},key-cookies={}",
      f.ttl, f.ttl_mode, f.min_ttl, f.max_ttl, f.heuristic ? "on" : "off", f.stale_if_error, f.key_query,
      list(f.cache_methods, '|'), f.cache_set_cookie ? "store" : "no-store", list(f.cache_status, ';'),
      list(f.key_ignore_query, '|'), list(f.key_headers, '|'), list(f.key_cookies, '|'));
  std::string err;
  auto def = rules::parse_rule(spec, rules::Rule{}, &err);
  if (!def) fail("--" + err);
  def->cache_enabled = !f.no_cache;
  auto set = std::make_shared<rules::RuleSet>(*def);
  for (auto& r : f.rules) {
    auto rule = rules::parse_rule(r, *def, &err);
    if (!rule) fail(fmt::format("--rule '{}': {}", r, err));
    try {
      set->add(std::move(*rule));
    } catch (const std::exception& e) {
      fail(fmt::format("--rule '{}': {}", r, e.what()));
    }
  }
  c.policy = def->policy;
  c.rules = std::move(set);

  c.access_log = f.access_log;
  auto lf = metrics::parse_access_log_format(f.log_format);
  if (!lf) fail(fmt::format("--log-format wants combined or json (got '{}')", f.log_format));
  c.access_log_format = *lf;
  auto purge = parse_cidr_list(f.allow_purge, &bad);
  if (!purge) fail(fmt::format("--allow-purge: '{}' is not an address or CIDR range", bad));
  c.allow_purge = *purge;
  // Destination lists mix host globs and CIDR ranges.
  auto dest_list = [&](const std::string& v, const char* flag, std::vector<std::string>& hosts, std::vector<Cidr>& cidrs) {
    size_t start = 0;
    while (start <= v.size()) {
      auto comma = v.find(',', start);
      auto item = trim_ows(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!item.empty()) {
        if (auto cidr = Cidr::parse(item)) cidrs.push_back(*cidr);
        else if (item.find('/') != std::string_view::npos) fail(fmt::format("{}: '{}' is not a CIDR range", flag, item));
        else hosts.push_back(to_lower(item));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  };
  dest_list(f.allow_dest, "--allow-dest", c.allow_dest_hosts, c.allow_dest_cidrs);
  dest_list(f.deny_dest, "--deny-dest", c.deny_dest_hosts, c.deny_dest_cidrs);
  if (!f.admin.empty()) {
    auto a = proxy::parse_listen_address(cli::resolve_listen_address(f.admin));
    if (!a) fail(fmt::format("--admin wants ADDR:PORT (got '{}')", f.admin));
    c.admin = *a;
    c.admin_token = f.admin_token;
    if (!f.admin_token_file.empty()) {
      std::FILE* tf = std::fopen(f.admin_token_file.c_str(), "r");
      if (!tf) fail(fmt::format("--admin-token-file: cannot read {}", f.admin_token_file));
      char buf[512];
      std::size_t n = std::fread(buf, 1, sizeof(buf), tf);
      std::fclose(tf);
      c.admin_token = std::string(trim_ows(std::string_view(buf, n)));
      while (!c.admin_token.empty() && (c.admin_token.back() == '\n' || c.admin_token.back() == '\r')) c.admin_token.pop_back();
    }
    auto loopback = parse_cidr_list("127.0.0.0/8,::1");
    std::array<std::uint8_t, 16> addr{};
    bool is_loopback = false;
    if (inet_pton(AF_INET, a->host.c_str(), addr.data()) == 1) is_loopback = any_contains(*loopback, addr.data(), 4);
    else if (inet_pton(AF_INET6, a->host.c_str(), addr.data()) == 1) is_loopback = any_contains(*loopback, addr.data(), 16);
    // An admin API that can purge everything must not be open to the network without a token.
    if (!is_loopback && c.admin_token.empty())
      fail(fmt::format("--admin {} is not a loopback address: give --admin-token or --admin-token-file", f.admin));
  }
  duration_flag("--stale-if-error", f.stale_if_error);
  c.coalesce = !f.no_coalesce;
  c.coalesce_timeout_ms = duration_flag("--coalesce-timeout", f.coalesce_timeout);
  c.hit_for_miss_ms = duration_flag("--hit-for-miss", f.hit_for_miss);
  c.drain_timeout_ms = duration_flag("--drain-timeout", f.drain_timeout);
  // Loop detection looks for our own Via entry: make it this instance's, so that a chain of two
  // cachefwd proxies (a forward proxy in front of a gateway) is not mistaken for a loop.
  std::random_device rd;
  c.via_name = fmt::format("cachefwd-{:06x}", rd() & 0xffffff);
  return c;
}

void add_serve_options(CLI::App* cmd, ServeFlags* flags);

// The effective settings as a config file that --config reads back.
std::string dump_effective(const ServeFlags& f) {
  auto q = [](const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string listen;
  for (auto& l : f.listen) listen += (listen.empty() ? "" : ", ") + q(l);
  std::string out;
  out += fmt::format("listen = [{}]\n", listen);
  out += fmt::format("upstream = {}\n", q(f.upstream));
  out += fmt::format("ttl = {}\n", q(f.ttl));
  out += fmt::format("max-bytes = {}\n", q(f.max_bytes));
  out += fmt::format("max-entries = {}\n", f.max_entries);
  out += fmt::format("max-object-size = {}\n", q(f.max_object_size));
  out += fmt::format("policy = {}\n", q(f.policy));
  out += fmt::format("allow = {}\n", q(f.allow));
  out += fmt::format("connect-ports = {}\n", q(f.connect_ports));
  out += fmt::format("tunnel-idle-timeout = {}\n", q(f.tunnel_idle_timeout));
  out += fmt::format("connect-timeout = {}\n", q(f.connect_timeout));
  out += fmt::format("upstream-timeout = {}\n", q(f.upstream_timeout));
  out += fmt::format("max-upstream-header-size = {}\n", q(f.max_upstream_header_size));
  out += fmt::format("upstream-ca = {}\n", q(f.upstream_ca));
  out += fmt::format("upstream-insecure = {}\n", f.upstream_insecure);
  out += fmt::format("upstream-cert = {}\n", q(f.upstream_cert));
  out += fmt::format("upstream-key = {}\n", q(f.upstream_key));
  out += fmt::format("upstream-sni = {}\n", q(f.upstream_sni));
  out += fmt::format("upstream-http2 = {}\n", q(f.upstream_http2));
  out += fmt::format("client-timeout = {}\n", q(f.client_timeout));
  out += fmt::format("header-timeout = {}\n", q(f.header_timeout));
  out += fmt::format("body-timeout = {}\n", q(f.body_timeout));
  out += fmt::format("max-connections = {}\n", f.max_connections);
  out += fmt::format("max-connections-per-client = {}\n", f.max_connections_per_client);
  out += fmt::format("max-header-size = {}\n", q(f.max_header_size));
  out += fmt::format("max-body-size = {}\n", q(f.max_body_size));
  out += fmt::format("no-cache = {}\n", f.no_cache);
  out += fmt::format("stale-if-error = {}\n", q(f.stale_if_error));
  out += fmt::format("no-coalesce = {}\n", f.no_coalesce);
  out += fmt::format("coalesce-timeout = {}\n", q(f.coalesce_timeout));
  out += fmt::format("hit-for-miss = {}\n", q(f.hit_for_miss));
  out += fmt::format("drain-timeout = {}\n", q(f.drain_timeout));
  out += fmt::format("ttl-mode = {}\n", q(f.ttl_mode));
  out += fmt::format("min-ttl = {}\n", q(f.min_ttl));
  out += fmt::format("max-ttl = {}\n", q(f.max_ttl));
  out += fmt::format("heuristic = {}\n", f.heuristic);
  out += fmt::format("cache-status = {}\n", q(f.cache_status));
  out += fmt::format("cache-methods = {}\n", q(f.cache_methods));
  out += fmt::format("key-query = {}\n", q(f.key_query));
  out += fmt::format("key-ignore-query = {}\n", q(f.key_ignore_query));
  out += fmt::format("key-headers = {}\n", q(f.key_headers));
  out += fmt::format("key-cookies = {}\n", q(f.key_cookies));
  out += fmt::format("cache-set-cookie = {}\n", f.cache_set_cookie);
  std::string rules;
  for (auto& r : f.rules) rules += (rules.empty() ? "" : ", ") + q(r);
  out += fmt::format("rule = [{}]\n", rules);
  out += fmt::format("access-log = {}\n", q(f.access_log));
  out += fmt::format("log-format = {}\n", q(f.log_format));
  out += fmt::format("admin = {}\n", q(f.admin));
  out += fmt::format("admin-token-file = {}\n", q(f.admin_token_file));
  out += fmt::format("allow-purge = {}\n", q(f.allow_purge));
  out += fmt::format("allow-dest = {}\n", q(f.allow_dest));
  out += fmt::format("deny-dest = {}\n", q(f.deny_dest));
  return out;
}

// The flags from the config file (if --config names one) with the command line over them: an option
// given on the command line wins over the file. CLI11 2.1 does not read config files for
// subcommands, so the file's items become arguments placed before the command line's.
ServeFlags load_flags(const std::vector<std::string>& argv) {
  auto parse = [](std::vector<std::string> args, ServeFlags& out, CLI::App& app) {
    add_serve_options(&app, &out);
    std::reverse(args.begin(), args.end());
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      throw ConfigError(e.what());
    }
  };
  CLI::App first;
  ServeFlags flags;
  parse(argv, flags, first);
  if (flags.config.empty()) return flags;
  std::vector<cachefwd::proxy::ConfigSetting> items;
  try {
    items = cachefwd::proxy::read_config_file(flags.config);
  } catch (const cachefwd::proxy::ConfigFileError& e) {
    throw ConfigError(fmt::format("--config {}", e.what()));
  }
  std::vector<std::string> args;
  for (auto& item : items) {
    if (item.name == "config" || item.name == "dump-config" || item.name == "help-rules") continue;
    auto* opt = first.get_option_no_throw("--" + item.name);
    if (!opt)
      throw ConfigError(fmt::format("--config {}:{}: unknown setting '{}'", flags.config, item.line, item.name));
    if (opt->count() > 0) continue;  // given on the command line: that wins
    if (item.is_bool || item.name == "no-cache" || item.name == "no-coalesce" || item.name == "heuristic" ||
        item.name == "cache-set-cookie" || item.name == "upstream-insecure") {  // flags: on when true
      if (item.values.size() == 1 && (item.values[0] == "true" || item.values[0] == "1")) args.push_back("--" + item.name);
      continue;
    }
    for (auto& v : item.values) {
      // `admin = ""` is how --dump-config writes a setting left unset; passed on, the flag's own
      // check would refuse it (an empty ADDR:PORT), so the dump would not read back.
      if (v.empty() && opt->get_default_str().empty()) continue;
      args.push_back("--" + item.name);
      args.push_back(v);
    }
  }
  args.insert(args.end(), argv.begin(), argv.end());
  CLI::App second;
  ServeFlags merged;
  parse(args, merged, second);
  return merged;
}

// Re-reads the configuration as at startup (the config file, then the command line over it).
cachefwd::proxy::ProxyConfig reload_config() { return build_config(load_flags(g_serve_argv)); }

// Runs the loop until every handle is closed, or for at most `budget_ms`: what is still pending
// then (a lookup in the threadpool) is not worth waiting for. True when the loop is done.
bool run_closing_loop(uv_loop_t* loop, std::uint64_t budget_ms) {
  struct Deadline {
    uv_timer_t timer{};
    bool expired = false;
  } d;
  uv_timer_init(loop, &d.timer);
  d.timer.data = &d;
  uv_timer_start(
      &d.timer, [](uv_timer_t* t) { static_cast<Deadline*>(t->data)->expired = true; }, budget_ms, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.timer));
  while (uv_run(loop, UV_RUN_ONCE) != 0 && !d.expired) {
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&d.timer), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return !uv_loop_alive(loop);
}

int run_serve(const ServeFlags& flags) {
  using namespace cachefwd;
  proxy::ProxyConfig config;
  try {
    config = build_config(flags);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "cachefwd serve: %s\n", e.what());
    return 2;
  }
  std::int64_t drain_ms = config.drain_timeout_ms;
  // libuv writes without MSG_NOSIGNAL: a client reset must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 0;
  {
    proxy::Server server(&loop, config);
    std::unique_ptr<proxy::AdminServer> admin;
    std::optional<std::string> err = server.start();
    if (!err && config.admin) {
      admin = std::make_unique<proxy::AdminServer>(server, *config.admin, config.admin_token);
      err = admin->start();
      if (!err && !flags.quiet) std::fprintf(stderr, "cachefwd: admin API on %s:%u%s\n", config.admin->host.c_str(), admin->port(),
                             config.admin_token.empty() ? "" : " (token required)");
    }
    if (err) {
      std::fprintf(stderr, "cachefwd serve: %s\n", err->c_str());
      rc = 1;
    } else {
      if (flags.verbose) std::fprintf(stderr, "cachefwd: effective configuration:\n%s", dump_effective(flags).c_str());
      std::string where;
      auto ports = server.bound_ports();
      for (size_t i = 0; i < config.listen.size(); ++i) {
        bool v6 = config.listen[i].host.find(':') != std::string::npos;
        where += fmt::format("{}{}{}{}:{}", i ? ", " : "", v6 ? "[" : "", config.listen[i].host, v6 ? "]" : "",
                             i < ports.size() ? ports[i] : config.listen[i].port);
      }
      // Said even with --quiet: running without certificate checks must never go unnoticed.
      if (config.upstream_options.tls.insecure)
        std::fprintf(
            stderr,
            "cachefwd: WARNING: --upstream-insecure: https upstream certificates and host names are NOT "
            "verified; anyone on the path can impersonate them\n");
      if (!flags.quiet)
        std::fprintf(
            stderr, "cachefwd: listening on %s (%s), cache %s, default ttl %llds\n", where.c_str(),
            config.upstream                    ? fmt::format("gateway to {}", config.upstream->url()).c_str()
            : config.rules->routes_upstreams() ? "gateway to the rules' upstreams"
                                               : "forward proxy",
            config.cache_enabled
                ? fmt::format("{} bytes {}", config.store_limits.max_bytes, config.eviction_policy).c_str()
                : "off",
            static_cast<long long>(config.policy.default_ttl_ms / 1000));
      struct SignalContext {
        proxy::Server* server;
        std::int64_t drain_ms;
        proxy::AdminServer* admin;
      } ctx{&server, drain_ms, admin.get()};
      uv_signal_t sigint, sigterm, sighup;
      uv_signal_init(&loop, &sigint);
      uv_signal_init(&loop, &sigterm);
      uv_signal_init(&loop, &sighup);
      sigint.data = sigterm.data = sighup.data = &ctx;
      auto on_stop = [](uv_signal_t* s, int signum) {
        auto* c = static_cast<SignalContext*>(s->data);
        std::fprintf(stderr, "cachefwd: signal %d: draining (at most %lld ms), then exiting\n", signum,
                     static_cast<long long>(c->drain_ms));
        if (c->admin) c->admin->stop();
        c->server->drain(c->drain_ms);
        uv_walk(s->loop, [](uv_handle_t* h, void*) {
          if (h->type == UV_SIGNAL && !uv_is_closing(h)) uv_close(h, nullptr);
        }, nullptr);
      };
      auto on_hup = [](uv_signal_t* s, int) {
        auto* c = static_cast<SignalContext*>(s->data);
        try {
          c->server->reload(reload_config());
          c->server->reopen_logs();
          std::fprintf(stderr, "cachefwd: SIGHUP: configuration reloaded (cache kept)\n");
        } catch (const std::exception& e) {
          c->server->reopen_logs();
          std::fprintf(stderr, "cachefwd: SIGHUP: configuration not reloaded, keeping the old one: %s\n", e.what());
        }
      };
      uv_signal_start(&sigint, on_stop, SIGINT);
      uv_signal_start(&sigterm, on_stop, SIGTERM);
      uv_signal_start(&sighup, on_hup, SIGHUP);
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (admin) admin->stop();
    server.stop();
    run_closing_loop(&loop, 250);
  }
  if (!run_closing_loop(&loop, 50)) {
    // A name lookup still blocks a libuv worker thread, and libuv joins its threads at exit:
    // leave now rather than outlive --drain-timeout by the resolver's own timeout.
    std::fflush(nullptr);
    _exit(rc);
  }
  uv_loop_close(&loop);
  return rc;
}

void add_serve_options(CLI::App* cmd, ServeFlags* flags) {
  cmd->add_option("--config", flags->config,
                  "Read settings from this TOML file (key = flag name without dashes, e.g. ttl = \"60s\", "
                  "listen = [\"127.0.0.1:3128\"]); the command line overrides it; re-read on SIGHUP");
  cmd->add_option("--listen", flags->listen, "Address to accept clients on, ADDR:PORT or [IPv6]:PORT; repeatable")
      ->capture_default_str();
  cmd->add_option(
      "--upstream", flags->upstream,
      "Gateway mode: send origin-form requests (GET /path) to this http or https URL; its path is "
      "a prefix");
  cmd->add_option("--ttl", flags->ttl,
                  "Freshness lifetime for responses that carry none of their own (no max-age, s-maxage or "
                  "Expires): applies to otherwise storable 200, 203, 204, 300, 301 and 308 responses; never "
                  "overrides an origin's own lifetime and never makes no-store, private or authenticated "
                  "responses storable. 0 = such responses are not stored")
      ->capture_default_str();
  cmd->add_option("--max-bytes,--cache-size", flags->max_bytes,
                  "Memory for stored responses, counting keys, headers and bodies; the --policy evicts beyond it")
      ->capture_default_str();
  cmd->add_option("--max-entries", flags->max_entries, "Most stored responses (0 = no limit)")->capture_default_str();
  cmd->add_option("--max-object-size", flags->max_object_size,
                  "Largest response body stored; bigger ones are streamed to the client uncached, never cut")
      ->capture_default_str();
  cmd->add_option("--policy", flags->policy,
                  "Eviction policy: s3fifo (lowest miss ratio on small caches in our traces; does not admit an "
                  "object of 10% of --max-bytes or more), lru, sieve (often better on large caches), fifo, "
                  "s3fifo-warm")
      ->capture_default_str();
  cmd->add_option("--allow", flags->allow, "Client addresses (CIDR list) the proxy serves; others get 403")
      ->capture_default_str();
  cmd->add_option("--connect-ports", flags->connect_ports, "Ports CONNECT may tunnel to (comma list)")
      ->capture_default_str();
  cmd->add_option("--tunnel-idle-timeout", flags->tunnel_idle_timeout,
                  "A CONNECT tunnel with no byte in either direction for this long is closed")
      ->capture_default_str();
  cmd->add_option("--connect-timeout", flags->connect_timeout, "Upstream connect timeout (502/504 after it)")
      ->capture_default_str();
  cmd->add_option("--upstream-timeout", flags->upstream_timeout,
                  "Upstream idle timeout: no byte for this long answers 504 (or cuts a started body)")
      ->capture_default_str();
  cmd->add_option("--max-upstream-header-size", flags->max_upstream_header_size,
                  "Largest upstream response head, 1xx heads and trailers included (502 beyond)")
      ->capture_default_str();
  cmd->add_option(
      "--upstream-ca", flags->upstream_ca,
      "CA bundle FILE or hashed DIR that https upstreams' certificates must chain to (default: the "
      "system store)");
  cmd->add_flag(
      "--upstream-insecure", flags->upstream_insecure,
      "Do not verify https upstreams' certificates or host names at all (logged loudly at startup)");
  cmd->add_option("--upstream-cert", flags->upstream_cert,
                  "Client certificate (PEM) presented to https upstreams that ask for one (mutual TLS)");
  cmd->add_option("--upstream-key", flags->upstream_key, "Private key (PEM) of --upstream-cert");
  cmd->add_option(
      "--upstream-sni", flags->upstream_sni,
      "Server name sent to the https --upstream (SNI) and checked against its certificate, instead "
      "of the URL's host");
  cmd->add_option(
         "--upstream-http2", flags->upstream_http2,
         "HTTP/2 to upstreams: auto (offered by ALPN on https), on (also prior knowledge on http://), "
         "off (HTTP/1.1 only)")
      ->capture_default_str();
  cmd->add_option("--client-timeout", flags->client_timeout,
                  "Idle keep-alive timeout: a client connection with no request under way closes after it")
      ->capture_default_str();
  cmd->add_option("--header-timeout", flags->header_timeout,
                  "A whole request head must arrive within this long of its first byte (408 after); bytes "
                  "trickling in do not extend it")
      ->capture_default_str();
  cmd->add_option("--body-timeout", flags->body_timeout,
                  "Request body idle timeout: no body byte for this long answers 408 and closes")
      ->capture_default_str();
  cmd->add_option("--max-connections", flags->max_connections,
                  "Client connections open at once; beyond it a new connection is answered 503 and closed")
      ->capture_default_str();
  cmd->add_option("--max-connections-per-client", flags->max_connections_per_client,
                  "Client connections open at once from one client address; beyond it 503 and close")
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
  cmd->add_option("--ttl-mode", flags->ttl_mode,
                  "respect: the origin's lifetime wins and --ttl only fills in; override: every storable "
                  "response lives --ttl whatever the origin said (no-store/private still win); clamp: the "
                  "lifetime is clamped into [--min-ttl, --max-ttl]")
      ->capture_default_str();
  cmd->add_option("--min-ttl", flags->min_ttl, "Lower bound of the lifetime with --ttl-mode clamp")->capture_default_str();
  cmd->add_option("--max-ttl", flags->max_ttl, "Upper bound of the lifetime with --ttl-mode clamp (0 = none)")
      ->capture_default_str();
  cmd->add_flag("--heuristic", flags->heuristic,
                "Give responses with Last-Modified and no explicit lifetime 10% of their age (RFC 9111 §4.2.2)");
  cmd->add_option("--cache-status", flags->cache_status,
                  "Store these statuses for exactly this long, e.g. 404=30s,500=5s,502=5s (negative caching; "
                  "keep error TTLs short: a cached outage hides recovery)");
  cmd->add_option("--cache-methods", flags->cache_methods,
                  "Methods whose responses may be stored; POST is keyed on a SHA-256 of the request body")
      ->capture_default_str();
  cmd->add_option("--key-query", flags->key_query, "Query string in the cache key: all (as sent), sorted, none")
      ->capture_default_str();
  cmd->add_option("--key-ignore-query", flags->key_ignore_query,
                  "Query parameters left out of the key, globs, e.g. 'utm_*,fbclid'");
  cmd->add_option("--key-headers", flags->key_headers, "Request headers whose values become part of the key");
  cmd->add_option("--key-cookies", flags->key_cookies, "Cookies whose values become part of the key");
  cmd->add_flag("--cache-set-cookie", flags->cache_set_cookie,
                "Store responses that carry Set-Cookie (off: one user's cookie must never reach another)");
  cmd->add_option("--rule", flags->rules,
                  "A per-route policy, repeatable, first match wins; 'cachefwd serve --help-rules' lists the "
                  "options, e.g. name=users,host=api.example.com,path=/v1/users/*,ttl=30s,max-entries=100");
  cmd->add_option("--access-log", flags->access_log, "Write one line per response to FILE (- = stdout); reopened on SIGHUP");
  cmd->add_option("--log-format", flags->log_format,
                  "combined (Apache/nginx combined plus cache=STATUS upstream_ms=N) or json")
      ->capture_default_str();
  cmd->add_option("--admin", flags->admin,
                  "Admin API listener ADDR:PORT: GET /stats, GET /metrics, POST /purge?url=|prefix=|tag=|partition=|all=1 "
                  "(off unless given)");
  cmd->add_option("--admin-token", flags->admin_token, "Bearer token the admin API requires (required off loopback)");
  cmd->add_option("--admin-token-file", flags->admin_token_file, "Read the admin token from this file");
  cmd->add_option("--allow-purge", flags->allow_purge,
                  "Clients (CIDR list) allowed to send PURGE to the proxy port, besides loopback; others get 403");
  cmd->add_option("--allow-dest", flags->allow_dest,
                  "Destinations the proxy may reach: host globs and CIDR ranges (checked on the resolved address); "
                  "when given, everything else gets 403");
  cmd->add_option("--deny-dest", flags->deny_dest,
                  "Destinations refused with 403: host globs and CIDR ranges, e.g. '10.0.0.0/8,169.254.0.0/16,*.internal'");
  cmd->add_option("--drain-timeout", flags->drain_timeout,
                  "On SIGTERM/SIGINT: stop accepting, let in-flight requests finish for at most this long, exit 0")
      ->capture_default_str();
  cmd->add_flag("--dump-config", flags->dump_config, "Print the effective configuration (TOML) and exit");
  cmd->add_flag("--help-rules", flags->help_rules, "Print the --rule syntax and exit");
  cmd->add_flag("-q,--quiet", flags->quiet, "No startup lines on stderr (errors still go there)");
  cmd->add_flag("-v,--verbose", flags->verbose, "Print the effective configuration on stderr at startup");
  cli::type_options(*cmd,
                    {"--ttl", "--connect-timeout", "--upstream-timeout", "--client-timeout", "--stale-if-error",
                     "--coalesce-timeout", "--hit-for-miss", "--min-ttl", "--max-ttl", "--drain-timeout",
                     "--tunnel-idle-timeout", "--header-timeout", "--body-timeout"},
                    cli::duration(), "DURATION");
  cli::type_options(*cmd,
                    {"--max-bytes", "--max-object-size", "--max-header-size", "--max-body-size",
                     "--max-upstream-header-size"},
                    cli::size(), "SIZE");
  cli::type_options(*cmd, {"--listen", "--admin"}, cli::address(), "ADDR:PORT");
  cli::name_values(*cmd, {{"--config", "FILE"},
                          {"--access-log", "FILE"},
                          {"--admin-token-file", "FILE"},
                          {"--upstream", "URL"},
                          {"--upstream-ca", "FILE|DIR"},
                          {"--upstream-cert", "FILE"},
                          {"--upstream-key", "FILE"},
                          {"--upstream-sni", "NAME"},
                          {"--upstream-http2", "auto|on|off"},
                          {"--allow", "CIDR[,CIDR..]"},
                          {"--allow-purge", "CIDR[,CIDR..]"},
                          {"--allow-dest", "HOST|CIDR[,..]"},
                          {"--deny-dest", "HOST|CIDR[,..]"},
                          {"--connect-ports", "PORT[,PORT..]"},
                          {"--policy", "POLICY"},
                          {"--ttl-mode", "respect|override|clamp"},
                          {"--cache-status", "STATUS=DURATION[,..]"},
                          {"--cache-methods", "METHOD[,METHOD..]"},
                          {"--key-query", "all|sorted|none"},
                          {"--key-ignore-query", "GLOB[,GLOB..]"},
                          {"--key-headers", "NAME[,NAME..]"},
                          {"--key-cookies", "NAME[,NAME..]"},
                          {"--rule", "RULE"},
                          {"--log-format", "combined|json"},
                          {"--admin-token", "TOKEN"}});
}

}  // namespace

void register_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the caching HTTP proxy (forward proxy, or gateway with --upstream)");
  add_serve_options(cmd, flags.get());
  // The callback keeps `flags` alive: CLI11 writes into it while parsing.
  cmd->callback([flags] {
    for (size_t i = 0; i < g_argv.size(); ++i) {
      if (g_argv[i] == "serve") {
        g_serve_argv.assign(g_argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, g_argv.end());
        break;
      }
    }
    if (flags->help_rules) {
      std::fputs(std::string(cachefwd::rules::kRuleSyntax).c_str(), stdout);
      return;
    }
    ServeFlags effective;
    try {
      effective = load_flags(g_serve_argv);
      if (effective.dump_config) {
        build_config(effective);  // validate before printing
        CLI::App app;
        ServeFlags shown = effective;
        add_serve_options(&app, &shown);
        std::vector<std::string> args(g_serve_argv.rbegin(), g_serve_argv.rend());
        std::string out = dump_effective(effective);
        std::fputs(out.c_str(), stdout);
        return;
      }
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "cachefwd serve: %s\n", e.what());
      g_exit_code = 2;
      return;
    }
    g_exit_code = run_serve(effective);
  });
}
