#pragma once
// HTTP-date (RFC 9110 §5.6.7): parsing of the three forms a recipient must accept and generation
// of the one form a sender may use. Pure arithmetic: no libc time functions, no time zone, no
// clock, so results never depend on the process environment.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"

namespace cachefwd::http {

// Parses IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994"). Names and "GMT"
// match case-insensitively (RFC 9111 §4.2 lets a cache relax RFC 9110's case sensitivity);
// surrounding whitespace is ignored; anything else that does not fit the grammar, or names a day
// that does not exist (31 Apr, 29 Feb 1900), is nullopt. The weekday is not cross-checked against
// the date. RFC 850's two-digit year is read as 1970-2069 here; use the overload taking `now` for
// the exact RFC 9110 rule.
std::optional<UnixMillis> parse_http_date(std::string_view s);

// As above, but a two-digit RFC 850 year is resolved as RFC 9110 §5.6.7 requires: a timestamp
// that appears to be more than 50 years after `now` means the most recent past year with the
// same last two digits.
std::optional<UnixMillis> parse_http_date(std::string_view s, UnixMillis now);

// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Milliseconds are truncated towards the past
// (HTTP-date has one-second resolution). Years outside 0000-9999 cannot be expressed; they are
// clamped to the first/last second of that range.
std::string format_http_date(UnixMillis t);

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), and the inverse. Exposed for
// tests and for other date formats (access logs).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept;
struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
};
CivilDate civil_from_days(std::int64_t days) noexcept;

}  // namespace cachefwd::http
