#pragma once
// Reading access logs back (replay): the formats access_log.h writes, and plain Common/Combined
// Log Format lines of nginx and Apache. The one parser of log lines and of their times in the
// project: lib/replay's sizes-only trace reader uses it too, so both agree on what a valid line is.
#include <optional>
#include <string_view>

#include "base/time.h"
#include "metrics/access_log.h"

namespace cachefwd::metrics {

// Reads one line of either format (a line starting with '{' is json) and plain Common/Combined Log
// Format lines of nginx and Apache: referer and user agent are optional, the time zone may be any
// offset (the result is UTC), "-" for bytes is 0, \xHH and Apache's backslash escapes are decoded,
// and trailing fields other than cache= and upstream_ms= are ignored. A trailing "\r" or "\n" is
// ignored. nullopt for anything that does not have at least host, ident, user, [time], "request",
// status and bytes (or, in json, "time" and "status").
std::optional<AccessRecord> parse_access_log_line(std::string_view line);

// The inverses, the one parser of each in the project: "10/Oct/2000:13:55:36 -0700" (any offset,
// month names in any case) and RFC 3339 "2026-11-22T04:13:04.123+01:00" ('Z', "+hh:mm" or "+hhmm";
// fraction optional, truncated to milliseconds), both to UTC milliseconds; nullopt when malformed
// or for a day that does not exist.
std::optional<UnixMillis> parse_clf_time(std::string_view s);
std::optional<UnixMillis> parse_iso8601(std::string_view s);

}  // namespace cachefwd::metrics
