#include "proxy/upstream_exchange.h"

#include <fmt/format.h>

#include <algorithm>

#include "http/status.h"
#include "proxy/client_connection.h"
#include "proxy/server.h"
#include "proxy/transaction.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

namespace flow = cache::flow;

namespace {
flow::FetchFailure failure_of(upstream::FetchError e) {
  switch (e) {
    case upstream::FetchError::connect:
      return flow::FetchFailure::connect;
    case upstream::FetchError::timeout:
      return flow::FetchFailure::timeout;
    case upstream::FetchError::protocol:
      return flow::FetchFailure::protocol;
    case upstream::FetchError::aborted:
      return flow::FetchFailure::aborted;
    case upstream::FetchError::denied:
      return flow::FetchFailure::denied;
    case upstream::FetchError::tls:
      return flow::FetchFailure::connect;  // no usable connection, like a refused one
  }
  return flow::FetchFailure::protocol;
}

void close_timer(uv_timer_t*& t) {
  if (!t) return;
  uv_close(reinterpret_cast<uv_handle_t*>(t),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  t = nullptr;
}

// A timer owned by `owner`, or null when libuv cannot make one (the caller then does without).
uv_timer_t* new_timer(uv_loop_t* loop, void* owner) {
  auto* t = new uv_timer_t;
  if (uv_timer_init(loop, t) != 0) {
    delete t;
    return nullptr;
  }
  t->data = owner;
  return t;
}
}  // namespace

void Subscription::proceed() { exchange->pump(this); }
void Subscription::stop() { exchange->unsubscribe(this); }

UpstreamExchange::UpstreamExchange(Server& server, flow::FillId fill, bool background,
                                   UnixMillis request_time)
    : server_(server), fill_(fill), background_(background), request_time_(request_time) {
  server_.exchanges()[fill_] = this;
}

UpstreamExchange::~UpstreamExchange() {
  server_.exchanges().erase(fill_);
  end_transfer();
  server_.flow().finish(fill_);
  close_timer(timer_);
  close_timer(restart_timer_);
}

void UpstreamExchange::end_transfer() {
  // Every way a transfer ends goes through here, so none leaves curl writing into us.
  fetch_done_ = true;
  if (fetch_) server_.upstream().cancel(fetch_);
  fetch_ = nullptr;
}

void UpstreamExchange::start(upstream::FetchRequest request, bool arm_timer) {
  request_copy_ = request;  // kept in case a 304 selects nothing and the request must be repeated
  if (arm_timer) {
    // Joiners wait for the response head at most this long, then go upstream themselves.
    timer_ = new_timer(server_.loop(), this);
    if (timer_)
      uv_timer_start(timer_, on_coalesce_timeout,
                     static_cast<std::uint64_t>(server_.config().coalesce_timeout_ms), 0);
  }
  fetch_ = server_.upstream().start(std::move(request), this);
  if (!fetch_) on_error(upstream::FetchError::protocol, "could not start the upstream transfer");
}

Subscription* UpstreamExchange::subscribe(Transaction* txn, flow::Waiter waiter, bool head_only,
                                          bool first) {
  auto sub = std::make_unique<Subscription>();
  sub->exchange = this;
  sub->txn = txn;
  sub->waiter = waiter;
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
  sub->txn = nullptr;
  // Nobody waits any more: stop the transfer, unless it refreshes the cache in the background.
  if (server_.flow().leave(fill_, sub->waiter) && !fetch_done_) end_transfer();
  trim_buffer();
  maybe_retire();
}

void UpstreamExchange::on_coalesce_timeout(uv_timer_t* t) {
  auto* self = static_cast<UpstreamExchange*>(t->data);
  self->release(self->server_.flow().on_timer(self->fill_, wall_clock_now()), flow::Reason::coalesce_timeout);
}

void UpstreamExchange::release(const std::vector<flow::Waiter>& waiters, flow::Reason why) {
  for (auto w : waiters) {
    for (auto& s : subs_) {
      if (s->waiter != w || s->finished || !s->txn) continue;
      Transaction* txn = s->txn;
      s->finished = true;
      s->txn = nullptr;
      txn->restart_uncoalesced(why);
    }
  }
}

void UpstreamExchange::serve_entry_to_all(const std::shared_ptr<const cache::StoredResponse>& entry,
                                          std::string_view cache_status, flow::Outcome outcome) {
  for (auto& s : subs_) {
    if (s->finished || !s->txn) continue;
    Transaction* txn = s->txn;
    s->finished = true;
    s->txn = nullptr;
    txn->serve_entry(entry, cache_status, outcome);
  }
}

void UpstreamExchange::on_restart(uv_timer_t* t) {
  auto* self = static_cast<UpstreamExchange*>(t->data);
  upstream::FetchRequest again = std::move(self->request_copy_);
  again.headers.remove("if-none-match");
  again.headers.remove("if-modified-since");
  self->fetch_done_ = false;
  self->fetch_ = self->server_.upstream().start(std::move(again), self);
  if (!self->fetch_) self->on_error(upstream::FetchError::protocol, "could not start the upstream transfer");
}

void UpstreamExchange::on_interim(int status, http::Headers headers) {
  // Only the request that went upstream gets the interim responses: a joiner's request was never
  // sent, so nothing was interim about it.
  for (auto& s : subs_) {
    if (!s->first || s->finished || !s->txn || s->head_sent) continue;
    std::string bytes =
        flow::interim_response(status, headers, !s->txn->request_http10(), server_.flow().config().via_name);
    if (!bytes.empty()) s->txn->write({bytes});
  }
}

void UpstreamExchange::on_response_head(int status, http::Headers headers) {
  if (fetch_done_) return;
  UnixMillis now = wall_clock_now();
  server_.stats().upstream_latency.observe((now - request_time_) * 1'000'000);
  auto v = server_.flow().on_head(fill_, status, headers, now);
  switch (v.kind) {
    case flow::HeadVerdict::Kind::refetch:
      // RFC 9111 §4.3.4: the 304 selects nothing we hold. This transfer ends here; the repeat
      // starts from the loop, outside curl's callback.
      end_transfer();
      if (!restart_timer_) restart_timer_ = new_timer(server_.loop(), this);
      if (!restart_timer_) {
        on_error(upstream::FetchError::protocol, "could not repeat the request unconditionally");
        return;
      }
      uv_timer_start(restart_timer_, on_restart, 0, 0);
      return;
    case flow::HeadVerdict::Kind::serve_entry:
      // A 304 freshened the stored entry, or the upstream failed and the stale one may be served:
      // the transfer is of no further use.
      end_transfer();
      if (v.outcome == flow::Outcome::revalidated)
        server_.stats().revalidated++;
      else
        server_.stats().stale_served++;
      serve_entry_to_all(v.entry, v.cache_status, v.outcome);
      maybe_retire();
      return;
    case flow::HeadVerdict::Kind::stream:
      break;
  }
  status_ = status;
  response_time_ = now;
  head_known_ = true;
  if (timer_) uv_timer_stop(timer_);
  content_length_ = v.content_length;
  no_body_ = v.no_body;
  storing_ = v.storing;
  if (storing_ && content_length_ > 0) body_.reserve(static_cast<std::size_t>(content_length_));
  if (!v.invalidate.empty()) {
    std::size_t removed = 0;
    for (auto& t : v.invalidate) removed += server_.purge_url(t);
    if (removed) server_.stats().invalidations++;
  }
  if (v.uncacheable) server_.stats().not_stored++;
  if (!storing_ && v.release_reason == flow::Reason::too_large) server_.stats().too_large++;
  head_fields_ = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
  for (auto& h : headers.fields()) {
    head_fields_ += h.name;
    head_fields_ += ": ";
    head_fields_ += h.value;
    head_fields_ += "\r\n";
  }
  release(v.release, v.release_reason);
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
}

void UpstreamExchange::send_head(Subscription& sub) {
  Transaction& txn = *sub.txn;
  std::string head = head_fields_;
  head += "Cache-Status: ";
  std::string cs_value = server_.flow().stream_cache_status(fill_, sub.waiter);
  head += cs_value;
  head += "\r\n";
  flow::Reason why;
  auto outcome = server_.flow().stream_outcome(fill_, sub.waiter, why);
  txn.note_response(status_, cs_value, outcome, why);
  txn.set_state(Transaction::State::streaming);
  txn.note_upstream_ms(static_cast<std::int64_t>(response_time_ - request_time_));
  bool close_after = !txn.request_keep_alive();
  bool bodyless = no_body_ || sub.head_only;
  if (!bodyless && content_length_ < 0) {
    // The upstream declared no length: re-frame the body for this client.
    if (txn.request_http10()) {
      sub.close_delimited = true;
      close_after = true;
    } else {
      sub.chunked = true;
      head += "Transfer-Encoding: chunked\r\n";
    }
  } else if (sub.head_only && !no_body_ && content_length_ < 0 && storing_ && complete_) {
    head += fmt::format("Content-Length: {}\r\n", body_total_);
  }
  if (close_after)
    head += "Connection: close\r\n";
  else if (txn.request_http10())
    head += "Connection: keep-alive\r\n";
  head += "\r\n";
  sub.head_sent = true;
  txn.write({head});
}

void UpstreamExchange::pump(Subscription* sub) {
  if (sub) pump(*sub);
}

void UpstreamExchange::pump(Subscription& sub) {
  if (sub.finished || !sub.txn || !head_known_) return;
  Transaction& txn = *sub.txn;
  if (!sub.head_sent) send_head(sub);
  if (sub.finished || !sub.txn) return;
  bool bodyless = no_body_ || sub.head_only;
  if (!bodyless) {
    while (sub.sent < body_total_ && txn.queued_bytes() < ClientConnection::kHighWater && !txn.closing()) {
      std::uint64_t from = sub.sent - body_base_;
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(body_total_ - sub.sent, 256 * 1024));
      std::string_view piece(body_.data() + from, n);
      if (sub.chunked) {
        char size_line[24];
        auto r = fmt::format_to_n(size_line, sizeof(size_line), "{:x}\r\n", n);
        txn.write({std::string_view(size_line, r.size), piece, "\r\n"});
      } else {
        txn.write({piece});
      }
      sub.sent += n;
      txn.note_body_bytes(n);
    }
    if (txn.closing()) return;
  }
  if (complete_ && (bodyless || sub.sent == body_total_)) finish_subscription(sub);
  trim_buffer();
  // A paused upstream resumes once every client has room again.
  if (paused_ && fetch_ && !fetch_done_) {
    bool room = std::all_of(subs_.begin(), subs_.end(), [](auto& s) {
      return s->finished || !s->txn || s->txn->queued_bytes() < ClientConnection::kLowWater;
    });
    if (room) {
      paused_ = false;
      server_.upstream().resume(fetch_);
    }
  }
}

