#include "proxy/stats_report.h"

#include "metrics/json_writer.h"
#include "metrics/prometheus.h"

namespace cachefwd::proxy {

namespace {
double ratio(std::uint64_t part, std::uint64_t whole) { return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0; }

void histogram_json(metrics::JsonWriter& w, const metrics::LatencyHistogram& h) {
  w.begin_object();
  w.member("count", h.count());
  w.member("p50_us", static_cast<double>(h.percentile(50)) / 1000.0);
  w.member("p90_us", static_cast<double>(h.percentile(90)) / 1000.0);
  w.member("p99_us", static_cast<double>(h.percentile(99)) / 1000.0);
  w.member("max_us", static_cast<double>(h.max_ns()) / 1000.0);
  w.end_object();
}
}  // namespace

std::string render_stats_json(const StatsSnapshot& s) {
  const ProxyStats& p = *s.stats;
  const auto& st = *s.store;
  std::uint64_t lookups = p.hits + p.misses;
  metrics::JsonWriter w;
  w.begin_object();
  w.member("requests", p.requests);
  w.member("hits", p.hits);
  w.member("misses", p.misses);
  w.member("bypasses", p.bypasses);
  w.key("bypasses_by_reason").begin_object().member("method", p.bypass_method).member("rule", p.bypass_rule).end_object();
  w.member("stale_served", p.stale_served);
  w.member("revalidated", p.revalidated);
  w.member("coalesced", p.coalesced);
  w.member("stored", p.stored);
  w.member("not_stored", p.not_stored);
  w.member("too_large", p.too_large);
  w.member("evictions", st.evictions);
  w.member("purged", p.purged);
  w.member("invalidations", p.invalidations);
  w.member("upstream_errors", p.upstream_errors);
  w.member("upstream_timeouts", p.upstream_timeouts);
  w.member("upstream_connect_errors", p.upstream_connect_errors);
  const auto& u = s.upstream;
  w.key("upstream_connections")
      .begin_object()
      .member("transfers", u.transfers)
      .member("opened", u.connections_opened)
      .member("reused", u.connections_reused)
      .member("tls_handshakes", u.tls_handshakes)
      .member("tls_errors", u.tls_errors)
      .member("h2_streams", u.h2_streams)
      .end_object();
  w.member("client_errors", p.client_errors);
  w.member("tunnels", p.tunnels);
  w.member("connections", p.connections);
  w.member("connections_refused", p.connections_refused);
  w.member("connections_open", s.connections_open);
  w.member("inflight_fetches", s.inflight);
  w.member("entries", st.entries);
  w.member("bytes", st.bytes);
  w.member("max_bytes", s.max_bytes);
  w.member("policy", s.policy);
  w.member("hit_ratio", ratio(p.hits, lookups));
  w.member("bytes_sent", p.bytes_sent);
  w.member("hit_bytes", p.hit_bytes);
  w.member("byte_hit_ratio", ratio(p.hit_bytes, p.bytes_sent));
  w.member("rss_bytes", s.rss_bytes);
  // Answered requests by the cache flow's outcome, under the labels `replay --json` uses.
  w.key("outcomes").begin_object();
  for (std::size_t i = 1; i < p.outcomes.size(); ++i) {
    auto o = static_cast<cache::flow::Outcome>(i);
    if (o == cache::flow::Outcome::not_stored) {
      for (std::size_t r = 0; r < p.not_stored_by_reason.size(); ++r)
        if (p.not_stored_by_reason[r])
          w.member(cache::flow::outcome_label(o, static_cast<cache::flow::Reason>(r)), p.not_stored_by_reason[r]);
    } else if (p.outcomes[i]) {
      w.member(cache::flow::outcome_label(o, cache::flow::Reason::none), p.outcomes[i]);
    }
  }
  w.end_object();
  w.key("services").begin_object();
  for (auto& [name, counts] : p.service_outcomes) {
    w.key(name).begin_object();
    for (std::size_t i = 1; i < counts.size(); ++i)
      if (counts[i]) w.member(cache::flow::to_string(static_cast<cache::flow::Outcome>(i)), counts[i]);
    w.end_object();
  }
  w.end_object();
  w.key("partitions").begin_array();
  for (auto& part : s.partitions) {
    w.begin_object();
    w.member("name", part.name);
    w.member("entries", part.stats->entries);
    w.member("bytes", part.stats->bytes);
    w.member("evictions", part.stats->evictions);
    w.member("max_entries", part.max_entries);
    w.member("max_bytes", part.max_bytes);
    w.end_object();
  }
  w.end_array();
  w.key("hit_latency");
  histogram_json(w, p.hit_latency);
  w.key("upstream_latency");
  histogram_json(w, p.upstream_latency);
  w.end_object();
  return w.take();
}

std::string render_prometheus(const StatsSnapshot& s) {
  const ProxyStats& p = *s.stats;
  const auto& st = *s.store;
  metrics::PrometheusWriter w;
  w.counter("cachefwd_requests_total", "Requests received from clients.", p.requests);
  w.family("cachefwd_cache_lookups_total", metrics::MetricType::counter, "Cache lookups by result.");
  w.sample("cachefwd_cache_lookups_total", {{"result", "hit"}}, p.hits);
  w.sample("cachefwd_cache_lookups_total", {{"result", "miss"}}, p.misses);
  w.family("cachefwd_bypasses_total", metrics::MetricType::counter, "Requests forwarded without a cache lookup, by reason.");
  w.sample("cachefwd_bypasses_total", {{"reason", "method"}}, p.bypass_method);
  w.sample("cachefwd_bypasses_total", {{"reason", "rule"}}, p.bypass_rule);
  w.family("cachefwd_outcomes_total", metrics::MetricType::counter,
           "Answered requests by cache flow outcome (not-stored ones by reason).");
  for (std::size_t i = 1; i < p.outcomes.size(); ++i) {
    auto o = static_cast<cache::flow::Outcome>(i);
    if (o == cache::flow::Outcome::not_stored) {
      for (std::size_t r = 0; r < p.not_stored_by_reason.size(); ++r)
        if (p.not_stored_by_reason[r])
          w.sample("cachefwd_outcomes_total",
                   {{"outcome", cache::flow::outcome_label(o, static_cast<cache::flow::Reason>(r))}},
                   p.not_stored_by_reason[r]);
    } else {
      w.sample("cachefwd_outcomes_total", {{"outcome", std::string(cache::flow::to_string(o))}}, p.outcomes[i]);
    }
  }
  if (!p.service_outcomes.empty()) {
    w.family("cachefwd_service_outcomes_total", metrics::MetricType::counter,
             "Requests a rule's upstream= routed, by rule name and cache flow outcome.");
    for (auto& [name, counts] : p.service_outcomes)
      for (std::size_t i = 1; i < counts.size(); ++i)
        if (counts[i])
          w.sample("cachefwd_service_outcomes_total",
                   {{"service", name},
                    {"outcome", std::string(cache::flow::to_string(static_cast<cache::flow::Outcome>(i)))}},
                   counts[i]);
  }
  w.counter("cachefwd_stale_served_total", "Stale responses served (stale-while-revalidate, stale-if-error).", p.stale_served);
  w.counter("cachefwd_revalidations_total", "Stale entries refreshed by a 304.", p.revalidated);
  w.counter("cachefwd_coalesced_total", "Requests that joined another request's upstream fetch.", p.coalesced);
  w.counter("cachefwd_stores_total", "Responses stored.", p.stored);
  w.counter("cachefwd_not_stored_total", "Cacheable-method responses that could not be stored.", p.not_stored);
  w.counter("cachefwd_too_large_total", "Responses streamed uncached because of --max-object-size.", p.too_large);
  w.counter("cachefwd_evictions_total", "Entries evicted to make room.", st.evictions);
  w.counter("cachefwd_purged_total", "Entries removed by purge or invalidation.", p.purged);
  w.family("cachefwd_upstream_errors_total", metrics::MetricType::counter, "Upstream failures by kind.");
  w.sample("cachefwd_upstream_errors_total", {{"kind", "connect"}}, p.upstream_connect_errors);
  w.sample("cachefwd_upstream_errors_total", {{"kind", "timeout"}}, p.upstream_timeouts);
  w.sample("cachefwd_upstream_errors_total", {{"kind", "other"}},
           p.upstream_errors - p.upstream_connect_errors - p.upstream_timeouts);
  w.counter("cachefwd_upstream_connections_opened_total", "Upstream connections opened (TCP connects).",
            s.upstream.connections_opened);
  w.counter("cachefwd_upstream_connections_reused_total",
            "Upstream transfers that went on an existing connection (keep-alive or an HTTP/2 stream).",
            s.upstream.connections_reused);
  w.counter("cachefwd_upstream_tls_handshakes_total", "TLS handshakes on new https upstream connections.",
            s.upstream.tls_handshakes);
  w.counter("cachefwd_upstream_tls_errors_total", "Upstream fetches failed on a TLS or certificate check.",
            s.upstream.tls_errors);
  w.counter("cachefwd_upstream_h2_streams_total", "Upstream transfers carried as HTTP/2 streams.",
            s.upstream.h2_streams);
  w.counter("cachefwd_client_errors_total", "Requests answered with 400/403/413/431 by the proxy.", p.client_errors);
  w.counter(
      "cachefwd_connections_refused_total",
      "Client connections answered 503 and closed: over --max-connections or --max-connections-per-client.",
      p.connections_refused);
  w.counter("cachefwd_bytes_sent_total", "Response body bytes sent to clients.", p.bytes_sent);
  w.counter("cachefwd_hit_bytes_total", "Response body bytes served from the store.", p.hit_bytes);
  w.gauge("cachefwd_store_entries", "Entries stored.", static_cast<double>(st.entries));
  w.gauge("cachefwd_store_bytes", "Bytes charged to stored entries (keys, headers, bodies).", static_cast<double>(st.bytes));
  w.gauge("cachefwd_store_max_bytes", "The store's byte limit.", static_cast<double>(s.max_bytes));
  if (!s.partitions.empty()) {
    w.family("cachefwd_partition_entries", metrics::MetricType::gauge, "Entries stored per rule partition with own limits.");
    for (auto& part : s.partitions)
      w.sample("cachefwd_partition_entries", {{"partition", part.name}}, part.stats->entries);
    w.family("cachefwd_partition_bytes", metrics::MetricType::gauge, "Bytes stored per rule partition with own limits.");
    for (auto& part : s.partitions)
      w.sample("cachefwd_partition_bytes", {{"partition", part.name}}, part.stats->bytes);
  }
  w.gauge("cachefwd_hit_ratio", "Hits over lookups since start.",
          ratio(p.hits, p.hits + p.misses));
  w.gauge("cachefwd_byte_hit_ratio", "Bytes served from the store over bytes sent since start.", ratio(p.hit_bytes, p.bytes_sent));
  w.gauge("cachefwd_connections_open", "Client connections open.", static_cast<double>(s.connections_open));
  w.gauge("cachefwd_process_resident_memory_bytes", "Resident set size of the process.", static_cast<double>(s.rss_bytes));
  w.family("cachefwd_hit_latency_seconds", metrics::MetricType::histogram, "Hits: request parsed to response written.");
  metrics::write_histogram(w, "cachefwd_hit_latency_seconds", {}, p.hit_latency);
  w.family("cachefwd_upstream_latency_seconds", metrics::MetricType::histogram, "Upstream fetch start to response head.");
  metrics::write_histogram(w, "cachefwd_upstream_latency_seconds", {}, p.upstream_latency);
  return w.take();
}

}  // namespace cachefwd::proxy
