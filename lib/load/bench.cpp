#include "load/bench.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "load/origin.h"
#include "load/process.h"

namespace cachefwd::load {

namespace {

std::string size_text(std::uint64_t b) {
  if (b >= (1u << 20) && b % (1u << 20) == 0) return fmt::format("{}MiB", b >> 20);
  if (b >= 1024 && b % 1024 == 0) return fmt::format("{}KiB", b >> 10);
  return fmt::format("{}B", b);
}

std::string describe_workload(const BenchConfig& c, const Workload& w, bool keys) {
  if (!keys) {
    return w.size() == 1 ? w.url(0).url() : fmt::format("{} URLs, zipf {}", w.size(), c.workload.zipf);
  }
  const auto& o = c.workload;
  std::string sizes;
  for (std::size_t i = 0; i < o.sizes.size(); ++i) {
    if (i > 0) sizes.push_back(o.size_range ? '-' : ',');
    sizes.append(size_text(o.sizes[i]));
  }
  std::string s =
      fmt::format("{} keys, {}, size {}, max-age {}", o.keys,
                  o.zipf > 0 ? fmt::format("zipf {}", o.zipf) : std::string("uniform"), sizes, o.max_age);
  if (o.no_store_fraction > 0) s += fmt::format(", no-store {:.0f}%", o.no_store_fraction * 100);
  if (o.error_fraction > 0) s += fmt::format(", 503 {:.0f}%", o.error_fraction * 100);
  if (c.load.head_fraction > 0) s += fmt::format(", HEAD {:.0f}%", c.load.head_fraction * 100);
  return s;
}

std::optional<CounterSnapshot> fetch_counters(const std::string& url) {
  if (url.empty()) return std::nullopt;
  auto body = http_get(url);
  if (!body) return std::nullopt;
  auto snap = parse_counters(*body);
  if (snap.fields.empty()) return std::nullopt;
  return snap;
}

std::string resolve_exe(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : path;
}

// Whether `exe serve --help` mentions `flag`: the demo adapts to the serve it is shipped with.
bool serve_supports(const std::string& exe, const char* flag) {
  const std::string cmd = "'" + exe + "' serve --help 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return false;
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out.find(flag) != std::string::npos;
}

}  // namespace

BenchReport run_bench(const BenchConfig& cfg) {
  BenchReport rep;
  LoadOptions load = cfg.load;
  std::unique_ptr<OriginThread> embedded;
  ChildProcess child;
  std::string admin_url = cfg.admin_url;
  std::string origin_stats_url;
  std::string serve_log;

  const bool no_target = cfg.proxy.empty() && cfg.url.empty() && cfg.urls_file.empty() && cfg.origin.empty();
  std::optional<HostPort> proxy;
  if (!cfg.proxy.empty()) {
    proxy = parse_host_port(cfg.proxy);
    if (!proxy) throw std::runtime_error("--proxy wants HOST:PORT, got " + cfg.proxy);
  }

  // The workload, and the origin it names.
  std::optional<Workload> wl;
  bool keys_workload = false;
  std::string err;
  if (!cfg.urls_file.empty()) {
    wl = Workload::from_url_file(cfg.urls_file, cfg.workload.zipf, &err);
  } else if (!cfg.url.empty() && !cfg.keys_given) {
    wl = Workload::from_urls({cfg.url}, 0, &err);
  } else {
    keys_workload = true;
    HostPort origin;
    if (!cfg.origin.empty()) {
      auto o = parse_host_port(cfg.origin);
      if (!o) throw std::runtime_error("--origin wants HOST:PORT, got " + cfg.origin);
      origin = *o;
    } else if (!cfg.url.empty()) {
      auto u = parse_http_url(cfg.url);
      if (!u) throw std::runtime_error("--url wants http://HOST:PORT/..., got " + cfg.url);
      origin = u->where;
    } else {
      embedded = std::make_unique<OriginThread>();
      origin = HostPort{"127.0.0.1", embedded->start(HostPort{"127.0.0.1", 0})};
    }
    origin_stats_url = fmt::format("http://{}/__origin/stats", origin.authority());
    wl = Workload::from_keys(cfg.workload, origin);
  }
  if (!wl) throw std::runtime_error(err);

  // Where the connections go.
  if (no_target && !cfg.direct) {
    const std::uint16_t port = pick_free_port();
    const std::uint16_t admin = pick_free_port();
    const std::string exe = resolve_exe(cfg.self_exe);
    std::vector<std::string> argv{exe};
    std::vector<std::string> args = cfg.serve_args;
    const bool with_admin = !cfg.serve_args_given && serve_supports(exe, "--admin");
    if (with_admin) {
      args.push_back("--admin");
      args.push_back("127.0.0.1:{admin}");
    }
    for (auto a : args) {
      for (auto [key, val] : {std::pair{"{port}", port}, std::pair{"{admin}", admin}}) {
        if (auto p = a.find(key); p != std::string::npos)
          a.replace(p, std::string_view(key).size(), std::to_string(val));
      }
      argv.push_back(a);
    }
    serve_log = fmt::format("/tmp/cachefwd-bench-serve.{}.log", ::getpid());
    const std::string& log = serve_log;
    const HostPort where{"127.0.0.1", port};
    if (!child.start(argv, log) || !wait_until_listening(where, 5000, &child)) {
      const std::string how = child.running() ? "not listening after 5 s" : child.describe_exit();
      child.terminate(500);
      throw std::runtime_error(fmt::format(
          "could not start the embedded proxy ({}: {}; its output is in {}); use --direct to measure the "
          "embedded origin alone, or --proxy/--url to measure a running server",
          fmt::join(argv, " "), how, log));
    }
    proxy = where;
    if (admin_url.empty() && with_admin)
      admin_url = fmt::format("http://127.0.0.1:{}{}", admin, cfg.serve_admin_path);
    if (load.rss_pid == 0) load.rss_pid = child.pid();
    rep.info.target = fmt::format("embedded cachefwd serve (pid {}) on {}, embedded origin", child.pid(),
                                  where.authority());
  }
  if (cfg.proxy_pid > 0) load.rss_pid = cfg.proxy_pid;
  if (proxy) {
    load.connect_to = *proxy;
    load.absolute_form = true;
    if (rep.info.target.empty()) rep.info.target = "forward proxy " + proxy->authority();
  } else {
    if (!wl->single_authority()) {
      throw std::runtime_error("the URLs name several servers: give --proxy, or split the list per server");
    }
    load.connect_to = wl->url(0).where;
    load.absolute_form = false;
    rep.info.target = (embedded ? "embedded origin " : "server ") + load.connect_to.authority();
  }

  rep.info.model = load.rate > 0 ? "open" : "closed";
  rep.info.connections = load.connections;
  rep.info.pipeline = load.pipeline;
  rep.info.rate = load.rate;
  rep.info.duration_s = load.duration_s;
  rep.info.warmup_s = load.warmup_s;
  rep.info.requests = load.requests;
  rep.info.workload = describe_workload(cfg, *wl, keys_workload);

  std::optional<CounterSnapshot> admin_before, origin_before;
  load.on_measure_start = [&] {
    admin_before = fetch_counters(admin_url);
    origin_before = fetch_counters(origin_stats_url);
  };
  rep.result = run_load(*wl, load);
  const auto admin_after = fetch_counters(admin_url);
  const auto origin_after = fetch_counters(origin_stats_url);
  if (admin_before && admin_after) {
    rep.admin_delta = counter_delta(*admin_before, *admin_after);
    rep.admin_end = admin_after;
  } else if (!cfg.admin_url.empty()) {
    std::fprintf(stderr, "bench: could not read JSON counters from %s\n", cfg.admin_url.c_str());
  }
  if (origin_before && origin_after) rep.origin_delta = counter_delta(*origin_before, *origin_after);

  if (child.pid() > 0) {
    child.terminate();
    ::unlink(serve_log.c_str());  // kept only when the child failed to start
  }
  if (embedded) embedded->stop();
  return rep;
}

}  // namespace cachefwd::load
