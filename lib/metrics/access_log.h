#pragma once
// Access log lines (issue #4 "Access log"): one line per response, in the combined log format
// extended with the cache status and upstream time, or as one JSON object per line; and the parser
// `cachefwd replay` uses to read such logs back, which also reads plain common/combined logs written
// by nginx and Apache. Pure: lines are formatted from and parsed into values; times are handed in.
//
// combined:
//   127.0.0.1 - - [22/Nov/2026:04:13:04 +0000] "GET /a?b=1 HTTP/1.1" 200 1234 "-" "curl/8.5.0" cache=hit
//   upstream_ms=-
// That is Apache/nginx `%h - - [%d/%b/%Y:%H:%M:%S +0000] "%r" %>s %b "%{Referer}i" "%{User-agent}i"`
// (time in UTC, %b written as a number even when 0, as nginx's $body_bytes_sent does) plus two
// trailing fields, which combined-log parsers ignore. Bytes that would break the line's structure
// are written as \xHH, as nginx does: '"', '\\', control characters and bytes above 0x7E in the
// request line and header fields, and additionally spaces in the unquoted fields (client address,
// cache status) and inside the method and target. An empty field is "-". The time has one-second
// resolution (milliseconds are truncated towards the past); total_ms and key exist only in json.
//
// json: {"client_addr":"127.0.0.1","time":"2026-11-22T04:13:04.123Z","method":"GET","target":"/a",
//   "http_version":"1.1","status":200,"response_bytes":1234,"referer":"","user_agent":"curl/8.5.0",
//   "cache_status":"hit","upstream_ms":null,"total_ms":3,"key":"GET http://h:80/a"}
// upstream_ms / total_ms of -1 are null; "key" is left out when there is none. Strings that are
// not valid UTF-8 have the offending bytes replaced by U+FFFD (JSON text is UTF-8).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace cachefwd::metrics {

// The cache= token of a combined line: the Cache-Status parameters as one readable word without
// spaces, so the field needs no escaping: "hit", "hit-stale" (served past its lifetime), the fwd
// reason ("miss" for uri-miss, "vary-miss", "stale", "bypass", "method", "request", "partial"),
// then "+stored" / "+collapsed" and ":detail" ("miss+stored", "bypass:no-store",
// "miss:too-large"). `cache_status` is our Cache-Status value with or without the cache name; a
// value that is not one is written as it is (escaped).
std::string cache_status_token(std::string_view cache_status);

struct AccessRecord {
  std::string client_addr;
  UnixMillis time = 0;  // when the request arrived
  std::string method;
  std::string target;                // request-target as received
  std::string http_version = "1.1";  // without "HTTP/"; empty for a request line without a version
  int status = 0;
  std::uint64_t response_bytes = 0;  // body bytes sent
  std::string referer;               // empty = absent
  std::string user_agent;            // empty = absent
  // The RFC 9211 Cache-Status value sent, e.g. "hit" or "fwd=uri-miss;stored"; empty = none.
  std::string cache_status;
  std::int64_t upstream_ms = -1;   // -1 = no upstream request
  std::int64_t total_ms = -1;      // -1 = unknown (combined logs do not carry it)
  std::optional<std::string> key;  // the cache key, when one was computed

  bool operator==(const AccessRecord&) const = default;
};

enum class AccessLogFormat { combined, json };

// "combined" or "json".
std::optional<AccessLogFormat> parse_access_log_format(std::string_view name);

// One line, without the trailing '\n' (the writer adds it).
std::string format_access_log_line(const AccessRecord& record, AccessLogFormat format);

// "22/Nov/2026:04:13:04 +0000" (the part between the brackets) and ISO 8601
// "2026-11-22T04:13:04.123Z", from UnixMillis in UTC. No clock, no TZ database.
std::string format_clf_time(UnixMillis t);
std::string format_iso8601_utc(UnixMillis t);
}  // namespace cachefwd::metrics
