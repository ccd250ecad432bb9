#include "cache/flow/flow.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "cache/key/cache_key.h"
#include "cache/policy/policy.h"
#include "http/cache_control.h"
#include "http/hop_by_hop.h"
#include "http/http_date.h"
#include "http/range.h"
#include "http/status.h"

namespace cachefwd::cache::flow {

namespace policy = cache::policy;

namespace {

// Separates a primary key from the variant part in store keys; the primary key then holds a
// marker entry whose Vary names the selecting fields (RFC 9111 §4.1).
constexpr std::string_view kVariantSeparator = "\x1fV";

std::string stale_status(int fwd_status, bool stored, std::string_view detail) {
  policy::CacheStatus cs;
  cs.fwd = "stale";
  cs.fwd_status = fwd_status;
  cs.stored = stored;
  cs.detail = detail;
  return policy::format_cache_status(cs);
}

std::string error_status(std::string_view detail) {
  return policy::cache_status_fwd("bypass", false, detail);
}

std::int64_t ttl_seconds(std::int64_t ttl_ms) {
  return ttl_ms >= 0 ? ttl_ms / 1000 : -((-ttl_ms + 999) / 1000);
}

void collect_tags(StoredResponse& entry) {
  for (const char* field : {"cache-tag", "surrogate-key"}) {
    std::string v = entry.headers.combined(field);
    // Cache-Tag is comma-separated, Surrogate-Key space-separated: accept both.
    for (auto& c : v)
      if (c == ',') c = ' ';
    std::size_t pos = 0;
    while (pos < v.size()) {
      auto end = v.find(' ', pos);
      if (end == std::string::npos) end = v.size();
      if (end > pos) entry.tags.emplace_back(v.substr(pos, end - pos));
      pos = end + 1;
    }
  }
}

}  // namespace

std::string_view to_string(Phase p) noexcept {
  switch (p) {
    case Phase::start:
      return "start";
    case Phase::lookup_pending:
      return "lookup-pending";
    case Phase::served:
      return "served";
    case Phase::joined:
      return "joined";
    case Phase::fetching:
      return "fetching";
    case Phase::done:
      return "done";
  }
  return "?";
}

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::none:
      return "none";
    case Outcome::hit:
      return "hit";
    case Outcome::stale_while_revalidate:
      return "stale-while-revalidate";
    case Outcome::stale_if_error:
      return "stale-if-error";
    case Outcome::revalidated:
      return "revalidated";
    case Outcome::expired:
      return "expired";
    case Outcome::miss:
      return "miss";
    case Outcome::coalesced:
      return "coalesced";
    case Outcome::not_stored:
      return "not-stored";
    case Outcome::bypass:
      return "bypass";
    case Outcome::only_if_cached:
      return "only-if-cached";
    case Outcome::error:
      return "error";
  }
  return "?";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::none:
      return "none";
    case Reason::method:
      return "method";
    case Reason::status:
      return "status";
    case Reason::no_store:
      return "no-store";
    case Reason::private_:
      return "private";
    case Reason::authorization:
      return "authorization";
    case Reason::no_freshness:
      return "no-freshness";
    case Reason::set_cookie:
      return "set-cookie";
    case Reason::vary_star:
      return "vary-star";
    case Reason::partial:
      return "partial";
    case Reason::too_large:
      return "too-large";
    case Reason::incomplete:
      return "incomplete";
    case Reason::rule:
      return "rule";
    case Reason::range:
      return "range";
    case Reason::head:
      return "head";
    case Reason::coalesce_timeout:
      return "coalesce-timeout";
    case Reason::vary_miss:
      return "vary-miss";
    case Reason::not_stored:
      return "not-stored";
    case Reason::upstream_error:
      return "upstream-error";
  }
  return "?";
}

Reason from_not_stored(policy::NotStored r) noexcept {
  switch (r) {
    case policy::NotStored::none:
      return Reason::none;
    case policy::NotStored::method:
      return Reason::method;
    case policy::NotStored::status:
      return Reason::status;
    case policy::NotStored::no_store:
      return Reason::no_store;
    case policy::NotStored::private_:
      return Reason::private_;
    case policy::NotStored::authorization:
      return Reason::authorization;
    case policy::NotStored::no_freshness:
      return Reason::no_freshness;
    case policy::NotStored::set_cookie:
      return Reason::set_cookie;
    case policy::NotStored::vary_star:
      return Reason::vary_star;
    case policy::NotStored::partial:
      return Reason::partial;
    case policy::NotStored::too_large:
      return Reason::too_large;
    case policy::NotStored::incomplete:
      return Reason::incomplete;
  }
  return Reason::none;
}

