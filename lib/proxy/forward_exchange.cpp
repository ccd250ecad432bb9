#include "proxy/forward_exchange.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "cache/policy/policy.h"
#include "cache/store/stored_response.h"
#include "http/hop_by_hop.h"
#include "http/http_date.h"
#include "http/status.h"
#include "proxy/client_connection.h"
#include "proxy/server.h"
#include "proxy/wall_clock.h"

namespace cachefwd::proxy {

namespace policy = cache::policy;

ForwardExchange::ForwardExchange(ClientConnection& conn, ExchangePlan plan)
    : conn_(conn), plan_(std::move(plan)) {}

ForwardExchange::~ForwardExchange() { cancel(); }

void ForwardExchange::start(upstream::FetchRequest request) {
  fetch_ = conn_.server().upstream().start(std::move(request), this);
}

void ForwardExchange::cancel() {
  if (done_) return;
  done_ = true;
  if (fetch_) conn_.server().upstream().cancel(fetch_);
  fetch_ = nullptr;
}

void ForwardExchange::on_client_drained() {
  if (!paused_ || done_ || !fetch_) return;
  paused_ = false;
  conn_.server().upstream().resume(fetch_);
}

void ForwardExchange::on_response_head(int status, http::Headers headers) {
  if (done_) return;
  auto& server = conn_.server();
  auto& cfg = server.config();
  status_ = status;
  response_time_ = wall_clock_now();

  if (auto* cl = headers.find("content-length")) {
    if (auto n = parse_decimal(trim_ows(*cl))) content_length_ = *n;
  }
  http::remove_hop_by_hop(headers);
  // RFC 9110 §6.6.1: a recipient with a clock adds Date to a response that lacks one.
  if (!headers.has("date")) headers.add("Date", http::format_http_date(response_time_));
  if (auto* via = headers.find("via")) {
    headers.set("Via", *via + ", 1.1 " + cfg.via_name);
  } else {
    headers.add("Via", "1.1 " + cfg.via_name);
  }
  no_body_ = plan_.head_request || status == 204 || status == 304 || (status >= 100 && status < 200);

  std::string_view detail = plan_.detail;
  if (plan_.may_store && cfg.cache_enabled) {
    auto verdict = policy::storability(plan_.method, plan_.request_headers, status, headers, cfg.policy);
    if (!verdict.storable) {
      detail = policy::to_string(verdict.reason);
    } else {
      lifetime_ms_ = policy::freshness_lifetime_ms(status, headers, response_time_, cfg.policy);
      if (lifetime_ms_ <= 0) {
        detail = policy::to_string(policy::NotStored::no_freshness);
      } else if (content_length_ >= 0 && static_cast<std::uint64_t>(content_length_) > cfg.max_object_size) {
        detail = policy::to_string(policy::NotStored::too_large);
        server.stats().too_large++;
      } else {
        storing_ = true;
        stored_headers_ = headers;
        body_ = std::make_shared<std::string>();
        if (content_length_ > 0) body_->reserve(static_cast<std::size_t>(content_length_));
      }
    }
  }
  if (!storing_ && !plan_.key.empty()) server.stats().not_stored++;

  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
  for (auto& h : headers.fields()) {
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "Cache-Status: ";
  head += policy::cache_status_fwd(plan_.fwd_reason, storing_, storing_ ? std::string_view{} : detail);
  head += "\r\n";
  bool close_after = !conn_.request_keep_alive();
  if (!no_body_ && content_length_ < 0) {
    // The upstream's body has no declared length: re-frame it for the client.
    if (conn_.request_http10()) {
      close_delimited_ = true;
      close_after = true;
    } else {
      chunked_to_client_ = true;
      head += "Transfer-Encoding: chunked\r\n";
    }
  }
  if (close_after) head += "Connection: close\r\n";
  else if (conn_.request_http10()) head += "Connection: keep-alive\r\n";
  head += "\r\n";
  head_sent_ = true;
  conn_.write({head});
}

upstream::FetchHandler::BodyAction ForwardExchange::on_body(std::string_view chunk) {
  if (done_) return BodyAction::abort;
  if (conn_.queued_bytes() >= ClientConnection::kHighWater) {
    // A slow client slows the upstream instead of growing our memory.
    paused_ = true;
    return BodyAction::pause;
  }
  body_bytes_ += chunk.size();
  if (storing_) {
    if (body_->size() + chunk.size() > conn_.server().config().max_object_size) {
      conn_.server().stats().too_large++;
      stop_storing("too-large");
    } else {
      body_->append(chunk);
    }
  }
  if (no_body_ || chunk.empty()) return BodyAction::consumed;
  if (chunked_to_client_) {
    char size_line[24];
    auto r = fmt::format_to_n(size_line, sizeof(size_line), "{:x}\r\n", chunk.size());
    conn_.write({std::string_view(size_line, r.size), chunk, "\r\n"});
  } else {
    conn_.write({chunk});
  }
  return BodyAction::consumed;
}

void ForwardExchange::stop_storing(std::string_view) {
  storing_ = false;
  body_.reset();
}

std::string ForwardExchange::build_stored_head(int status, const http::Headers& headers) const {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, http::reason_phrase(status));
  for (auto& h : headers.fields()) {
    // Age is generated per hit (RFC 9111 §5.1); the length is the one we stored.
    if (iequals(h.name, "age") || iequals(h.name, "content-length")) continue;
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += fmt::format("Content-Length: {}\r\n", body_ ? body_->size() : 0);
  return head;
}

void ForwardExchange::on_complete() {
  if (done_) return;
  done_ = true;
  fetch_ = nullptr;
  auto& server = conn_.server();
  if (chunked_to_client_) conn_.write({"0\r\n\r\n"});
  // RFC 9111 §3.3: an incomplete body is never stored as if it were the whole response.
  bool complete = content_length_ < 0 || body_bytes_ == static_cast<std::uint64_t>(content_length_);
  if (storing_ && complete) {
    auto entry = std::make_shared<cache::StoredResponse>();
    entry->key = plan_.key;
    entry->status = status_;
    entry->head = build_stored_head(status_, stored_headers_);
    entry->headers = std::move(stored_headers_);
    entry->body = std::move(body_);
    entry->request_time = plan_.request_time;
    entry->response_time = response_time_;
    entry->corrected_initial_age_ms =
        policy::corrected_initial_age_ms(entry->headers, plan_.request_time, response_time_);
    entry->freshness_lifetime_ms = lifetime_ms_;
    auto charge = entry->charge();
    std::string key = entry->key;
    if (server.store().insert(key, std::move(entry), charge)) server.stats().stored++;
  }
  conn_.response_done(close_delimited_);
}

void ForwardExchange::on_error(upstream::FetchError kind, std::string_view message) {
  if (done_) return;
  done_ = true;
  fetch_ = nullptr;
  if (kind == upstream::FetchError::aborted) return;
  conn_.server().stats().upstream_errors++;
  if (!head_sent_) {
    int status = kind == upstream::FetchError::timeout ? 504 : 502;
    std::string text = fmt::format("upstream {} error: {}", upstream::to_string(kind), message);
    conn_.send_error(status, text, kind == upstream::FetchError::timeout ? "upstream-timeout" : "upstream-error");
  } else {
    conn_.abort_response();
  }
}

}  // namespace cachefwd::proxy
