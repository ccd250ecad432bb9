#pragma once
// Age calculation (RFC 9111 §4.2.3) and the Age field (§5.1). All times are handed in.
#include <cstdint>

#include "base/time.h"
#include "http/headers.h"

namespace cachefwd::cache::policy {

// Computed once when the response arrives (RFC 9111 §4.2.3):
//   apparent_age          = max(0, response_time - date_value)
//   response_delay        = response_time - request_time   (never negative)
//   corrected_age_value   = age_value + response_delay
//   corrected_initial_age = max(apparent_age, corrected_age_value)
// An absent or invalid Date contributes no apparent age; an absent or invalid Age (§5.1) counts as
// 0. A list-based Age (several members or lines) counts by its first member (§5.1). `request_time` is when
// the request was sent upstream, `response_time` when the response header section arrived.
std::int64_t corrected_initial_age_ms(const http::Headers& response_headers, UnixMillis request_time,
                                      UnixMillis response_time);

// At each use: corrected_initial_age + resident_time, resident_time = now - response_time; a clock
// that went backwards adds nothing, so the result is never below corrected_initial_age.
std::int64_t current_age_ms(std::int64_t corrected_initial_age_ms, UnixMillis response_time, UnixMillis now);

// The Age field value (RFC 9111 §5.1): whole seconds, rounded down, at least 0, at most 2^31.
std::int64_t age_header_seconds(std::int64_t current_age_ms);

}  // namespace cachefwd::cache::policy
