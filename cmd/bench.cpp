// `cachefwd bench`: wires flags to lib/load/bench (the engine, the report and the demo mode).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "base/strings.h"
#include "commands.h"
#include "load/bench.h"

namespace {

struct BenchFlags {
  cachefwd::load::BenchConfig cfg;
  std::uint64_t keys = 1000;
  std::string size = "1KiB";
  std::string duration = "10s", warmup = "0", timeout = "10s";
  std::vector<std::string> serve_args;
  std::string json, plot;
  bool no_progress = false;
};

constexpr const char* kFooter = R"(Targets (pick one, or none):
  --proxy HOST:PORT  a forward proxy; requests go in absolute form to the workload's origin
                     (with no --url/--urls/--origin, an origin is embedded in this process)
  --url URL          a server: every request asks for URL (add --keys to generate /obj/<k> on it)
  (none)             demo: an embedded origin and a `cachefwd serve` child on loopback
                     (--direct: the embedded origin alone)
Cache status is read from Cache-Status (RFC 9211) or X-Cache: a value containing "hit" is a hit.
Open model (--rate): latency counts from each request's intended send time (no coordinated
omission); closed model (default): each connection keeps --pipeline requests in flight.
Examples:
  cachefwd bench
  cachefwd bench --proxy 127.0.0.1:3128 --keys 10000 --zipf 1.0 --size 1KiB,16KiB --rate 5000 -d 30s
  cachefwd bench --url 'http://127.0.0.1:9000/obj/1?size=1024' --connections 64 --json out.json)";

double seconds(const std::string& text, const char* flag) {
  const auto ms = cachefwd::parse_duration_ms(text);
  if (!ms || *ms < 0) throw CLI::ValidationError(flag, "not a duration: " + text);
  return static_cast<double>(*ms) / 1000.0;
}

}  // namespace

void register_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto& c = f->cfg;
  auto* cmd =
      app.add_subcommand("bench", "generate HTTP load and report latency, hit ratio and proxy memory");
  cmd->footer(kFooter);
  cmd->add_option("--proxy", c.proxy, "forward proxy HOST:PORT");
  cmd->add_option("--url", c.url, "target URL (http://)");
  cmd->add_option("--urls", c.urls_file, "file with one URL per line");
  cmd->add_option("--origin", c.origin, "HOST:PORT of a `cachefwd origin` for a --keys workload");
  cmd->add_flag("--direct", c.direct, "with no target: measure the embedded origin without a proxy");
  auto* keys = cmd->add_option("--keys", f->keys, "distinct objects /obj/0../obj/N-1")->capture_default_str();
  cmd->add_option("--zipf", c.workload.zipf, "Zipf exponent of key popularity; 0 = uniform")
      ->capture_default_str();
  cmd->add_option("--size", f->size, "body size: 1KiB, a list 1KiB,16KiB or a range 1KiB-1MiB")
      ->capture_default_str();
  cmd->add_option("--max-age", c.workload.max_age, "max-age of cacheable keys (-1: no Cache-Control)")
      ->capture_default_str();
  cmd->add_option("--no-store-fraction", c.workload.no_store_fraction, "fraction of keys answered no-store")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--error-fraction", c.workload.error_fraction, "fraction of keys answered 503")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--head-fraction", c.load.head_fraction, "fraction of requests sent as HEAD")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--query", c.workload.extra_query,
                  "extra query for generated URLs, e.g. etag=1&delay_ms=5");
  cmd->add_option("--seed", c.workload.seed, "workload seed")->capture_default_str();
  cmd->add_option("-c,--connections", c.load.connections, "connections")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--pipeline", c.load.pipeline, "requests in flight per connection")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-R,--rate", c.load.rate, "open model: requests per second (0: closed model)")
      ->capture_default_str();
  auto* duration = cmd->add_option("-d,--duration", f->duration, "measured time")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "load before measuring (not reported)")->capture_default_str();
  cmd->add_option("-n,--requests", c.load.requests, "stop after N measured requests");
  cmd->add_option("--timeout", f->timeout, "request timeout")->capture_default_str();
  cmd->add_option("--json", f->json, "write every figure as JSON to FILE");
  cmd->add_option("--plot", f->plot, "write an SVG plot (latency spectrum, throughput and hit ratio)");
  cmd->add_option("--admin", c.admin_url, "URL of the proxy's JSON counters (hits, misses, entries, bytes)");
  cmd->add_option("--proxy-pid", c.proxy_pid, "sample this process's RSS");
  cmd->add_option("--serve-arg", f->serve_args,
                  "demo mode: the child's arguments, one per flag: --serve-arg=serve --serve-arg=--listen "
                  "--serve-arg=127.0.0.1:{port} ... ({port} and {admin} are substituted)");
  cmd->add_option("--serve-exe", c.self_exe,
                  "demo mode: the cachefwd binary to run `serve` from (default: this one)");
  cmd->add_flag("--no-progress", f->no_progress, "no live line even on a terminal");

  cmd->callback([f, keys, duration] {
    using namespace cachefwd;
    auto& c = f->cfg;
    try {
      c.keys_given = keys->count() > 0;
      c.workload.keys = f->keys;
      if (!load::parse_size_spec(f->size, c.workload))
        throw CLI::ValidationError("--size", "bad size: " + f->size);
      c.load.duration_s = seconds(f->duration, "--duration");
      c.load.warmup_s = seconds(f->warmup, "--warmup");
      c.load.timeout_s = seconds(f->timeout, "--timeout");
      // --requests alone means "this many", not "this many or 10 s, whichever first".
      if (c.load.requests > 0 && duration->count() == 0) c.load.duration_s = 24 * 3600;
      if (!f->serve_args.empty()) {
        c.serve_args = f->serve_args;
        c.serve_args_given = true;
      }
      c.load.progress = !f->no_progress && ::isatty(STDOUT_FILENO);
      std::signal(SIGPIPE, SIG_IGN);  // libuv writes without MSG_NOSIGNAL (style.md §11)

      const load::BenchReport rep = load::run_bench(c);
      std::fputs(load::render_table(rep).c_str(), stdout);
      if (!f->json.empty()) {
        std::ofstream(f->json) << load::render_json(rep);
      }
      if (!f->plot.empty()) {
        std::ofstream(f->plot) << load::render_svg(rep);
      }
      if (rep.result.responses == 0) {
        std::fputs("bench: no responses were received\n", stderr);
        g_exit_code = 1;
      }
    } catch (const CLI::Error&) {
      throw;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench: %s\n", e.what());
      g_exit_code = 1;
    }
  });
}