std::string outcome_label(Outcome o, Reason r) {
  std::string out(to_string(o));
  if (o == Outcome::not_stored) {
    out += ':';
    out += to_string(r == Reason::none ? Reason::not_stored : r);
  }
  return out;
}

std::string outcome_label_from_cache_status(std::string_view cs) {
  // Our entry is the last member of the list (RFC 9211 §2: caches append, the one nearest the
  // client last); a response without one is not ours.
  auto at = cs.rfind("cachefwd");
  if (at == std::string_view::npos) return "unknown";
  cs = cs.substr(at);
  if (auto comma = cs.find(','); comma != std::string_view::npos) cs = cs.substr(0, comma);
  bool hit = false, stored = false, collapsed = false;
  std::string_view fwd, detail;
  int fwd_status = 0;
  std::size_t pos = 0;
  while (pos < cs.size()) {
    auto semi = cs.find(';', pos);
    if (semi == std::string_view::npos) semi = cs.size();
    std::string_view p = trim_ows(cs.substr(pos, semi - pos));
    pos = semi + 1;
    auto eq = p.find('=');
    std::string_view name = p.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
    if (!value.empty() && value.front() == '"' && value.size() >= 2)
      value = value.substr(1, value.size() - 2);
    if (name == "hit")
      hit = true;
    else if (name == "stored")
      stored = true;
    else if (name == "collapsed")
      collapsed = true;
    else if (name == "fwd")
      fwd = value;
    else if (name == "detail")
      detail = value;
    else if (name == "fwd-status")
      fwd_status = static_cast<int>(parse_decimal(value).value_or(0));
  }
  if (hit)
    return std::string(
        to_string(detail == "stale-while-revalidate" ? Outcome::stale_while_revalidate : Outcome::hit));
  if (detail == "stale-if-error") return std::string(to_string(Outcome::stale_if_error));
  if (detail == "revalidated") return std::string(to_string(Outcome::revalidated));
  if (detail == "only-if-cached") return std::string(to_string(Outcome::only_if_cached));
  if (fwd == "bypass" || fwd == "method") {
    if (detail == "proxy-error" || detail == "upstream-error" || detail == "upstream-timeout" ||
        detail == "destination-denied")
      return std::string(to_string(Outcome::error));
    return std::string(to_string(Outcome::bypass));
  }
  // detail=storing: the head went out while the body was being stored.
  if (stored || detail == "storing") {
    if (collapsed) return std::string(to_string(Outcome::coalesced));
    return std::string(to_string(fwd == "stale" || fwd == "request" ? Outcome::expired : Outcome::miss));
  }
  (void)fwd_status;
  return "not-stored:" + std::string(detail.empty() ? std::string_view("not-stored") : detail);
}

bool is_unsafe(std::string_view method) noexcept { return !policy::is_safe_method(method); }

// One upstream response being received, and the requests it answers.
struct Cache::Fill {
  FillId id = 0;
  std::string key;  // where the response is stored; empty = never
  std::string method;
  http::Headers request_headers;  // the first request's, for storability (§3, §3.5) and Vary
  policy::PolicyConfig policy;
  store::PartitionId partition = store::kDefaultPartition;
  Entry stale;  // the entry being revalidated
  std::string fwd;
  Reason pre = Reason::none;  // why storing was ruled out before the fetch
  bool background = false;
  bool registered = false;  // in the in-flight map: joinable by key
  UnixMillis request_time = 0;
  std::optional<http::TargetUri> invalidate_target;
  std::string get_key;       // a POST's: where its response is stored if it answers a GET
  bool post_as_get = false;  // the POST's response is stored as the GET answer

  Waiter first = 0;
  bool has_first = false;
  struct Joiner {
    Waiter id;
    const http::Headers* headers;
  };
  std::vector<Joiner> joiners;

