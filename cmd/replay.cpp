// `cachefwd replay`: replay a capture live through a proxy (FILE --proxy/--url/--origin), or
// simulate it offline (--simulate FILE): a request trace (sizes only) through the real cache store
// with each eviction policy and cache size (plus Belady's bound), or a HAR / access log through the
// RFC 9111 policy functions as well. This file maps flags to specs and prints: the simulations are
// lib/replay (simulation.h), the live replay lib/load (live_replay.h), the rendering lib/report.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/strings.h"
#include "cache/policy/config.h"
#include "cli.h"
#include "commands.h"
#include "load/input_file.h"
#include "load/live_replay.h"
#include "replay/http_trace.h"
#include "replay/simulation.h"
#include "replay/trace_reader.h"
#include "report/mrc_plot.h"
#include "report/simulation_report.h"

namespace {

namespace replay = cachefwd::replay;
namespace report = cachefwd::report;
namespace load = cachefwd::load;

using cli::UsageError;

struct Options {
  std::string file;
  std::string live_file;
  std::string format = "auto";
  std::string sizes = "10%";
  bool sizes_given = false;
  std::string policies = "lru,s3fifo,sieve,fifo,belady";
  bool policies_given = false;
  std::string json;
  std::string plot;
  bool unit_sizes = false;
  bool quiet = false;
  bool strict = false;
  // HTTP semantics (HAR, logs), live and simulated.
  std::string ttl = "0";
  // Live.
  std::string proxy, url, origin;
  int connections = 1;
  double speed = 0, rate = 0;
  std::string timeout = "10s";
  int top = 10;
};

void say(const std::string& line) { std::fprintf(stderr, "cachefwd replay: %s\n", line.c_str()); }

using cli::write_output;

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

replay::SecondsClock steady_seconds() {
  return [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
}

// HAR or access log, by --format or, for auto, by name (.har) and then by content.
std::optional<replay::HttpFormat> http_format_of(const std::string& path, const std::string& format) {
  if (format != "auto") return replay::parse_http_format(format);
  std::string base = path;
  for (const char* suf : {".xz", ".zst"}) {
    if (base.size() > std::strlen(suf) &&
        base.compare(base.size() - std::strlen(suf), std::string::npos, suf) == 0)
      base.resize(base.size() - std::strlen(suf));
  }
  if (base.size() > 4 && cachefwd::iequals(std::string_view(base).substr(base.size() - 4), ".har"))
    return replay::HttpFormat::kHar;
  return replay::sniff_http_format(load::read_head(path));
}

std::vector<replay::CacheSizeSpec> cache_sizes(const std::string& text) {
  auto specs = replay::parse_cache_sizes(text);
  if (!specs) throw UsageError("bad --cache-size " + text + " (want e.g. 128MiB,1GiB or 1%,10%)");
  for (const auto& s : *specs) {
    if (!s.percent && s.bytes == 0)
      throw UsageError("--cache-size " + s.text + " is zero: nothing could be cached");
    if (s.percent && s.percent_value <= 0)
      throw UsageError("--cache-size " + s.text + " is zero: nothing could be cached");
  }
  return *specs;
}

std::vector<std::string> policy_list(const std::string& text, bool allow_belady) {
  try {
    return replay::parse_policy_list(text, allow_belady);
  } catch (const replay::SimulationError& e) {
    throw UsageError(e.what());
  }
}

void write_plot(const Options& o, const std::vector<report::MrcSeries>& series, const std::string& note) {
  write_output(o.plot, report::render_mrc_svg(series, "miss ratio curve: " + base_name(o.file), note));
}

int run_capture_simulate(const Options& o, replay::HttpFormat format) {
  replay::CaptureSimSpec spec;
  spec.name = o.file;
  spec.open = load::input_file_opener(o.file);
  spec.format = format;
  const auto ttl = cachefwd::parse_duration_ms(o.ttl);
  if (!ttl || *ttl < 0)
    throw UsageError("bad --ttl " + o.ttl + " (want a duration such as 60s, 5m or 1m30s)");
  spec.policy_config.default_ttl_ms = *ttl;
  spec.ttl_text = o.ttl;
  // serve's defaults (256 MiB, LRU) unless asked: the question is usually "what would my proxy do".
  spec.sizes = cache_sizes(o.sizes_given ? o.sizes : "256MiB");
  if (o.policies_given && policy_list(o.policies, true).size() != policy_list(o.policies, false).size())
    throw UsageError(
        "belady needs every request's future: it simulates traces, not HAR files or access logs");
  spec.policies = policy_list(o.policies_given ? o.policies : "lru", false);
  spec.clock = steady_seconds();
  const auto res = replay::simulate_capture(spec);
  if (auto why = report::describe_skipped(res); !why.empty()) say(why);
  if (res.errors.bad != 0 && o.strict) return 1;
  if (res.requests == 0) {
    say(fmt::format("nothing to simulate in {}: no {} could be read ({} read, {} malformed, {} filtered)",
                    o.file, format == replay::HttpFormat::kHar ? "HAR entry" : "access-log request",
                    res.positions, res.errors.bad, res.filtered));
    return 1;
  }
  if (!o.quiet) std::fputs(report::render_capture_table(res).c_str(), stdout);
  if (!o.json.empty()) write_output(o.json, report::render_capture_json(res));
  if (!o.plot.empty()) write_plot(o, report::capture_mrc_series(res), "");
  return 0;
}

int run_simulate(const Options& o) {
  replay::TraceFormat format;
  if (auto hf = replay::parse_http_format(o.format)) return run_capture_simulate(o, *hf);
  if (o.format == "auto") {
    auto f = replay::detect_trace_format(o.file);
    // Access logs (and HARs) carry HTTP semantics: simulate them as captures, so --ttl applies.
    // --format apache still asks for the sizes-only trace reading.
    if (!f || *f == replay::TraceFormat::kApacheLog || o.file.find(".har") != std::string::npos) {
      if (auto hf = http_format_of(o.file, "auto")) return run_capture_simulate(o, *hf);
    }
    if (!f) throw UsageError("cannot tell the format of " + o.file + "; pass --format");
    format = *f;
  } else if (auto f = replay::parse_trace_format(o.format)) {
    format = *f;
  } else {
    throw UsageError("unknown --format " + o.format);
  }
  replay::TraceSimSpec spec;
  spec.name = o.file;
  spec.open = load::input_file_opener(o.file);
  spec.format = format;
  spec.sizes = cache_sizes(o.sizes);
  spec.policies = policy_list(o.policies, true);
  spec.unit_sizes = o.unit_sizes;
  spec.clock = steady_seconds();
  const auto res = replay::simulate_trace(spec);
  if (auto why = report::describe_skipped(res); !why.empty()) say(why);
  if (res.errors.bad != 0 && o.strict) {
    say(fmt::format("{} malformed records (--strict)", res.errors.bad));
    return 1;
  }
  if (res.requests == 0) {
    say(fmt::format(
        "nothing to simulate in {}: no {} request could be read ({} read, {} malformed, {} filtered)", o.file,
        replay::trace_format_name(format), res.positions, res.errors.bad, res.filtered));
    return 1;
  }
  if (!o.quiet) std::fputs(report::render_trace_table(res).c_str(), stdout);
  if (!o.json.empty()) write_output(o.json, report::render_trace_json(res));
  if (!o.plot.empty()) {
    const std::string note =
        res.has_belady && !res.unit_sizes
            ? "belady evicts the furthest next use: with byte sizes it is not a lower bound "
              "(--ignore-obj-size for OPT)"
            : "";
    write_plot(o, report::trace_mrc_series(res), note);
  }
  return 0;
}

std::string resolve_self() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

int run_live(const Options& o) {
  const auto format = http_format_of(o.live_file, o.format);
  if (!format)
    throw UsageError("cannot tell the format of " + o.live_file +
                     " (live replay reads HAR and access logs); pass --format");
  if (!o.proxy.empty() && !o.url.empty()) throw UsageError("give --proxy or --url, not both");
  if (o.speed > 0 && o.rate > 0) throw UsageError("give --speed or --rate, not both");
  const bool hermetic = o.proxy.empty() && o.url.empty();
  const std::string origin = o.origin.empty() && hermetic ? "embedded" : o.origin;
  if (hermetic && origin != "embedded")
    throw UsageError("without --proxy or --url the replay is hermetic: --origin must be embedded");

  load::LiveReplaySpec spec;
  spec.name = o.live_file;
  spec.open = load::input_file_opener(o.live_file);
  spec.format = *format;
  if (!o.proxy.empty()) {
    spec.proxy = load::parse_host_port(o.proxy);
    if (!spec.proxy) throw UsageError("--proxy wants HOST:PORT, got " + o.proxy);
  }
  if (!o.url.empty()) {
    spec.gateway = load::parse_http_url(o.url);
    if (!spec.gateway) throw UsageError("--url wants http://HOST:PORT[/prefix], got " + o.url);
  }
  spec.embedded_origin = origin == "embedded";
  if (!origin.empty() && !spec.embedded_origin) {
    spec.origin = load::parse_http_url(origin);
    if (!spec.origin) throw UsageError("--origin wants embedded or http://HOST:PORT, got " + origin);
  }
  if (hermetic) {
    spec.serve_binary = resolve_self();
    spec.serve_ttl = o.ttl;
    spec.serve_policy = policy_list(o.policies_given ? o.policies : "lru", false).front();
    spec.serve_max_bytes = o.sizes_given ? cache_sizes(o.sizes).front().text : "256MiB";
  }
  spec.connections = o.connections;
  spec.speed = o.speed;
  spec.rate = o.rate;
  spec.timeout_s = static_cast<double>(cachefwd::parse_duration_ms(o.timeout).value_or(10'000)) / 1000.0;
  if (spec.timeout_s <= 0) throw UsageError("--timeout must be more than 0");
  spec.top = static_cast<size_t>(std::max(0, o.top));
  spec.strict = o.strict;

  const auto res = load::replay_live(spec);
  if (!res.document_error.empty()) {
    say(res.document_error);
  } else if (res.errors.bad != 0) {
    std::string where;
    for (auto l : res.errors.first_bad) where += fmt::format("{}{}", where.empty() ? "" : ", ", l);
    const bool har = *format == replay::HttpFormat::kHar;
    say(fmt::format("skipped {} malformed {} of {} (first at {} {})", res.errors.bad,
                    har ? "entries" : "lines", res.positions, har ? "entries" : "lines", where));
  }
  if (res.errors.bad != 0 && o.strict) return 1;
  if (!res.ran) {
    std::string why = fmt::format("nothing to replay in {}: {} requests read", o.live_file, res.captured);
    if (res.not_replayable_https != 0)
      why += fmt::format(", {} of them https (a forward proxy cannot see into https: try --origin embedded)",
                         res.not_replayable_https);
    say(why);
    return 1;
  }
  if (!o.quiet) std::fputs(load::render_live_table(res).c_str(), stdout);
  if (!o.json.empty()) write_output(o.json, load::render_live_json(res));
  return res.report.result.errors() != 0 ? 1 : 0;
}

}  // namespace

void register_replay(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("replay",
                                     "Replay a capture (HAR, access log) live through a proxy, or simulate a "
                                     "capture or cache trace offline");
  sub->add_option("file", opts->live_file,
                  "Capture to replay live (HAR or access log); without --proxy/--url the run is hermetic: an "
                  "embedded origin answers each request as recorded, through an embedded cachefwd serve")
      ->type_name("FILE");
  sub->add_option(
         "--simulate", opts->file,
         "Simulate this file offline instead: a cache trace (sizes only), or a HAR / access log with "
         "RFC 9111 semantics (xz-compressed files are piped through xz -dc)")
      ->type_name("FILE");
  sub->add_option("--format", opts->format,
                  "auto|har|log (common, combined, cachefwd combined or json)|oracle-general|scarab|cache2k|"
                  "adaptsize|csv|apache (apache and the trace formats: sizes only; auto reads access logs as "
                  "logs, with HTTP semantics)")
      ->capture_default_str()
      ->type_name("FORMAT");
  sub->add_option(
         "--cache-size,--max-bytes", opts->sizes,
         "Comma-separated sizes: bytes (128MiB,1GiB) or % of the footprint (1%,10%); traces default to "
         "10%, HAR/logs to 256MiB (serve's default); live: the embedded serve's --max-bytes (first)")
      ->capture_default_str()
      ->type_name("SIZE[,SIZE..]");
  sub->add_option(
         "--policy", opts->policies,
         "Comma-separated: lru,fifo,sieve,s3fifo,s3fifo-warm,belady (traces; HAR/logs default lru, no "
         "belady); live: the embedded serve's --policy (first)")
      ->capture_default_str()
      ->type_name("POLICY[,POLICY..]");
  sub->add_option("--ttl", opts->ttl,
                  "HAR/logs: lifetime of storable responses without their own (serve --ttl); logs record no "
                  "Cache-Control, so with 0 nothing of theirs is stored")
      ->capture_default_str()
      ->check(cli::duration())
      ->type_name("DURATION");
  sub->add_option("--json", opts->json, "Also write the results as JSON to FILE (- = stdout)")
      ->type_name("FILE");
  sub->add_option("--plot", opts->plot,
                  "With --simulate: write the miss-ratio curve (miss and byte miss ratio per policy against "
                  "cache size) as SVG to FILE")
      ->type_name("FILE");
  sub->add_flag("--ignore-obj-size", opts->unit_sizes, "Every object has size 1: cache sizes count objects");
  sub->add_flag("-q,--quiet", opts->quiet, "No table on stdout (with --json)");
  sub->add_flag("--strict", opts->strict, "Malformed lines or entries are fatal (exit 1) instead of skipped");
  sub->add_option("--proxy", opts->proxy, "Live: send absolute-form requests through this forward proxy")
      ->check(cli::address())
      ->type_name("ADDR:PORT");
  sub->add_option("--url", opts->url, "Live: send origin-form requests to this gateway base URL")
      ->type_name("URL");
  sub->add_option(
         "--origin", opts->origin,
         "Live: rewrite every URL to this origin: embedded (an in-process origin answering each request "
         "with the recorded status, size and Cache-Control) or http://HOST:PORT")
      ->type_name("embedded|URL");
  sub->add_option(
         "-c,--connections", opts->connections,
         "Live: concurrent connections, each taking the next request in capture order (1 = sequential)")
      ->capture_default_str()
      ->check(cli::at_least(1));
  sub->add_option("--speed", opts->speed, "Live: recorded timing, sped up by this factor (2 = twice as fast)")
      ->check(cli::at_least(0));
  sub->add_option("-R,--rate", opts->rate, "Live: requests per second, in capture order")
      ->check(cli::at_least(0));
  sub->add_option("--timeout", opts->timeout, "Live: per-request timeout")
      ->capture_default_str()
      ->check(cli::duration())
      ->type_name("DURATION");
  sub->add_option("--top", opts->top, "Live: how many of the most missed URLs to list")
      ->capture_default_str()
      ->check(cli::at_least(0));
  sub->callback([opts, sub] {
    opts->sizes_given = sub->count("--cache-size") > 0;
    opts->policies_given = sub->count("--policy") > 0;
    try {
      if (opts->quiet && opts->json.empty() && opts->plot.empty())
        throw UsageError("--quiet without --json or --plot would print nothing");
      if (!opts->plot.empty() && opts->file.empty())
        throw UsageError("--plot draws the miss-ratio curve of --simulate; give --simulate FILE");
      if (!opts->file.empty() && !opts->live_file.empty())
        throw UsageError("give a capture FILE to replay live or --simulate FILE, not both");
      if (!opts->file.empty()) {
        g_exit_code = run_simulate(*opts);
      } else if (!opts->live_file.empty()) {
        g_exit_code = run_live(*opts);
      } else {
        throw UsageError("give a capture FILE to replay live, or --simulate FILE");
      }
    } catch (const UsageError& e) {
      say(e.what());
      g_exit_code = cli::kExitUsage;
    } catch (const std::exception& e) {
      say(e.what());
      g_exit_code = cli::kExitRuntime;
    }
  });
}