void UpstreamExchange::finish_subscription(Subscription& sub) {
  Transaction* txn = sub.txn;
  sub.finished = true;
  sub.txn = nullptr;
  if (sub.chunked) txn->write({"0\r\n\r\n"});
  // The head said detail=storing; the access log and counters get what became of it (stored, or
  // not stored and why), now that the body is complete.
  flow::Reason why;
  const auto outcome = server_.flow().stream_outcome(fill_, sub.waiter, why);
  txn->note_response(status_, server_.flow().stream_cache_status(fill_, sub.waiter), outcome, why);
  txn->response_done(sub.close_delimited);
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

upstream::FetchHandler::BodyAction UpstreamExchange::on_body(std::string_view chunk) {
  if (fetch_done_) return BodyAction::abort;
  if (!storing_) {
    // Not storing: a slow client slows the upstream instead of growing our memory.
    for (auto& s : subs_) {
      if (!s->finished && s->txn && s->txn->queued_bytes() >= ClientConnection::kHighWater) {
        paused_ = true;
        return BodyAction::pause;
      }
    }
  } else if (!server_.flow().on_body(fill_, body_total_ + chunk.size())) {
    // Past --max-object-size: streamed on, not stored.
    storing_ = false;
    server_.stats().too_large++;
    trim_buffer();
  }
  body_.append(chunk);
  body_total_ += chunk.size();
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
  return BodyAction::consumed;
}

void UpstreamExchange::on_complete() {
  if (fetch_done_) return;
  fetch_done_ = true;
  fetch_ = nullptr;
  complete_ = true;
  if (timer_) uv_timer_stop(timer_);
  if (storing_) {
    auto entry = server_.flow().on_complete(fill_, std::move(body_), wall_clock_now());
    if (entry) {
      // Clients still being served read from the stored body from now on.
      body_.assign(*entry->body);
      if (server_.flow().storing(fill_)) server_.stats().stored++;
    } else {
      body_.clear();
      storing_ = false;
    }
  } else {
    server_.flow().on_complete(fill_, {}, wall_clock_now());
  }
  for (auto& s : subs_)
    if (!s->finished) pump(*s);
  maybe_retire();
}

void UpstreamExchange::on_error(upstream::FetchError kind, std::string_view message, std::string_view check) {
  if (fetch_done_) return;
  fetch_done_ = true;
  fetch_ = nullptr;
  if (timer_) uv_timer_stop(timer_);
  auto v = server_.flow().on_error(fill_, failure_of(kind), wall_clock_now());
  storing_ = false;
  if (kind == upstream::FetchError::aborted) {
    maybe_retire();
    return;
  }
  server_.stats().upstream_errors++;
  if (kind == upstream::FetchError::timeout) server_.stats().upstream_timeouts++;
  if (kind == upstream::FetchError::connect) server_.stats().upstream_connect_errors++;
  if (v.stale && !head_known_) {
    server_.stats().stale_served++;
    serve_entry_to_all(v.stale, v.cache_status, flow::Outcome::stale_if_error);
    maybe_retire();
    return;
  }
  std::string text = fmt::format("upstream {} error: {}", upstream::to_string(kind), message);
  for (auto& s : subs_) {
    if (s->finished || !s->txn) continue;
    Transaction* txn = s->txn;
    s->finished = true;
    s->txn = nullptr;
    if (!s->head_sent)
      txn->send_error(v.status, text, check.empty() ? v.detail : check);  // a TLS failure says which check
    else
      txn->abort_response();
  }
  maybe_retire();
}

void UpstreamExchange::maybe_retire() {
  if (retired_ || !fetch_done_) return;
  if (restart_timer_ && uv_is_active(reinterpret_cast<uv_handle_t*>(restart_timer_))) return;
  if (std::any_of(subs_.begin(), subs_.end(), [](auto& s) { return !s->finished; })) return;
  retired_ = true;
  server_.retire(this);
}

}  // namespace cachefwd::proxy