  bool head_known = false;
  bool storing = false;
  bool failed = false;
  int status = 0;
  http::Headers headers;
  UnixMillis response_time = 0;
  std::int64_t lifetime_ms = 0;
  std::int64_t initial_age_ms = 0;
  std::int64_t content_length = -1;
  bool complete = false;  // the whole body arrived
  Reason reason = Reason::none;
};

Cache::Cache(store::Store& store, FlowConfig cfg) : store_(store), cfg_(std::move(cfg)) {}
Cache::~Cache() = default;

Entry Cache::lookup(const std::string& key, const http::Headers& request_headers) {
  auto e = store_.find(key);
  if (e && e->is_vary_marker) {
    auto secondary = key::vary_key(e->headers, request_headers);
    if (!secondary) return nullptr;  // Vary: * never matches
    std::string variant = key;
    variant += kVariantSeparator;
    variant += *secondary;
    e = store_.find(variant);
  }
  return e;
}

bool Cache::store_entry(std::shared_ptr<StoredResponse> entry, const http::Headers& request_headers,
                        store::PartitionId partition) {
  return store_entry(std::move(entry), request_headers, partition, 0);
}

bool Cache::store_entry(std::shared_ptr<StoredResponse> entry, const http::Headers& request_headers,
                        store::PartitionId partition, std::uint64_t extra_charge) {
  std::string key = entry->key;
  if (entry->headers.has("vary")) {
    auto secondary = key::vary_key(entry->headers, request_headers);
    if (!secondary) return false;
    auto marker = std::make_shared<StoredResponse>();
    marker->key = key;
    marker->is_vary_marker = true;
    marker->status = entry->status;
    marker->headers.add("Vary", entry->headers.combined("vary"));
    std::string variant = key;
    variant += kVariantSeparator;
    variant += *secondary;
    entry->key = variant;
    auto marker_charge = marker->charge();
    Entry m = std::move(marker);
    store_.insert(partition, key, std::move(m), marker_charge, entry->tags);
    key = std::move(variant);
  }
  auto charge = entry->charge() + extra_charge;
  std::vector<std::string> tags = entry->tags;
  Entry e = std::move(entry);
  return store_.insert(partition, key, std::move(e), charge, tags);
}

std::size_t Cache::purge_url(const http::TargetUri& target, std::span<const key::KeyPolicy> policies) {
  std::set<std::string> prefixes;
  for (auto& p : policies) prefixes.insert(key::url_key_prefix(target, p));
  std::size_t n = 0;
  for (auto& p : prefixes) n += store_.erase_prefix(p);
  return n;
}

