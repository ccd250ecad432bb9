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

// How fetches to https:// URLs verify and present certificates (libcurl's OpenSSL).
struct TlsOptions {
  std::string ca;         // CA bundle file or hashed directory; empty = the system store
  bool insecure = false;  // no peer or host name verification at all
  std::string cert, key;  // client certificate and key (PEM) for mutual TLS
  // Send this name in SNI and verify the certificate against it instead of the URL's host, for
  // URLs whose host:port is `sni_for_host`:`sni_for_port` (the gateway's --upstream only).
  std::string sni;
  std::string sni_for_host;
  std::uint16_t sni_for_port = 0;
};

enum class Http2Mode { off, automatic, on };  // automatic: ALPN on TLS; on: also prior knowledge on http

struct UpstreamOptions {
  std::int64_t connect_timeout_ms = 5'000;
  // No byte from the upstream for this long (while we are not holding it back) fails the fetch
  // with a timeout: covers both time-to-first-byte and a stalled body.
  std::int64_t idle_timeout_ms = 30'000;
  long max_connections = 256;  // CURLMOPT_MAXCONNECTS: idle upstream connections kept for reuse
  // Bytes of response head we accept, interim (1xx) heads and trailers included: beyond it the
  // fetch fails (502). Bounds memory per fetch and ends a storm of 1xx responses.
  std::size_t max_header_bytes = 64 * 1024;
  TlsOptions tls;
  Http2Mode http2 = Http2Mode::automatic;
};

// What the connection pool did, summed over finished transfers (monotonic).
struct UpstreamCounters {
  std::uint64_t transfers = 0;           // ended with a complete response head
  std::uint64_t connections_opened = 0;  // sockets curl opened (each a TCP connect)
  std::uint64_t connections_reused = 0;  // transfers that needed no new connection
  std::uint64_t tls_handshakes = 0;      // new https connections (a handshake, full or resumed)
  std::uint64_t h2_streams = 0;          // transfers carried as an HTTP/2 stream
  std::uint64_t tls_errors = 0;          // fetches failed on a TLS check
};

struct FetchRequest {
  std::string method;
  std::string url;        // absolute http or https URL
  http::Headers headers;  // end-to-end fields to send, Host included
  std::string body;
  bool has_body = false;
  // Destination guard on the resolved address (SSRF): false refuses the connection and the fetch
  // ends with FetchError::denied. Empty = no check.
  std::function<bool(const sockaddr*)> address_check;
};

// tls: the handshake or a certificate check failed; the handler's `check` names which.
enum class FetchError { connect, timeout, protocol, aborted, denied, tls };
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
  // `check` is a short token for a TLS failure ("tls-untrusted-cert", "tls-hostname-mismatch",
  // ...), usable as a Cache-Status detail; empty otherwise.
  virtual void on_error(FetchError kind, std::string_view message, std::string_view check) = 0;
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
  const UpstreamCounters& counters() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cachefwd::upstream
