#include "proxy/upstream_exchange.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "cache/policy/policy.h"
#include "http/hop_by_hop.h"
#include "http/http_date.h"
#include "http/status.h"
#include "proxy/client_connection.h"
#include "proxy/server.h"
#include "proxy/vary.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

namespace policy = cache::policy;

namespace {
std::string stale_status(int fwd_status, bool stored, std::string_view detail) {
  policy::CacheStatus cs;
  cs.fwd = "stale";
  cs.fwd_status = fwd_status;
  cs.stored = stored;
  cs.detail = detail;
  return policy::format_cache_status(cs);
}

}  // namespace

UpstreamExchange::UpstreamExchange(Server& server, FetchPlan plan) : server_(server), plan_(std::move(plan)) {
  server_.exchanges().insert(this);
  if (plan_.coalesce && !plan_.key.empty()) {
    server_.inflight()[plan_.key] = this;
    in_inflight_ = true;
    // Joiners wait for the response head at most this long, then go upstream themselves.
    coalesce_timer_ = new uv_timer_t;
    uv_timer_init(server_.loop(), coalesce_timer_);
    coalesce_timer_->data = this;
    uv_timer_start(coalesce_timer_, on_coalesce_timeout,
                   static_cast<std::uint64_t>(server_.config().coalesce_timeout_ms), 0);
  }
}

