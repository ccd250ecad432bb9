#include "cache/policy/age.h"

#include <algorithm>

#include "base/strings.h"
#include "http/cache_control.h"
#include "http/http_date.h"

namespace cachefwd::cache::policy {

std::int64_t corrected_initial_age_ms(const http::Headers& response_headers, UnixMillis request_time,
                                      UnixMillis response_time) {
  std::int64_t apparent_age = 0;
  if (const std::string* date = response_headers.find("Date")) {
    if (auto date_value = http::parse_http_date(*date))
      apparent_age = std::max<std::int64_t>(0, response_time - *date_value);
  }
  std::int64_t age_value = 0;
  // §5.1: a list-based Age ("7200, 0" on one line, or several lines) counts by its first member;
  // ignoring it instead would let an upstream cache's age vanish and serve a stale response fresh.
  if (const std::string* age_field = response_headers.find("Age")) {
    std::string_view first = *age_field;
    if (auto comma = first.find(','); comma != std::string_view::npos) first = first.substr(0, comma);
    if (auto age = http::parse_delta_seconds(trim_ows(first))) age_value = seconds_to_millis(*age);
  }
  const std::int64_t response_delay = std::max<std::int64_t>(0, response_time - request_time);
  const std::int64_t corrected_age_value = age_value + response_delay;
  return std::max(apparent_age, corrected_age_value);
}

std::int64_t current_age_ms(std::int64_t corrected_initial_age_ms, UnixMillis response_time, UnixMillis now) {
  const std::int64_t resident_time = std::max<std::int64_t>(0, now - response_time);
  return std::max<std::int64_t>(0, corrected_initial_age_ms) + resident_time;
}

std::int64_t age_header_seconds(std::int64_t current_age_ms) {
  if (current_age_ms <= 0) return 0;
  return std::min(current_age_ms / 1000, http::kDeltaSecondsMax);
}

}  // namespace cachefwd::cache::policy