void Cache::remember_uncacheable(const std::string& key, UnixMillis now) {
  if (cfg_.hit_for_miss_ms <= 0) return;
  // Bounded: a flood of distinct uncacheable URLs must not grow this map without limit.
  if (uncacheable_.size() >= 100'000) {
    for (auto it = uncacheable_.begin(); it != uncacheable_.end();)
      it = it->second <= now ? uncacheable_.erase(it) : std::next(it);
    if (uncacheable_.size() >= 100'000) uncacheable_.clear();
  }
  uncacheable_[key] = now + cfg_.hit_for_miss_ms;
}

bool Cache::is_uncacheable(const std::string& key, UnixMillis now) {
  auto it = uncacheable_.find(key);
  if (it == uncacheable_.end()) return false;
  if (it->second > now) return true;
  uncacheable_.erase(it);
  return false;
}

FillId Cache::new_fill(const Txn& t, Entry stale, std::string_view fwd, Reason pre, bool keep_key,
                       bool coalesce, UnixMillis now) {
  auto f = std::make_unique<Fill>();
  f->id = next_fill_++;
  f->method = t.method;
  if (t.headers) f->request_headers = *t.headers;
  if (t.policy) f->policy = *t.policy;
  f->partition = t.partition;
  f->stale = std::move(stale);
  f->fwd = std::string(fwd);
  f->pre = pre;
  f->request_time = now;
  f->invalidate_target = t.target;
  if (t.method == "POST") f->get_key = t.get_key;
  f->first = t.id;
  f->has_first = true;
  if (keep_key) f->key = t.key;
  if (coalesce && !f->key.empty()) {
    inflight_[f->key] = f->id;
    f->registered = true;
  }
  FillId id = f->id;
  fills_.emplace(id, std::move(f));
  return id;
}

Action Cache::fetch_action(Txn& t, Entry stale, std::string_view fwd, Reason pre, bool keep_key,
                           bool coalesce, UnixMillis now) {
  Action a;
  a.kind = Action::Kind::fetch;
  a.entry = stale;
  a.fill = new_fill(t, std::move(stale), fwd, pre, keep_key, coalesce, now);
  auto& f = *fills_.at(a.fill);
  a.store = !f.key.empty();
  a.arm_timer = f.registered;
  t.fill = a.fill;
  t.phase = Phase::fetching;
  return a;
}

Action Cache::begin(Txn& t, UnixMillis now) {
  t.outcome = Outcome::none;
  t.reason = Reason::none;
  t.fill = 0;
  if (!t.lookup || !cfg_.cache_enabled || t.key.empty()) {
    // Not looked up: a rule (or --no-cache) turned caching off, or the method is not one we
    // answer from the store. Unsafe methods are written through (§4) and may invalidate (§4.4).
    t.outcome = Outcome::bypass;
    return fetch_action(t, nullptr, t.rule_bypass ? "bypass" : "method",
                        t.rule_bypass ? Reason::rule : Reason::none, false, false, now);
  }
  auto entry = lookup(t.key, *t.headers);
  if (!entry && cfg_.second_tier) {
    t.phase = Phase::lookup_pending;
    Action a;
    a.kind = Action::Kind::lookup;
    return a;
  }
  return after_lookup(t, std::move(entry), now);
}

Action Cache::lookup_done(Txn& t, Entry found, UnixMillis now) {
  if (t.phase != Phase::lookup_pending) return Action{};
  return after_lookup(t, std::move(found), now);
}

Action Cache::after_lookup(Txn& t, Entry entry, UnixMillis now) {
  const http::Headers& req = *t.headers;
  std::string_view fwd = "uri-miss";
  Entry stale;
  if (entry) {
    std::int64_t age = policy::current_age_ms(entry->corrected_initial_age_ms, entry->response_time, now);
    std::int64_t lifetime = entry->freshness_lifetime_ms;
    auto serve = policy::can_serve_stored(req, entry->cache_control, lifetime, age);
    if (serve != policy::Serve::must_validate) {
      t.phase = Phase::served;
      t.outcome = Outcome::hit;
      Action a;
      a.kind = Action::Kind::serve;
      a.entry = std::move(entry);
      a.cache_status = policy::cache_status_hit(ttl_seconds(lifetime - age));
      return a;
    }
    if (age >= lifetime && policy::may_serve_stale_while_revalidate(req, entry->headers, lifetime, age)) {
      // RFC 5861 §3: answer with the stale entry now, refresh it in the background (once).
      t.phase = Phase::served;
      t.outcome = Outcome::stale_while_revalidate;
      Action a;
      a.kind = Action::Kind::serve_stale_and_refresh;
      a.entry = entry;
      policy::CacheStatus cs;
      cs.hit = true;
      cs.ttl = -((age - lifetime + 999) / 1000);
      cs.detail = "stale-while-revalidate";
      a.cache_status = policy::format_cache_status(cs);
      if (!inflight_.count(t.key)) {
        Txn bg = t;
        bg.method = "GET";
        bg.id = 0;
        bg.target.reset();
        a.fill = new_fill(bg, entry, "stale", Reason::none, true, true, now);
        auto& f = *fills_.at(a.fill);
        f.background = true;
        f.has_first = false;
      }
      return a;
    }
    fwd = age >= lifetime ? "stale" : "request";
    stale = std::move(entry);
  }
  // RFC 9111 §5.2.1.7: only-if-cached and nothing usable stored.
  if (http::parse_cache_control(req).only_if_cached) {
    t.phase = Phase::done;
    t.outcome = Outcome::only_if_cached;
    Action a;
    a.kind = Action::Kind::answer;
    a.status = 504;
    a.detail = "only-if-cached: no usable stored response";
    a.cache_status = error_status("only-if-cached");
    return a;
  }
  bool uncacheable = is_uncacheable(t.key, now);
  if (req.has("range")) {
    // A Range miss is forwarded as it is: the 206 is never stored as the whole object, and the
    // stored full response (if any) is neither evicted nor replaced (RFC 9111 §3.3).
    return fetch_action(t, nullptr, fwd, Reason::range, false, false, now);
  }
  if (cfg_.coalesce && !uncacheable) {
    auto it = inflight_.find(t.key);
    if (it != inflight_.end() && joinable(it->second)) {
      auto& f = *fills_.at(it->second);
      f.joiners.push_back({t.id, t.headers});
      t.fill = f.id;
      t.phase = Phase::joined;
      Action a;
      a.kind = Action::Kind::join;
      a.fill = f.id;
      return a;
    }
  }
  if (t.method == "HEAD") {
    // A HEAD miss with nothing to join is forwarded as HEAD and not stored; the next GET fills the
    // entry that later HEADs are answered from.
    return fetch_action(t, nullptr, fwd, Reason::head, false, false, now);
  }
  return fetch_action(t, std::move(stale), fwd, Reason::none, true, cfg_.coalesce && !uncacheable, now);
}

Action Cache::restart(Txn& t, Reason why, UnixMillis now) {
  // Another request's fill will not answer this one: fetch on its own, joinable by nobody.
  return fetch_action(t, nullptr, "uri-miss", why, t.method != "HEAD", false, now);
}

bool Cache::joinable(FillId id) const {
  auto it = fills_.find(id);
  if (it == fills_.end()) return false;
  const Fill& f = *it->second;
  return f.registered && !f.failed && (!f.head_known || f.storing) && !f.stale;
}

bool Cache::storing(FillId id) const {
  auto it = fills_.find(id);
  return it != fills_.end() && it->second->storing;
}

void Cache::leave_inflight(Fill& f) {
  if (!f.registered) return;
  f.registered = false;
  auto it = inflight_.find(f.key);
  if (it != inflight_.end() && it->second == f.id) inflight_.erase(it);
}

std::vector<Waiter> Cache::release_joiners(Fill& f) {
  std::vector<Waiter> out;
  for (auto& j : f.joiners) out.push_back(j.id);
  f.joiners.clear();
  return out;
}

bool Cache::stale_if_error_allowed(const Fill& f, UnixMillis now) const {
  if (!f.stale) return false;
  std::int64_t age = policy::current_age_ms(f.stale->corrected_initial_age_ms, f.stale->response_time, now);
  std::int64_t lifetime = f.stale->freshness_lifetime_ms;
  if (policy::may_serve_stale_if_error(f.request_headers, f.stale->headers, lifetime, age)) return true;
  // The operator's --stale-if-error, unless the response forbids serving it stale.
  return f.policy.stale_if_error_ms > 0 && age - lifetime <= f.policy.stale_if_error_ms &&
         !policy::stale_forbidden(f.stale->cache_control);
}

HeadVerdict Cache::on_head(FillId id, int status, http::Headers& headers, UnixMillis now) {
  HeadVerdict v;
  auto it = fills_.find(id);
  if (it == fills_.end()) return v;
  Fill& f = *it->second;
  f.status = status;
  f.response_time = now;
  f.head_known = true;

  if (auto* cl = headers.find("content-length")) {
    if (auto n = parse_decimal(trim_ows(*cl))) f.content_length = *n;
  }
  v.content_length = f.content_length;
  http::remove_hop_by_hop(headers);
  // RFC 9110 §6.6.1: a recipient with a clock adds Date to a response that lacks one.
  // The age is computed from what the upstream sent: a Date we add ourselves has one-second
  // resolution and would age the response by up to a second it never spent anywhere.
  f.initial_age_ms = policy::corrected_initial_age_ms(headers, f.request_time, now);
  if (!headers.has("date")) headers.add("Date", http::format_http_date(now));
  std::string via = headers.combined("via");
  headers.set("Via", via.empty() ? "1.1 " + cfg_.via_name : via + ", 1.1 " + cfg_.via_name);

  if (f.stale && status == 304 && policy::not_modified_selects_validated(f.stale->headers, headers)) {
    // RFC 9111 §4.3.3: freshen the stored response with the 304's fields and serve it. The
    // conditional carried only this entry's validators (upstream_request drops the client's),
    // so a 304 that repeats none of them still answers for this entry (§4.3.4).
    auto refreshed = std::make_shared<StoredResponse>(*f.stale);
    http::Headers merged = f.stale->headers;
    policy::update_stored_headers(merged, headers, f.policy);
    refreshed->headers = std::move(merged);
    refreshed->request_time = f.request_time;
    refreshed->response_time = now;
    // The age comes from the 304 itself: a stale Age of the old response must not linger.
    refreshed->corrected_initial_age_ms = f.initial_age_ms;
    refreshed->freshness_lifetime_ms =
        policy::freshness_lifetime_ms(f.stale->status, refreshed->headers, now, f.policy);
    refreshed->cache_control = http::parse_cache_control(refreshed->headers);
    refreshed->head = serialize_stored_head(refreshed->status, refreshed->headers,
                                            refreshed->body ? refreshed->body->size() : 0);
    leave_inflight(f);
    // The 304 may have made the response unstorable (no-store, private): then serve it, keep nothing.
    auto verdict =
        policy::storability("GET", f.request_headers, refreshed->status, refreshed->headers, f.policy);
    std::string key = refreshed->key;
    auto charge = refreshed->charge();
    Entry entry = refreshed;
    if (verdict.storable)
      store_.insert(f.partition, key, entry, charge, refreshed->tags);
    else
      store_.erase(key);
    v.kind = HeadVerdict::Kind::serve_entry;
    v.entry = std::move(entry);
    v.cache_status = stale_status(304, verdict.storable, "revalidated");
    v.outcome = Outcome::revalidated;
    return v;
  }
  if (f.stale && status == 304) {
    // RFC 9111 §4.3.4: the 304 names another representation than the one we asked about, so it
    // cannot complete this request: ask again, unconditionally.
    f.head_known = false;
    f.stale.reset();
    f.content_length = -1;
    v.kind = HeadVerdict::Kind::refetch;
    return v;
  }
  if (f.stale && status >= 500 && stale_if_error_allowed(f, now)) {
    leave_inflight(f);
    v.kind = HeadVerdict::Kind::serve_entry;
    v.entry = f.stale;
    v.cache_status = stale_status(status, false, "stale-if-error");
    v.outcome = Outcome::stale_if_error;
    return v;
  }

  if (f.invalidate_target && policy::invalidates(f.method, status)) {
    // RFC 9111 §4.4: the target URI and same-origin Location / Content-Location.
    v.invalidate = policy::invalidation_targets(f.method, status, *f.invalidate_target, headers);
  }
  v.no_body = f.method == "HEAD" || status == 204 || status == 304 || (status >= 100 && status < 200);
  f.reason = f.pre;
  if (f.key.empty() && !f.get_key.empty() && f.invalidate_target && cfg_.cache_enabled &&
      policy::post_response_answers_get(status, headers, *f.invalidate_target) &&
      policy::storability("GET", f.request_headers, status, headers, f.policy).storable) {
    // RFC 9110 §9.3.3: the origin says this POST response is what a GET of the target returns.
    // Written after this request's own §4.4 invalidation of the target (executed at the head).
    f.key = f.get_key;
    f.post_as_get = true;
  }
  if (!f.key.empty() && cfg_.cache_enabled) {
    auto verdict = policy::storability(f.post_as_get ? std::string_view("GET") : std::string_view(f.method),
                                       f.request_headers, status, headers, f.policy);
    if (!verdict.storable) {
      f.reason = from_not_stored(verdict.reason);
    } else {
      f.lifetime_ms = policy::freshness_lifetime_ms(status, headers, now, f.policy);
      bool validators = headers.has("etag") || headers.has("last-modified");
      if (f.lifetime_ms <= 0 && !validators) {
        f.reason = Reason::no_freshness;
      } else if (f.content_length >= 0 &&
                 static_cast<std::uint64_t>(f.content_length) > cfg_.max_object_size) {
        f.reason = Reason::too_large;
      } else {
        f.storing = true;
        f.reason = Reason::none;
      }
    }
  }
  f.headers = headers;
  v.storing = f.storing;
  if (!f.storing) {
    if (!f.key.empty()) remember_uncacheable(f.key, now);
    v.uncacheable = !f.key.empty();
    leave_inflight(f);
    v.release = release_joiners(f);
    v.release_reason = f.reason == Reason::none ? Reason::not_stored : f.reason;
  } else if (headers.has("vary")) {
    // Joiners whose selecting fields differ from the first request's want another variant.
    auto first_variant = key::vary_key(headers, f.request_headers);
    std::vector<Fill::Joiner> keep;
    for (auto& j : f.joiners) {
      if (j.headers && key::vary_key(headers, *j.headers) == first_variant)
        keep.push_back(j);
      else
        v.release.push_back(j.id);
    }
    f.joiners = std::move(keep);
    v.release_reason = Reason::vary_miss;
  }
  return v;
}

bool Cache::on_body(FillId id, std::uint64_t total) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return false;
  Fill& f = *it->second;
  if (f.storing && total > cfg_.max_object_size) {
    f.storing = false;
    f.reason = Reason::too_large;
    leave_inflight(f);
    return false;
  }
  return f.storing;
}

