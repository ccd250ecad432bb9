// `cachefwd bench`: wires flags to lib/load/bench (the engine, the report and the demo mode).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli.h"
#include "commands.h"
#include "load/bench.h"

namespace {

struct BenchFlags {
  cachefwd::load::BenchConfig cfg;
  std::uint64_t keys = 1000;
  std::string size = "1KiB";
  std::string max_age = "60s";
  std::string duration = "10s", warmup = "0s", timeout = "10s";
  std::string admin;
  std::vector<std::string> serve_args;
  std::string json, plot;
  bool no_progress = false;
  bool quiet = false, verbose = false;
};

constexpr const char* kFooter = R"(Targets (pick one, or none):
  --proxy ADDR:PORT  a forward proxy; requests go in absolute form to the workload's origin
                     (with no --url/--urls/--origin, an origin is embedded in this process)
  --url URL          a server: every request asks for URL (add --keys to generate /obj/<k> on it)
  (none)             demo: an embedded origin and a `cachefwd serve` child on loopback
                     (--direct: the embedded origin alone)
Cache status: Cache-Status (RFC 9211; the member nearest the client decides) or else X-Cache.
Open model (--rate): latency counts from each request's intended send time (no coordinated
omission); closed model (default): each connection keeps --pipeline requests in flight.
DURATION: 30s, 1m30s, 1.5s, 500ms (a bare number is seconds). SIZE: 1KiB, 16MiB, 4096.
Exit status: 0 done, 1 runtime failure (no responses, unreachable target), 2 usage error.
Examples:
  cachefwd bench
  cachefwd bench --proxy 127.0.0.1:3128 --keys 10000 --zipf 1.0 --size 1KiB,16KiB --rate 5000 -d 30s
  cachefwd bench --url 'http://127.0.0.1:9000/obj/1?size=1024' -c 64 --json - --quiet)";

double seconds(const std::string& text) {
  return static_cast<double>(cachefwd::parse_duration_ms(text).value_or(0)) / 1000.0;
}

// --admin takes serve's ADDR:PORT (its /stats is read) or a full URL of any JSON counters.
std::string admin_url(const std::string& admin) {
  if (admin.empty() || admin.find("://") != std::string::npos) return admin;
  return "http://" + admin + "/stats";
}

}  // namespace

