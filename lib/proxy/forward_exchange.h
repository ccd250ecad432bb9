#pragma once
// One request forwarded upstream: streams the response to the client as it arrives and, when the
// response may be stored, into a new cache entry inserted on completion.
#include <memory>
#include <string>

#include "base/time.h"
#include "http/headers.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

class ClientConnection;

struct ExchangePlan {
  std::string key;            // cache key to store under (empty: never store)
  bool may_store = false;     // method and request allow storing
  std::string fwd_reason;     // RFC 9211 fwd= value: uri-miss, stale, method, request, bypass
  std::string detail;         // preset detail (e.g. why storing was ruled out by the request)
  bool head_request = false;  // the client asked HEAD: no body goes to it
  std::string method;
  http::Headers request_headers;  // as the client sent them, for storability (§3, §3.5)
  UnixMillis request_time = 0;
};

class ForwardExchange : public upstream::FetchHandler {
 public:
  ForwardExchange(ClientConnection& conn, ExchangePlan plan);
  ~ForwardExchange() override;

  void start(upstream::FetchRequest request);
  // The client went away: stop the upstream transfer.
  void cancel();
  // The client's write queue drained below the low-water mark.
  void on_client_drained();

  void on_response_head(int status, http::Headers headers) override;
  BodyAction on_body(std::string_view chunk) override;
  void on_complete() override;
  void on_error(upstream::FetchError kind, std::string_view message) override;

 private:
  void stop_storing(std::string_view reason);
  std::string build_stored_head(int status, const http::Headers& headers) const;

  ClientConnection& conn_;
  ExchangePlan plan_;
  upstream::Fetch* fetch_ = nullptr;
  bool done_ = false;
  bool head_sent_ = false;
  bool paused_ = false;
  bool chunked_to_client_ = false;
  bool close_delimited_ = false;
  bool no_body_ = false;
  int status_ = 0;
  std::int64_t content_length_ = -1;
  std::uint64_t body_bytes_ = 0;
  // storing
  bool storing_ = false;
  http::Headers stored_headers_;
  std::shared_ptr<std::string> body_;
  UnixMillis response_time_ = 0;
  std::int64_t lifetime_ms_ = 0;
};

}  // namespace cachefwd::proxy