std::shared_ptr<StoredResponse> Cache::complete_entry(Fill& f, std::uint64_t body_size) {
  leave_inflight(f);
  f.complete = true;
  if (!f.storing) return nullptr;
  // RFC 9111 §3.3: an incomplete body is never stored as if it were the whole response.
  if (f.content_length >= 0 && body_size != static_cast<std::uint64_t>(f.content_length)) {
    f.storing = false;
    f.reason = Reason::incomplete;
    return nullptr;
  }
  auto entry = std::make_shared<StoredResponse>();
  entry->key = f.key;
  entry->status = f.status;
  entry->headers = f.headers;
  entry->head = serialize_stored_head(f.status, entry->headers, body_size);
  entry->request_time = f.request_time;
  entry->response_time = f.response_time;
  entry->corrected_initial_age_ms = f.initial_age_ms;
  entry->freshness_lifetime_ms = f.lifetime_ms;
  entry->cache_control = http::parse_cache_control(entry->headers);
  collect_tags(*entry);
  return entry;
}

Entry Cache::on_complete(FillId id, std::string body, UnixMillis) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return nullptr;
  Fill& f = *it->second;
  auto entry = complete_entry(f, body.size());
  if (!entry) return nullptr;
  entry->body = std::make_shared<const std::string>(std::move(body));
  Entry out = entry;
  if (!store_entry(std::move(entry), f.request_headers, f.partition, 0)) {
    // Refused by the store (above its byte limit): served, not kept.
    f.storing = false;
    f.reason = Reason::too_large;
    return out;
  }
  uncacheable_.erase(f.key);
  return out;
}