UpstreamExchange::~UpstreamExchange() {
  server_.exchanges().erase(this);
  leave_inflight();
  if (fetch_ && !fetch_done_) server_.upstream().cancel(fetch_);
  if (coalesce_timer_) {
    uv_close(reinterpret_cast<uv_handle_t*>(coalesce_timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
}

void UpstreamExchange::leave_inflight() {
  if (!in_inflight_) return;
  in_inflight_ = false;
  auto& map = server_.inflight();
  auto it = map.find(plan_.key);
  if (it != map.end() && it->second == this) map.erase(it);
  if (coalesce_timer_) uv_timer_stop(coalesce_timer_);
}

void UpstreamExchange::start(upstream::FetchRequest request) {
  if (plan_.stale) request_copy_ = request;  // kept in case the 304 cannot be used
  fetch_ = server_.upstream().start(std::move(request), this);
}

Subscription* UpstreamExchange::subscribe(ClientConnection* conn, bool head_only, bool first) {
  auto sub = std::make_unique<Subscription>();
  sub->exchange = this;
  sub->conn = conn;
  sub->first = first;
  sub->head_only = head_only;
  Subscription* raw = sub.get();
  subs_.push_back(std::move(sub));
  if (!first) server_.stats().coalesced++;
  if (head_known_) pump(*raw);
  return raw;
}

void UpstreamExchange::unsubscribe(Subscription* sub) {
  sub->finished = true;
  sub->conn = nullptr;
  bool anyone = std::any_of(subs_.begin(), subs_.end(), [](auto& s) { return !s->finished; });
  // Nobody waits any more: stop the transfer, unless it refreshes the cache in the background.
  if (!anyone && !plan_.background && !fetch_done_) {
    fetch_done_ = true;
    failed_ = true;
    leave_inflight();
    if (fetch_) server_.upstream().cancel(fetch_);
    fetch_ = nullptr;
  }
  trim_buffer();
  maybe_retire();
}

void UpstreamExchange::on_coalesce_timeout(uv_timer_t* t) {
  auto* self = static_cast<UpstreamExchange*>(t->data);
  if (self->head_known_) return;
  // The upstream is slow to answer: let the joiners try on their own rather than wait forever,
  // and let later requests start their own fetch.
  self->leave_inflight();
  self->release_joiners("coalesce-timeout");
}

void UpstreamExchange::release_joiners(std::string_view detail) {
  for (auto& s : subs_) {
    if (s->first || s->finished || !s->conn) continue;
    ClientConnection* conn = s->conn;
    s->finished = true;
    s->conn = nullptr;
    conn->restart_uncoalesced(detail);
  }
}

bool UpstreamExchange::stale_if_error_allowed() const {
  if (!plan_.stale) return false;
  UnixMillis now = wall_clock_now();
  std::int64_t age = policy::current_age_ms(plan_.stale->corrected_initial_age_ms, plan_.stale->response_time, now);
  std::int64_t lifetime = plan_.stale->freshness_lifetime_ms;
  if (policy::may_serve_stale_if_error(plan_.request_headers, plan_.stale->headers, lifetime, age)) return true;
  // The operator's --stale-if-error, unless the response forbids serving it stale.
  return plan_.policy.stale_if_error_ms > 0 && age - lifetime <= plan_.policy.stale_if_error_ms &&
         !policy::stale_forbidden(plan_.stale->cache_control);
}

void UpstreamExchange::serve_entry_to_all(const std::shared_ptr<const cache::StoredResponse>& entry,
                                          std::string_view cache_status) {
  for (auto& s : subs_) {
    if (s->finished || !s->conn) continue;
    ClientConnection* conn = s->conn;
    s->finished = true;
    s->conn = nullptr;
    conn->serve_entry(entry, cache_status);
  }
}

void UpstreamExchange::on_response_head(int status, http::Headers headers) {
  if (fetch_done_) return;
  auto& cfg = server_.config();
  status_ = status;
  response_time_ = wall_clock_now();
  head_known_ = true;
  server_.stats().upstream_latency.observe((response_time_ - plan_.request_time) * 1'000'000);
  if (coalesce_timer_) uv_timer_stop(coalesce_timer_);

  if (auto* cl = headers.find("content-length")) {
    if (auto n = parse_decimal(trim_ows(*cl))) content_length_ = *n;
  }
  http::remove_hop_by_hop(headers);
  // RFC 9110 §6.6.1: a recipient with a clock adds Date to a response that lacks one.
  // The age is computed from what the upstream sent: a Date we add ourselves has one-second
  // resolution and would age the response by up to a second it never spent anywhere.
  initial_age_ms_ = policy::corrected_initial_age_ms(headers, plan_.request_time, response_time_);
  if (!headers.has("date")) headers.add("Date", http::format_http_date(response_time_));
  std::string via = headers.combined("via");
  headers.set("Via", via.empty() ? "1.1 " + cfg.via_name : via + ", 1.1 " + cfg.via_name);

  if (plan_.stale && status == 304 && policy::not_modified_selects(plan_.stale->headers, headers)) {
    // RFC 9111 §4.3.3: freshen the stored response with the 304's fields and serve it.
    auto refreshed = std::make_shared<cache::StoredResponse>(*plan_.stale);
    http::Headers merged = plan_.stale->headers;
    policy::update_stored_headers(merged, headers, plan_.policy);
    refreshed->headers = std::move(merged);
    refreshed->request_time = plan_.request_time;
    refreshed->response_time = response_time_;
    // The age comes from the 304 itself: a stale Age of the old response must not linger.
    refreshed->corrected_initial_age_ms = initial_age_ms_;
    refreshed->freshness_lifetime_ms =
        policy::freshness_lifetime_ms(plan_.stale->status, refreshed->headers, response_time_, plan_.policy);
    refreshed->cache_control = http::parse_cache_control(refreshed->headers);
    refreshed->head =
        serialize_stored_head(refreshed->status, refreshed->headers, refreshed->body ? refreshed->body->size() : 0);
    server_.stats().revalidated++;
    fetch_done_ = true;
    leave_inflight();
    // The 304 may have made the response unstorable (no-store, private): then serve it, keep nothing.
    auto verdict = policy::storability("GET", plan_.request_headers, refreshed->status, refreshed->headers, plan_.policy);
    std::string key = refreshed->key;
    auto charge = refreshed->charge();
    std::shared_ptr<const cache::StoredResponse> entry = refreshed;
    if (verdict.storable) server_.store().insert(plan_.partition, key, entry, charge, refreshed->tags);
    else server_.store().erase(key);
    serve_entry_to_all(entry, stale_status(304, verdict.storable, "revalidated"));
    maybe_retire();
    return;
  }
  if (plan_.stale && status == 304) {
    // RFC 9111 §4.3.4: the 304 selects no stored response (its validators do not match ours), so
    // it cannot complete this request: ask again, unconditionally.
    server_.upstream().cancel(fetch_);
    head_known_ = false;
    plan_.stale.reset();
    upstream::FetchRequest again = std::move(request_copy_);
    again.headers.remove("if-none-match");
    again.headers.remove("if-modified-since");
    fetch_ = server_.upstream().start(std::move(again), this);
    return;
  }
  if (plan_.stale && status >= 500 && stale_if_error_allowed()) {
    fetch_done_ = true;
    leave_inflight();
    if (fetch_) server_.upstream().cancel(fetch_);
    fetch_ = nullptr;
    server_.stats().stale_served++;
    serve_entry_to_all(plan_.stale, stale_status(status, false, "stale-if-error"));
    maybe_retire();
    return;
  }

  if (plan_.invalidate_target && policy::invalidates(plan_.method, status)) {
    // RFC 9111 §4.4: the target URI and same-origin Location / Content-Location.
    std::size_t removed = 0;
    for (auto& t : policy::invalidation_targets(plan_.method, status, *plan_.invalidate_target, headers))
      removed += server_.purge_url(t);
    if (removed) server_.stats().invalidations++;
  }
  no_body_ = plan_.method == "HEAD" || status == 204 || status == 304 || (status >= 100 && status < 200);
  std::string_view detail = plan_.detail;
  if (!plan_.key.empty() && cfg.cache_enabled) {
    auto verdict = policy::storability(plan_.method, plan_.request_headers, status, headers, plan_.policy);
    if (!verdict.storable) {
      detail = policy::to_string(verdict.reason);
    } else {
      lifetime_ms_ = policy::freshness_lifetime_ms(status, headers, response_time_, plan_.policy);
      bool validators = headers.has("etag") || headers.has("last-modified");
      if (lifetime_ms_ <= 0 && !validators) {
        detail = policy::to_string(policy::NotStored::no_freshness);
      } else if (content_length_ >= 0 && static_cast<std::uint64_t>(content_length_) > plan_.max_object_size) {
        detail = policy::to_string(policy::NotStored::too_large);
        server_.stats().too_large++;
      } else {
        storing_ = true;
        if (content_length_ > 0) body_.reserve(static_cast<std::size_t>(content_length_));
      }
    }
  }
  cache_status_detail_ = std::string(detail);
  headers_ = std::move(headers);
  head_fields_ = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
  for (auto& h : headers_.fields()) {
    head_fields_ += h.name;
    head_fields_ += ": ";
    head_fields_ += h.value;
    head_fields_ += "\r\n";
  }
  if (!storing_) {
    if (!plan_.key.empty()) {
      server_.stats().not_stored++;
      server_.remember_uncacheable(plan_.key, response_time_);
    }
    leave_inflight();
    release_joiners(detail.empty() ? "not-stored" : detail);
  } else if (headers_.has("vary")) {
    // Joiners whose selecting fields differ from the first request's want another variant.
    std::string first_variant = vary_value(headers_, plan_.request_headers);
    for (auto& s : subs_) {
      if (s->first || s->finished || !s->conn) continue;
      if (vary_value(headers_, s->conn->current_request().headers) == first_variant) continue;
      ClientConnection* conn = s->conn;
      s->finished = true;
      s->conn = nullptr;
      conn->restart_uncoalesced("vary-miss");
    }
  }
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
}

void UpstreamExchange::send_head(Subscription& sub) {
  ClientConnection& conn = *sub.conn;
  std::string head = head_fields_;
  head += "Cache-Status: ";
  policy::CacheStatus cs;
  cs.fwd = sub.first ? std::string_view(plan_.fwd) : std::string_view("uri-miss");
  cs.fwd_status = plan_.stale ? status_ : 0;
  // `stored` only once it is true: a head streamed before the body arrives cannot know whether
  // the body will arrive whole (an upstream cut mid-body stores nothing), so it says `storing`.
  cs.stored = stored_;
  cs.collapsed = !sub.first;
  cs.detail = stored_    ? std::string_view()
              : storing_ ? std::string_view("storing")
                         : std::string_view(cache_status_detail_);
  std::string cs_value = policy::format_cache_status(cs);
  head += cs_value;
  head += "\r\n";
  conn.note_response(status_, cs_value, false);
  conn.note_upstream_ms(static_cast<std::int64_t>(response_time_ - plan_.request_time));
  bool close_after = !conn.request_keep_alive();
  bool bodyless = no_body_ || sub.head_only;
  if (!bodyless && content_length_ < 0) {
    // The upstream declared no length: re-frame the body for this client.
    if (conn.request_http10()) {
      sub.close_delimited = true;
      close_after = true;
    } else {
      sub.chunked = true;
      head += "Transfer-Encoding: chunked\r\n";
    }
  } else if (sub.head_only && !no_body_ && content_length_ < 0 && storing_ && complete_) {
    head += fmt::format("Content-Length: {}\r\n", body_total_);
  }
  if (close_after) head += "Connection: close\r\n";
  else if (conn.request_http10()) head += "Connection: keep-alive\r\n";
  head += "\r\n";
  sub.head_sent = true;
  conn.write({head});
}

void UpstreamExchange::pump(Subscription* sub) {
  if (sub) pump(*sub);
}

void UpstreamExchange::pump(Subscription& sub) {
  if (sub.finished || !sub.conn || !head_known_) return;
  ClientConnection& conn = *sub.conn;
  if (!sub.head_sent) send_head(sub);
  if (sub.finished || !sub.conn) return;
  bool bodyless = no_body_ || sub.head_only;
  if (!bodyless) {
    while (sub.sent < body_total_ && conn.queued_bytes() < ClientConnection::kHighWater && !conn.closing()) {
      std::uint64_t from = sub.sent - body_base_;
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(body_total_ - sub.sent, 256 * 1024));
      std::string_view piece(body_.data() + from, n);
      if (sub.chunked) {
        char size_line[24];
        auto r = fmt::format_to_n(size_line, sizeof(size_line), "{:x}\r\n", n);
        conn.write({std::string_view(size_line, r.size), piece, "\r\n"});
      } else {
        conn.write({piece});
      }
      sub.sent += n;
      conn.note_body_bytes(n);
    }
    if (conn.closing()) return;
  }
  if (complete_ && (bodyless || sub.sent == body_total_)) finish_subscription(sub);
  trim_buffer();
  // A paused upstream resumes once every client has room again.
  if (paused_ && fetch_ && !fetch_done_) {
    bool room = std::all_of(subs_.begin(), subs_.end(), [](auto& s) {
      return s->finished || !s->conn || s->conn->queued_bytes() < ClientConnection::kLowWater;
    });
    if (room) {
      paused_ = false;
      server_.upstream().resume(fetch_);
    }
  }
}

void UpstreamExchange::finish_subscription(Subscription& sub) {
  ClientConnection* conn = sub.conn;
  sub.finished = true;
  sub.conn = nullptr;
  if (sub.chunked) conn->write({"0\r\n\r\n"});
  conn->response_done(sub.close_delimited);
  maybe_retire();
}

void UpstreamExchange::trim_buffer() {
  // While storing, the buffer becomes the entry's body; otherwise keep only what some client has
  // not been sent yet, so an uncacheable body is never held whole.
  if (storing_) return;
  std::uint64_t low = body_total_;
  for (auto& s : subs_)
    if (!s->finished) low = std::min(low, s->sent);
  if (low > body_base_) {
    body_.erase(0, static_cast<std::size_t>(low - body_base_));
    body_base_ = low;
  }
}

void UpstreamExchange::stop_storing() {
  storing_ = false;
  server_.stats().too_large++;
  trim_buffer();
}

upstream::FetchHandler::BodyAction UpstreamExchange::on_body(std::string_view chunk) {
  if (fetch_done_) return BodyAction::abort;
  if (!storing_) {
    // Not storing: a slow client slows the upstream instead of growing our memory.
    for (auto& s : subs_) {
      if (!s->finished && s->conn && s->conn->queued_bytes() >= ClientConnection::kHighWater) {
        paused_ = true;
        return BodyAction::pause;
      }
    }
  } else if (body_total_ + chunk.size() > plan_.max_object_size) {
    stop_storing();
  }
  body_.append(chunk);
  body_total_ += chunk.size();
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
  return BodyAction::consumed;
}

std::shared_ptr<cache::StoredResponse> UpstreamExchange::build_entry() {
  auto entry = std::make_shared<cache::StoredResponse>();
  entry->key = plan_.key;
  entry->status = status_;
  entry->headers = headers_;
  entry->body = std::make_shared<const std::string>(std::move(body_));
  body_.clear();
  entry->head = serialize_stored_head(status_, entry->headers, entry->body->size());
  entry->request_time = plan_.request_time;
  entry->response_time = response_time_;
  entry->corrected_initial_age_ms = initial_age_ms_;
  entry->freshness_lifetime_ms = lifetime_ms_;
  entry->cache_control = http::parse_cache_control(entry->headers);
  for (const char* field : {"cache-tag", "surrogate-key"}) {
    std::string v = entry->headers.combined(field);
    // Cache-Tag is comma-separated, Surrogate-Key space-separated: accept both.
    for (auto& c : v)
      if (c == ',') c = ' ';
    std::size_t pos = 0;
    while (pos < v.size()) {
      auto end = v.find(' ', pos);
      if (end == std::string::npos) end = v.size();
      if (end > pos) entry->tags.emplace_back(v.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  return entry;
}

void UpstreamExchange::on_complete() {
  if (fetch_done_) return;
  fetch_done_ = true;
  fetch_ = nullptr;
  complete_ = true;
  leave_inflight();
  // RFC 9111 §3.3: an incomplete body is never stored as if it were the whole response.
  bool whole = content_length_ < 0 || body_total_ == static_cast<std::uint64_t>(content_length_);
  if (storing_ && whole) {
    auto entry = build_entry();
    // Clients still being served read from the stored body from now on.
    body_.assign(*entry->body);
    server_.store_response(std::move(entry), plan_.request_headers, plan_.partition);
    stored_ = true;
    server_.forget_uncacheable(plan_.key);
  }
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
  maybe_retire();
}

void UpstreamExchange::on_error(upstream::FetchError kind, std::string_view message) {
  if (fetch_done_) return;
  fetch_done_ = true;
  fetch_ = nullptr;
  failed_ = true;
  leave_inflight();
  if (kind == upstream::FetchError::aborted) {
    maybe_retire();
    return;
  }
  server_.stats().upstream_errors++;
  if (kind == upstream::FetchError::timeout) server_.stats().upstream_timeouts++;
  if (kind == upstream::FetchError::connect) server_.stats().upstream_connect_errors++;
  if (!head_known_ && stale_if_error_allowed()) {
    server_.stats().stale_served++;
    serve_entry_to_all(plan_.stale, stale_status(0, false, "stale-if-error"));
    maybe_retire();
    return;
  }
  int status = kind == upstream::FetchError::timeout ? 504 : kind == upstream::FetchError::denied ? 403 : 502;
  std::string text = fmt::format("upstream {} error: {}", upstream::to_string(kind), message);
  for (auto& s : subs_) {
    if (s->finished || !s->conn) continue;
    ClientConnection* conn = s->conn;
    s->finished = true;
    s->conn = nullptr;
    if (!s->head_sent)
      conn->send_error(status, text,
                       kind == upstream::FetchError::timeout  ? "upstream-timeout"
                       : kind == upstream::FetchError::denied ? "destination-denied"
                                                              : "upstream-error");
    else conn->abort_response();
  }
  maybe_retire();
}

void UpstreamExchange::maybe_retire() {
  if (retired_ || !fetch_done_) return;
  if (std::any_of(subs_.begin(), subs_.end(), [](auto& s) { return !s->finished; })) return;
  retired_ = true;
  server_.retire(this);
}

std::string serialize_stored_head(int status, const http::Headers& headers, std::size_t body_size) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
  for (auto& h : headers.fields()) {
    // Age is generated per response (RFC 9111 §5.1); the length is the one we stored.
    if (iequals(h.name, "age") || iequals(h.name, "content-length")) continue;
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += fmt::format("Content-Length: {}\r\n", body_size);
  return head;
}

}  // namespace cachefwd::proxy
