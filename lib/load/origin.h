#pragma once
// `cachefwd origin`: a fast HTTP/1.1 test origin whose every response is a function of the request
// target, so a workload is reproducible from its URL list alone (benchmarks, replay and the
// end-to-end tests all use it).
//
// URL scheme (any path; `/obj/<id>` by convention, <id> only changes the ETag). Query parameters:
//   size=N            body bytes (accepts 1KiB, 4MiB, ...); default --default-size (1024)
//   status=NNN        200..599, default 200 (204 and 304 carry no body)
//   max-age=S         Cache-Control: max-age=S       s-maxage=S   Cache-Control: s-maxage=S
//   no-store=1        Cache-Control: no-store        no-cache=1   Cache-Control: no-cache
//   private=1         Cache-Control: private         swr=S / sie=S  stale-while-revalidate / stale-if-error
//   cc=TEXT           Cache-Control: TEXT verbatim (percent-decoded), after the directives above
//   expires=S         Expires: Date + S seconds (may be negative)
//   etag=1            ETag: "<hash of path>-<size>-<ver>"; If-None-Match with it (or *) → 304
//   last-modified=T   Last-Modified: T (Unix seconds; 1 means a fixed 2026-01-01); If-Modified-Since
//                     at or after it → 304 (RFC 9110 §13.1.3)
//   ver=N             part of the ETag and the first body byte: bump it to model a changed object
//   vary=NAME         Vary: NAME
//   delay_ms=N        answer N ms later (pipelined responses stay in order)
//   close=1           Connection: close after this response
//   cache-status=TEXT Cache-Status: TEXT (percent-decoded): lets a test pose as a cache (RFC 9211)
// Unknown parameters are ignored (cache-busting `r=...` is fine); a malformed value is a 400.
// Every response carries Date, Content-Length (except 204) and X-Origin-Requests: the number of
// requests this origin has answered, this one included; X-Origin-Path echoes the target.
// GET /__origin/stats answers the counters as JSON; /__origin/reset zeroes them (neither counts).
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "load/address.h"

namespace cachefwd::load {

struct OriginOptions {
  std::uint64_t default_size = 1024;
  std::uint64_t max_size = 1ull << 30;  // a typo must not make the origin stream terabytes
};

// What a request target asks the origin for.
struct OriginSpec {
  std::string path;  // without the query
  std::uint64_t size = 0;
  int status = 200;
  std::int64_t max_age = -1, s_maxage = -1, swr = -1, sie = -1;
  bool no_store = false, no_cache = false, is_private = false;
  std::string cc;  // verbatim extra Cache-Control
  std::optional<std::int64_t> expires;
  bool etag = false;
  std::int64_t last_modified = 0;  // 0: none
  std::uint64_t ver = 0;
  std::string vary;
  std::string cache_status;
  std::int64_t delay_ms = 0;
  bool close = false;
  bool set_cookie = false;  // answers with a Set-Cookie (replay of a capture that had one)

  std::string cache_control() const;  // empty when no directive was asked for
  std::string etag_value() const;     // the quoted entity-tag
};

// Parses an origin-form (or absolute-form) target. On a malformed value returns nullopt and says
// why in *error.
std::optional<OriginSpec> parse_origin_target(std::string_view target, const OriginOptions& opts,
                                              std::string* error);

// Counters, readable from any thread while the origin runs.
struct OriginStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> status_2xx{0}, status_3xx{0}, status_4xx{0}, status_5xx{0};
  std::atomic<std::uint64_t> not_modified{0};
  std::atomic<std::uint64_t> head{0};
  std::atomic<std::uint64_t> body_bytes{0};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_open{0};
  void reset();
  std::string to_json() const;
};

// The server on a caller-owned loop. close() starts closing the listener and every connection;
// the object must outlive the loop run that completes those closes (Origin's destructor asserts
// nothing; it is the caller's loop).
class Origin {
 public:
  Origin(uv_loop_t* loop, OriginOptions opts = {});
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  // Binds and listens; port 0 picks an ephemeral one. Returns 0 or a negative uv error.
  int listen(const HostPort& where);
  std::uint16_t port() const { return port_; }
  void close();
  OriginStats& stats() { return stats_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  OriginStats stats_;
  std::uint16_t port_ = 0;
};

// An Origin on its own thread and loop: what `bench` embeds and the tests use.
class OriginThread {
 public:
  explicit OriginThread(OriginOptions opts = {});
  ~OriginThread();  // stops
  // Returns the bound port; throws std::runtime_error when it cannot listen.
  std::uint16_t start(const HostPort& where);
  void stop();
  OriginStats& stats();

 private:
  OriginOptions opts_;
  std::thread thread_;
  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  std::unique_ptr<Origin> origin_;
  bool running_ = false;
};

}  // namespace cachefwd::load