bool Cache::on_complete_sized(FillId id, std::uint64_t body_size, UnixMillis) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return false;
  Fill& f = *it->second;
  auto entry = complete_entry(f, body_size);
  if (!entry) return false;
  if (!store_entry(std::move(entry), f.request_headers, f.partition, body_size)) {
    f.storing = false;
    f.reason = Reason::too_large;
    return false;
  }
  uncacheable_.erase(f.key);
  return true;
}

ErrorVerdict Cache::on_error(FillId id, FetchFailure kind, UnixMillis now) {
  ErrorVerdict v;
  auto it = fills_.find(id);
  if (it == fills_.end()) return v;
  Fill& f = *it->second;
  f.failed = true;
  f.storing = false;
  f.reason = Reason::upstream_error;
  leave_inflight(f);
  if (kind != FetchFailure::aborted && !f.head_known && stale_if_error_allowed(f, now)) {
    v.stale = f.stale;
    v.cache_status = stale_status(0, false, "stale-if-error");
    return v;
  }
  v.status = kind == FetchFailure::timeout ? 504 : kind == FetchFailure::denied ? 403 : 502;
  v.detail = kind == FetchFailure::timeout  ? "upstream-timeout"
             : kind == FetchFailure::denied ? "destination-denied"
                                            : "upstream-error";
  return v;
}

