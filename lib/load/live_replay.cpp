#include "load/live_replay.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "base/strings.h"
#include "cache/flow/flow.h"
#include "load/origin.h"
#include "load/process.h"
#include "load/replay_driver.h"
#include "metrics/json_writer.h"

namespace cachefwd::load {

namespace {

// The path and query of a captured URL (origin-form targets are taken as they are); empty when
// there is none.
std::string path_and_query(const std::string& url) {
  std::string pq = url;
  if (auto scheme = pq.find("://"); scheme != std::string::npos && pq.find('/') > scheme) {
    const auto slash = pq.find_first_of("/?", scheme + 3);
    pq = slash == std::string::npos ? "/" : pq.substr(slash);
  }
  return !pq.empty() && pq[0] == '/' ? pq : std::string();
}

}  // namespace

LiveReplayResults replay_live(const LiveReplaySpec& spec) {
  using replay::HttpRequest;
  LiveReplayResults res;
  res.name = spec.name;
  res.format = spec.format;

  // The capture is materialised: a live replay needs its order and timing.
  std::vector<HttpRequest> captured;
  {
    auto in = spec.open();
    auto reader = replay::make_http_reader(spec.format, in->stream());
    HttpRequest r;
    while (reader->next(r)) captured.push_back(std::move(r));
    if (auto err = in->finish(); !err.empty()) throw std::runtime_error(err);
    res.errors = reader->errors();
    res.positions = reader->position();
    res.filtered = reader->filtered();
    res.document_error = reader->document_error();
  }
  res.captured = captured.size();
  if (res.errors.bad != 0 && spec.strict) return res;

  const bool hermetic = !spec.proxy && !spec.gateway;
  std::unique_ptr<OriginThread> embedded;
  std::optional<HttpUrl> origin_url = spec.origin;
  if (spec.embedded_origin) {
    embedded = std::make_unique<OriginThread>();
    origin_url = HttpUrl{HostPort{"127.0.0.1", embedded->start(HostPort{"127.0.0.1", 0})}, "/"};
  }

  std::vector<ReplayRequest> list;
  const std::int64_t t_first = captured.empty() ? 0 : captured.front().time;
  for (const auto& c : captured) {
    ReplayRequest rq;
    rq.method = c.method;
    rq.report_url = c.url;
    std::optional<HttpUrl> target;
    if (spec.embedded_origin) {
      if (auto t = replay::embedded_origin_target(c)) target = HttpUrl{origin_url->where, *t};
    } else if (const std::string pq = path_and_query(c.url); !pq.empty()) {
      if (origin_url) {
        target = HttpUrl{origin_url->where, pq};
      } else if (auto u = parse_http_url(c.url)) {
        target = u;  // the original URL (http:// only: a forward proxy cannot see into https)
      } else if (spec.gateway) {
        target = HttpUrl{spec.gateway->where, pq};
      }
    }
    if (!target) {
      ++res.not_replayable;
      if (istarts_with(c.url, "https://")) ++res.not_replayable_https;
      continue;
    }
    if (spec.gateway) {
      // Origin-form to the gateway: its path prefix, then the target's.
      const std::string prefix = spec.gateway->target == "/" ? "" : spec.gateway->target;
      target->target = prefix + target->target;
      target->where = spec.gateway->where;
    }
    rq.target = *target;
    for (const auto& f : c.request_headers.fields()) {
      if (replay::replayed_request_field(f.name)) rq.headers.emplace_back(f.name, f.value);
    }
    if (spec.speed > 0) rq.due_s = static_cast<double>(c.time - t_first) / 1000.0 / spec.speed;
    if (spec.rate > 0) rq.due_s = static_cast<double>(list.size()) / spec.rate;
    list.push_back(std::move(rq));
  }
  res.requests = list.size();
  if (list.empty()) {
    if (embedded) embedded->stop();
    return res;
  }

  ReplayOptions ro;
  ro.connections = std::max(1, spec.connections);
  ro.paced = spec.speed > 0 || spec.rate > 0;
  ro.timeout_s = spec.timeout_s;
  BenchReport& rep = res.report;
  ChildProcess child;
  std::string serve_log;
  if (hermetic) {
    const std::uint16_t port = pick_free_port();
    const std::vector<std::string> argv{spec.serve_binary, "serve",
                                        "--listen",        fmt::format("127.0.0.1:{}", port),
                                        "--ttl",           spec.serve_ttl,
                                        "--policy",        spec.serve_policy,
                                        "--max-bytes",     spec.serve_max_bytes};
    serve_log = fmt::format("/tmp/cachefwd-replay-serve.{}.log", ::getpid());
    const HostPort where{"127.0.0.1", port};
    if (!child.start(argv, serve_log) || !wait_until_listening(where, 5000, &child)) {
      const std::string how = child.running() ? "not listening after 5 s" : child.describe_exit();
      child.terminate(500);
      throw std::runtime_error(fmt::format("could not start the embedded proxy ({}: {}; its output is in {})",
                                           fmt::join(argv, " "), how, serve_log));
    }
    ro.connect_to = where;
    ro.absolute_form = true;
    ro.rss_pid = child.pid();
    rep.info.target = fmt::format("embedded cachefwd serve (pid {}) on {}, embedded origin", child.pid(),
                                  where.authority());
  } else if (spec.proxy) {
    ro.connect_to = *spec.proxy;
    ro.absolute_form = true;
    rep.info.target = "forward proxy " + spec.proxy->authority();
  } else {
    ro.connect_to = spec.gateway->where;
    rep.info.target = "gateway " + spec.gateway->where.authority();
  }
  if (spec.embedded_origin && !hermetic) rep.info.target += ", embedded origin";

  auto out = run_replay(list, ro);
  if (child.pid() > 0) {
    child.terminate();
    ::unlink(serve_log.c_str());
  }
  if (embedded) embedded->stop();
  res.ran = true;

  rep.info.model = spec.rate > 0 ? "open" : (spec.speed > 0 ? "recorded timing" : "closed");
  rep.info.connections = ro.connections;
  rep.info.rate = spec.rate;
  rep.info.requests = list.size();
  rep.info.duration_s = out.load.elapsed_s;
  rep.info.workload =
      fmt::format("{} requests from {} ({}){}", list.size(), spec.name, replay::http_format_name(spec.format),
                  spec.speed > 0 ? fmt::format(", speed x{}", spec.speed) : std::string());
  rep.result = std::move(out.load);

  // Each response's Cache-Status read back as the cache flow's outcome label: the same keys as
  // the simulation's "outcomes".
  for (const auto& oc : out.outcomes) {
    if (oc.status == 0) continue;
    ++res.outcomes[cache::flow::outcome_label_from_cache_status(oc.cache_status)];
  }
  res.top_missed.assign(out.missed_urls.begin(), out.missed_urls.end());
  std::stable_sort(res.top_missed.begin(), res.top_missed.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (res.top_missed.size() > spec.top) res.top_missed.resize(spec.top);
  return res;
}

std::string render_live_table(const LiveReplayResults& r) {
  std::string out = render_table(r.report);
  if (r.not_replayable || r.filtered)
    out += fmt::format("  ({} captured requests not replayable here, {} filtered by the reader)\n",
                       r.not_replayable, r.filtered);
  if (!r.top_missed.empty()) {
    out += "top missed URLs\n";
    for (const auto& [u, n] : r.top_missed) out += fmt::format("  {:>8}  {}\n", n, u);
  }
  return out;
}

std::string render_live_json(const LiveReplayResults& r) {
  metrics::JsonWriter w;
  w.begin_object();
  write_bench_members(w, r.report);
  w.key("replay").begin_object();
  w.member("file", r.name).member("format", replay::http_format_name(r.format));
  w.member("requests", r.requests).member("not_replayable", r.not_replayable).member("filtered", r.filtered);
  w.key("top_missed").begin_array();
  for (const auto& [u, n] : r.top_missed) {
    w.begin_object();
    w.member("url", u).member("misses", n);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  w.key("outcomes").begin_object();
  for (const auto& [k, v] : r.outcomes) w.member(k, v);
  w.end_object();
  w.end_object();
  return w.take() + "\n";
}

}  // namespace cachefwd::load
