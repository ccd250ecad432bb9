#pragma once
// Request streams with HTTP semantics, for the HTTP-aware simulation and live replay: HAR 1.2
// exports (requests with their recorded responses) and access logs (cachefwd's combined+cache and
// JSON formats, nginx/Apache common and combined, read with metrics::parse_access_log_line).
//
// HAR files are parsed whole (nlohmann::json): they are one page load, kilobytes to a few MB. Access logs
// stream line by line with O(1) memory. Malformed lines (or HAR entries) are counted with their
// line (entry) numbers, never fatal; the caller decides whether --strict makes them so.
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"
#include "http/headers.h"
#include "replay/trace_reader.h"

namespace cachefwd::replay {

struct HttpRequest {
  std::string method;
  // Absolute http(s) URL (HAR, forward-proxy logs) or an origin-form target (nginx/Apache logs).
  std::string url;
  http::Headers request_headers;
  int status = 0;  // recorded response status
  http::Headers response_headers;
  bool has_response_headers = false;  // HAR: the recorded headers; logs: status only
  std::uint64_t size = 0;             // response body bytes
  UnixMillis time = 0;                // when the request started
  std::string recorded_cache_status;  // cachefwd logs: the Cache-Status it sent
  std::uint64_t line = 0;             // line (log) or entry (HAR) number, 1-based
};

enum class HttpFormat { kHar, kLog };
// "har"; "log" with its aliases "common", "combined", "cachefwd", "json".
std::optional<HttpFormat> parse_http_format(std::string_view name);
std::string_view http_format_name(HttpFormat f);
// Sniffs the first bytes of a file: a HAR document (a JSON object with a "log" member, possibly
// spanning lines), or an access log whose first non-empty line parse_access_log_line accepts.
// nullopt when neither.
std::optional<HttpFormat> sniff_http_format(std::string_view head);

class HttpReader {
 public:
  virtual ~HttpReader() = default;
  // Next request; false at the end of the input.
  virtual bool next(HttpRequest& out) = 0;
  const ReadErrors& errors() const { return errors_; }
  std::uint64_t position() const { return position_; }  // lines / entries consumed
  // Well-formed records that are not replayable requests (HAR: non-http(s) URLs such as data:,
  // and status 0, a request the browser never completed).
  std::uint64_t filtered() const { return filtered_; }
  // HAR: why the document as a whole could not be read (empty when it could).
  const std::string& document_error() const { return document_error_; }

 protected:
  ReadErrors errors_;
  std::string document_error_;
  std::uint64_t position_ = 0;
  std::uint64_t filtered_ = 0;
};

// `in` must outlive the reader. The HAR reader reads the whole stream on construction; a document
// that is not valid JSON (or has no log.entries array) counts as one bad record at the line of
// the error and yields nothing.
std::unique_ptr<HttpReader> make_http_reader(HttpFormat format, std::istream& in);

// RFC 3339 / ISO 8601 "2026-11-22T04:13:04.123+01:00" (HAR startedDateTime; 'Z' or an offset,
// fraction optional) in UTC milliseconds; nullopt when malformed.
std::optional<UnixMillis> parse_iso8601(std::string_view s);

// The request target that makes lib/load's origin (load/origin.h scheme) answer with the recorded
// response: path "/r/<host><path>", the original query folded into q=<hash> (so distinct URLs stay
// distinct keys without the origin reading their parameters), size=, status=, and from recorded
// headers cc= (Cache-Control verbatim), expires= (Expires - Date, in seconds), etag=1 and
// last-modified= (the recorded validators' presence; the origin makes its own, and answers a
// matching conditional with 304), vary= and set-cookie=1. A recorded 304
// (a browser revalidating its own copy) is answered as a 200: the proxy's client is not
// revalidating. nullopt when the status cannot be replayed (outside 200..599).
std::optional<std::string> embedded_origin_target(const HttpRequest& r);

// The request fields a replay sends (live) and the simulation sees: those that change what a cache
// does (Cache-Control, Pragma, Authorization) and what content negotiation an origin may vary on,
// but not Accept-Encoding (the driver does not decode bodies), cookies (session state) or the
// browser's own conditionals.
bool replayed_request_field(std::string_view name);
// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string percent_encode(std::string_view s);

}  // namespace cachefwd::replay

namespace cachefwd::replay {
// The status a replay answers with: the recorded one, except that a 304 becomes a 200 (see
// embedded_origin_target). The simulation uses the same mapping so both modes agree.
inline int replay_status(const HttpRequest& r) { return r.status == 304 ? 200 : r.status; }
}  // namespace cachefwd::replay