std::vector<Waiter> Cache::on_timer(FillId id, UnixMillis) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return {};
  Fill& f = *it->second;
  if (f.head_known) return {};
  // The upstream is slow to answer: let the joiners try on their own rather than wait forever,
  // and let later requests start their own fetch.
  leave_inflight(f);
  return release_joiners(f);
}

bool Cache::leave(FillId id, Waiter w) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return false;
  Fill& f = *it->second;
  if (f.has_first && f.first == w) f.has_first = false;
  f.joiners.erase(std::remove_if(f.joiners.begin(), f.joiners.end(), [&](auto& j) { return j.id == w; }),
                  f.joiners.end());
  bool anyone = f.has_first || !f.joiners.empty();
  if (anyone || f.background) return false;
  // Nobody waits any more: the transfer stops, and nobody may join it.
  f.failed = true;
  f.storing = false;
  leave_inflight(f);
  return true;
}

void Cache::finish(FillId id) {
  auto it = fills_.find(id);
  if (it == fills_.end()) return;
  leave_inflight(*it->second);
  fills_.erase(it);
}

std::string Cache::stream_cache_status(FillId id, Waiter w) const {
  auto it = fills_.find(id);
  if (it == fills_.end()) return std::string(policy::kCacheName);
  const Fill& f = *it->second;
  bool first = f.first == w;
  policy::CacheStatus cs;
  cs.fwd = first ? std::string_view(f.fwd) : std::string_view("uri-miss");
  cs.fwd_status = f.stale ? f.status : 0;
  // `stored` only once it is true: a head streamed before the body arrives cannot know whether the
  // body will arrive whole (an upstream cut mid-body, or a body of unknown length that turns out
  // too large, stores nothing), so until then it says detail=storing.
  cs.stored = f.storing && f.complete;
  cs.collapsed = !first;
  std::string_view detail = f.reason == Reason::none ? std::string_view() : to_string(f.reason);
  cs.detail = cs.stored ? std::string_view() : f.storing ? std::string_view("storing") : detail;
  return policy::format_cache_status(cs);
}

