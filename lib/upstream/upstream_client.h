#pragma once
// The only place that uses libcurl: a CURLM driven by the proxy's libuv loop through the multi
// socket interface (../shared/style.md §2 and §11). Everything else sees fetches and events.
#include <uv.h>

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace cachefwd::upstream {

struct UpstreamOptions {
  std::int64_t connect_timeout_ms = 5'000;
  // No byte from the upstream for this long (while we are not holding it back) fails the fetch
  // with a timeout: covers both time-to-first-byte and a stalled body.
  std::int64_t idle_timeout_ms = 30'000;
  long max_connections = 256;  // CURLMOPT_MAXCONNECTS: idle upstream connections kept for reuse
  // Bytes of response head we accept, interim (1xx) heads and trailers included: beyond it the
  // fetch fails (502). Bounds memory per fetch and ends a storm of 1xx responses.
  std::size_t max_header_bytes = 64 * 1024;
};

struct FetchRequest {
  std::string method;
  std::string url;       // absolute http URL
  http::Headers headers;  // end-to-end fields to send, Host included
  std::string body;
  bool has_body = false;
  // Destination guard on the resolved address (SSRF): false refuses the connection and the fetch
  // ends with FetchError::denied. Empty = no check.
  std::function<bool(const sockaddr*)> address_check;
};

enum class FetchError { connect, timeout, protocol, aborted, denied };
std::string_view to_string(FetchError e);

class Fetch;

// Receives one fetch's events, on the loop thread. Calls happen from inside libcurl callbacks:
// a handler must not start or cancel fetches from on_response_head / on_body (cancel() is
// deferred safely if it does).
class FetchHandler {
 public:
  enum class BodyAction { consumed, pause, abort };
  virtual ~FetchHandler() = default;
  // An interim (1xx) response, as received, before the final one (RFC 9110 §15.2); its fields
  // are never part of the final response's. Ignored unless the handler forwards it.
  virtual void on_interim(int /*status*/, http::Headers /*headers*/) {}
  // The final (non-1xx) status and fields as received.
  virtual void on_response_head(int status, http::Headers headers) = 0;
  // `pause`: the bytes were NOT taken; they are delivered again after resume().
  virtual BodyAction on_body(std::string_view chunk) = 0;
  // Exactly one of these ends a fetch; the Fetch is gone after it returns.
  virtual void on_complete() = 0;
  virtual void on_error(FetchError kind, std::string_view message) = 0;
};

class UpstreamClient {
 public:
  UpstreamClient(uv_loop_t* loop, UpstreamOptions options);
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // Null when the transfer cannot even be set up (curl or libuv refused a handle): nothing was
  // started, and the handler will not be called.
  Fetch* start(FetchRequest request, FetchHandler* handler);
  // Stops the fetch; its handler is not called again.
  void cancel(Fetch* fetch);
  // Resumes a fetch whose handler returned `pause`.
  void resume(Fetch* fetch);
  // Tears down every fetch and idle connection; the loop must run once more afterwards to
  // deliver close callbacks.
  void shutdown();

  std::size_t active_fetches() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cachefwd::upstream