void register_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto& c = f->cfg;
  auto* cmd =
      app.add_subcommand("bench", "Generate HTTP load and report latency, hit ratio and proxy memory");
  cmd->footer(kFooter);
  cmd->add_option("--proxy", c.proxy, "Forward proxy to send absolute-form requests through")
      ->type_name("ADDR:PORT");
  cmd->add_option("--url", c.url, "Target URL (http://; host names allowed)")->type_name("URL");
  cmd->add_option("--urls", c.urls_file, "File with one URL per line")->type_name("FILE");
  cmd->add_option("--origin", c.origin, "A `cachefwd origin` to build a --keys workload on")
      ->type_name("ADDR:PORT");
  cmd->add_flag("--direct", c.direct, "With no target: measure the embedded origin without a proxy");
  auto* keys = cmd->add_option("--keys", f->keys, "Distinct objects /obj/0../obj/N-1")
                   ->capture_default_str()
                   ->check(cli::at_least(1));
  cmd->add_option("--zipf", c.workload.zipf, "Zipf exponent of key popularity; 0 = uniform")
      ->capture_default_str()
      ->check(cli::at_least(0));
  cmd->add_option("--size", f->size, "Body size: 1KiB, a list 1KiB,16KiB or a range 1KiB-1MiB")
      ->capture_default_str()
      ->type_name("SIZE[,SIZE..|-SIZE]");
  cmd->add_option("--max-age", f->max_age, "Lifetime (max-age) of cacheable keys; none: no Cache-Control")
      ->capture_default_str()
      ->type_name("DURATION");
  cmd->add_option("--no-store-fraction", c.workload.no_store_fraction, "Fraction of keys answered no-store")
      ->check(CLI::Range(0.0, 1.0).description(""))
      ->type_name("FRACTION");
  cmd->add_option("--error-fraction", c.workload.error_fraction, "Fraction of keys answered 503")
      ->check(CLI::Range(0.0, 1.0).description(""))
      ->type_name("FRACTION");
  cmd->add_option("--head-fraction", c.load.head_fraction, "Fraction of requests sent as HEAD")
      ->check(CLI::Range(0.0, 1.0).description(""))
      ->type_name("FRACTION");
  cmd->add_option("--query", c.workload.extra_query,
                  "Extra query for generated URLs, e.g. etag=1&delay_ms=5");
  cmd->add_option("--seed", c.workload.seed, "Workload seed")->capture_default_str();
  cmd->add_option("-c,--connections", c.load.connections, "Concurrent connections")
      ->capture_default_str()
      ->check(cli::at_least(1));
  cmd->add_option("--pipeline", c.load.pipeline, "Requests in flight per connection")
      ->capture_default_str()
      ->check(cli::at_least(1));
  cmd->add_option("-R,--rate", c.load.rate, "Open model: requests per second (0: closed model)")
      ->capture_default_str()
      ->check(cli::at_least(0));
  auto* duration = cmd->add_option("-d,--duration", f->duration, "Measured time")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "Load before measuring (not reported)")->capture_default_str();
  cmd->add_option("-n,--requests", c.load.requests, "Stop after N measured requests");
  cmd->add_option("--timeout", f->timeout, "Per-request timeout")->capture_default_str();
  cmd->add_option("--json", f->json, "Write every figure as JSON to FILE (- = stdout)")->type_name("FILE");
  cmd->add_option("--plot", f->plot, "Write an SVG plot (latency spectrum, throughput and hit ratio) to FILE")
      ->type_name("FILE");
  cmd->add_option(
         "--admin", f->admin,
         "The proxy's admin API (serve --admin ADDR:PORT; its /stats is read), or a URL of JSON counters")
      ->type_name("ADDR:PORT|URL");
  cmd->add_option("--proxy-pid", c.proxy_pid, "Sample this process's RSS");
  cmd->add_option("--serve-arg", f->serve_args,
                  "Demo mode: the child's arguments, one per flag: --serve-arg=serve --serve-arg=--listen "
                  "--serve-arg=127.0.0.1:{port} ... ({port} and {admin} are substituted)");
  cmd->add_option("--serve-exe", c.self_exe,
                  "Demo mode: the cachefwd binary to run `serve` from (default: this one)")
      ->type_name("FILE");
  cmd->add_flag("--no-progress", f->no_progress, "No live line even on a terminal");
  cmd->add_flag("-q,--quiet", f->quiet, "No table on stdout (with --json or --plot)");
  cmd->add_flag("-v,--verbose", f->verbose, "The live line once a second even when stdout is not a terminal");
  cli::type_options(*cmd, {"--duration", "--warmup", "--timeout"}, cli::duration(), "DURATION");
  cli::type_options(*cmd, {"--proxy", "--origin"}, cli::address(), "ADDR:PORT");
  cli::name_values(*cmd, {{"--query", "QUERY"}, {"--serve-arg", "ARG"}});

  cmd->callback([f, keys, duration] {
    using namespace cachefwd;
    auto& c = f->cfg;
    try {
      if (f->quiet && f->json.empty() && f->plot.empty())
        throw cli::UsageError("--quiet without --json or --plot would print nothing");
      if (f->quiet && f->verbose) throw cli::UsageError("give --quiet or --verbose, not both");
      c.keys_given = keys->count() > 0;
      c.workload.keys = f->keys;
      if (!load::parse_size_spec(f->size, c.workload))
        throw cli::UsageError("--size wants SIZE, a list SIZE,SIZE or a range SIZE-SIZE (got '" + f->size +
                              "')");
      if (f->max_age == "none" || f->max_age == "-1") {
        c.workload.max_age = -1;
      } else {
        const auto ms = parse_duration_ms(f->max_age);
        if (!ms)
          throw cli::UsageError("--max-age wants a duration such as 60s or 1h, or none (got '" + f->max_age +
                                "')");
        c.workload.max_age = *ms / 1000;
      }
      c.admin_url = admin_url(f->admin);
      c.load.duration_s = seconds(f->duration);
      c.load.warmup_s = seconds(f->warmup);
      c.load.timeout_s = seconds(f->timeout);
      if (c.load.duration_s <= 0) throw cli::UsageError("--duration must be more than 0");
      if (c.load.timeout_s <= 0) throw cli::UsageError("--timeout must be more than 0");
      // --requests alone means "this many", not "this many or 10 s, whichever first".
      if (c.load.requests > 0 && duration->count() == 0) c.load.duration_s = 24 * 3600;
      if (!f->serve_args.empty()) {
        c.serve_args = f->serve_args;
        c.serve_args_given = true;
      }
      c.load.progress = !f->no_progress && !f->quiet && (f->verbose || ::isatty(STDOUT_FILENO));
      std::signal(SIGPIPE, SIG_IGN);  // libuv writes without MSG_NOSIGNAL (style.md §11)

      const load::BenchReport rep = load::run_bench(c);
      if (!f->quiet) std::fputs(load::render_table(rep).c_str(), stdout);
      if (!f->json.empty()) cli::write_output(f->json, load::render_json(rep));
      if (!f->plot.empty()) cli::write_output(f->plot, load::render_svg(rep));
      if (rep.result.responses == 0) {
        const auto& r = rep.result;
        const std::string why =
            r.err_connect > 0 ? fmt::format("no responses: could not connect to {} ({} attempts failed)",
                                            rep.info.target, r.err_connect)
                              : fmt::format("no responses were received from {}", rep.info.target);
        std::fprintf(stderr, "cachefwd bench: %s\n", why.c_str());
        g_exit_code = cli::kExitRuntime;
      }
    } catch (const cli::UsageError& e) {
      std::fprintf(stderr, "cachefwd bench: %s\n", e.what());
      g_exit_code = cli::kExitUsage;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cachefwd bench: %s\n", e.what());
      g_exit_code = cli::kExitRuntime;
    }
  });
}
