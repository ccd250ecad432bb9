#include "replay/http_simulator.h"

#include <stdexcept>

#include "cache/key/cache_key.h"
#include "http/http_date.h"

namespace cachefwd::replay {

namespace flow = cache::flow;

namespace {
std::unique_ptr<cache::store::EvictionPolicy> policy_or_throw(std::string_view name) {
  auto p = cache::store::make_eviction_policy(name);
  if (!p) throw std::invalid_argument("unknown eviction policy: " + std::string(name));
  return p;
}

// The head the embedded origin sends for this capture entry at `now` (load/origin.cpp, with the
// parameters of embedded_origin_target), and whether it has a validator.
http::Headers origin_response_headers(const HttpRequest& r, UnixMillis now, bool& validator) {
  http::Headers h;
  validator = false;
  h.add("Date", http::format_http_date(now));
  h.add("Content-Length", std::to_string(r.size));
  if (!r.has_response_headers) return h;
  std::string cc = r.response_headers.combined("Cache-Control");
  if (!cc.empty()) h.add("Cache-Control", cc);
  if (const auto* exp = r.response_headers.find("Expires")) {
    const auto* date = r.response_headers.find("Date");
    const auto e = http::parse_http_date(*exp);
    const auto d = date ? http::parse_http_date(*date) : std::optional<UnixMillis>(r.time);
    const std::int64_t rel = (e && d) ? millis_to_seconds(*e - *d) : -1;
    h.add("Expires", http::format_http_date((now / 1000 + rel) * 1000));
  }
  // One URL of the replay is one version of one object: its validator never changes.
  if (r.response_headers.has("ETag")) {
    h.add("ETag", "\"replay\"");
    validator = true;
  }
  if (const auto* lm = r.response_headers.find("Last-Modified")) {
    if (const auto t = http::parse_http_date(*lm); t && *t >= 2000) {
      h.add("Last-Modified", http::format_http_date(*t / 1000 * 1000));
      validator = true;
    }
  }
  if (const std::string vary = r.response_headers.combined("Vary"); !vary.empty()) h.add("Vary", vary);
  if (r.response_headers.has("Set-Cookie")) h.add("Set-Cookie", "replay=1");
  return h;
}
}  // namespace

HttpSimulator::HttpSimulator(std::string_view policy, std::uint64_t cache_bytes,
                             cache::policy::PolicyConfig cfg)
    : cfg_(std::move(cfg)), store_(cache::store::StoreLimits{cache_bytes, 0}, policy_or_throw(policy)) {
  flow::FlowConfig fc;
  // serve's defaults: what `replay FILE` starts. Bodies are not kept, so no object is too large
  // for anything but the store's own limit.
  fc.max_object_size = cache_bytes;
  flow_ = std::make_unique<flow::Cache>(store_, fc);
}

HttpSimulator::~HttpSimulator() = default;

HttpSimulator::Outcome HttpSimulator::access(const HttpRequest& r) {
  const auto origin_target = embedded_origin_target(r);
  if (!origin_target) {
    ++c_.not_replayable;
    return Outcome::none;
  }
  ++c_.requests;
  const bool head = r.method == "HEAD";
  const std::uint64_t bytes = head ? 0 : r.size;
  c_.bytes += bytes;
  const UnixMillis now = r.time;

  http::TargetUri target;
  http::parse_absolute_target("http://origin.replay" + *origin_target, target);
  http::Headers request_headers;
  for (const auto& f : r.request_headers.fields())
    if (replayed_request_field(f.name)) request_headers.add(f.name, f.value);

  flow::Txn t;
  t.id = next_id_++;
  t.method = r.method;
  t.headers = &request_headers;
  t.policy = &cfg_;
  t.lookup = r.method == "GET" || head || (r.method == "POST" && cfg_.cacheable_methods.count("POST"));
  if (t.lookup) t.key = cache::key::build_key(r.method, target, request_headers, {}, cache::key::KeyPolicy{});
  if (flow::is_unsafe(r.method)) t.target = target;

  std::string label;
  Outcome outcome = Outcome::none;
  // One fetch from the simulated origin: the recorded answer, every time it is asked.
  auto fetch = [&](flow::FillId fill, bool conditional, bool background) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool validator = false;
      http::Headers h = origin_response_headers(r, now, validator);
      int status = replay_status(r);
      // Our own conditional request, with the validators of what the same URL answered before.
      if (conditional && attempt == 0 && validator && status == 200) status = 304;
      auto v = flow_->on_head(fill, status, h, now);
      if (v.kind == flow::HeadVerdict::Kind::refetch) continue;
      if (v.kind == flow::HeadVerdict::Kind::serve_entry) {
        if (!background) outcome = v.outcome;
        return;
      }
      for (const auto& inv : v.invalidate) {
        cache::key::KeyPolicy kp;
        c_.invalidated += flow_->purge_url(inv, std::span(&kp, 1));
      }
      const std::uint64_t body = v.no_body ? 0 : r.size;
      flow_->on_body(fill, body);
      if (!background) {
        // The label the client sees is decided with the head, as serve's Cache-Status is.
        flow::Reason why;
        outcome = flow_->stream_outcome(fill, t.id, why);
        label = flow::outcome_label(outcome, why);
        if (outcome == Outcome::not_stored) ++c_.not_stored[std::string(flow::to_string(why))];
      }
      if (flow_->on_complete_sized(fill, body, now)) ++c_.stored;
      return;
    }
  };

  auto a = flow_->begin(t, now);
  switch (a.kind) {
    case flow::Action::Kind::serve:
    case flow::Action::Kind::answer:
      outcome = t.outcome;
      break;
    case flow::Action::Kind::serve_stale_and_refresh:
      outcome = t.outcome;
      if (a.fill) {
        fetch(a.fill, true, true);
        flow_->finish(a.fill);
      }
      break;
    case flow::Action::Kind::fetch:
    case flow::Action::Kind::join:  // requests are sequential: no fill is ever left to join
    case flow::Action::Kind::lookup:
      if (a.fill) {
        fetch(a.fill, a.entry != nullptr, false);
        flow_->finish(a.fill);
      }
      break;
  }
  if (label.empty()) label = flow::outcome_label(outcome, flow::Reason::none);
  ++c_.outcomes[label];
  if (outcome == Outcome::hit || outcome == Outcome::stale_while_revalidate) {
    ++c_.hits;
    c_.hit_bytes += bytes;
  } else {
    ++c_.misses;
  }
  if (outcome == Outcome::expired || outcome == Outcome::revalidated || outcome == Outcome::stale_if_error)
    ++c_.stale_misses;
  return outcome;
}

}  // namespace cachefwd::replay