Outcome Cache::stream_outcome(FillId id, Waiter w, Reason& reason) const {
  reason = Reason::none;
  auto it = fills_.find(id);
  if (it == fills_.end()) return Outcome::error;
  const Fill& f = *it->second;
  if (f.fwd == "bypass" || f.fwd == "method") return Outcome::bypass;
  if (!f.storing) {
    reason = f.reason == Reason::none ? Reason::not_stored : f.reason;
    return Outcome::not_stored;
  }
  if (f.first != w) return Outcome::coalesced;
  return f.fwd == "stale" || f.fwd == "request" ? Outcome::expired : Outcome::miss;
}

Delivery deliver(const StoredResponse& entry, std::string_view method, const http::Headers& req,
                 UnixMillis now) {
  Delivery d;
  d.age_s = policy::age_header_seconds(
      policy::current_age_ms(entry.corrected_initial_age_ms, entry.response_time, now));
  d.status = entry.status;
  d.total = entry.body ? entry.body->size() : 0;
  bool get_or_head = method == "GET" || method == "HEAD";
  // RFC 9111 §4.3.2: the client's own If-None-Match / If-Modified-Since, answered from the store.
  if (entry.status == 200 && get_or_head &&
      policy::client_precondition_304(req, entry.headers, entry.status, entry.response_time)) {
    d.kind = Delivery::Kind::not_modified;
    d.status = 304;
    d.not_modified_fields = policy::not_modified_response_headers(entry.headers);
    return d;
  }
  // RFC 9110 §14: a single range of a stored full 200 is answered with 206 from the same bytes.
  if (entry.status == 200 && req.has("range")) {
    auto rr = http::evaluate_range_request(method, req, entry.headers, d.total);
    if (rr.decision == http::RangeDecision::partial) {
      d.kind = Delivery::Kind::partial;
      d.status = 206;
      d.first = rr.range.first;
      d.length = rr.range.size();
    } else if (rr.decision == http::RangeDecision::unsatisfiable) {
      d.kind = Delivery::Kind::unsatisfiable;
      d.status = 416;
    }
  }
  return d;
}

std::string interim_response(int status, const http::Headers& upstream_fields, bool client_http11,
                             std::string_view via_name) {
  if (status < 102 || status > 199 || !client_http11) return {};
  http::Headers fields = upstream_fields;
  http::remove_hop_by_hop(fields);
  std::string via = fields.combined("via");
  std::string ours = "1.1 " + std::string(via_name);
  fields.set("Via", via.empty() ? ours : via + ", " + ours);
  std::string out = "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += http::reason_phrase(status);
  out += "\r\n";
  for (auto& h : fields.fields()) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string serialize_stored_head(int status, const http::Headers& headers, std::size_t body_size) {
  std::string head = "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += http::reason_phrase(status);
  head += "\r\n";
  for (auto& h : headers.fields()) {
    // Age is generated per response (RFC 9111 §5.1); the length is the one we stored.
    if (iequals(h.name, "age") || iequals(h.name, "content-length")) continue;
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "Content-Length: ";
  head += std::to_string(body_size);
  head += "\r\n";
  return head;
}

}  // namespace cachefwd::cache::flow
