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
  // Several Age lines combine into a list, which is not a delta-seconds: invalid, ignored (§5.1).
  if (response_headers.count("Age") == 1) {
    if (auto age = http::parse_delta_seconds(trim_ows(*response_headers.find("Age"))))
      age_value = seconds_to_millis(*age);
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
