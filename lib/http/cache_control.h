#pragma once
// Cache-Control (RFC 9111 §5.2), request and response directives in one structure: which ones
// apply depends on which message the value came from, and the caller knows that.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/headers.h"

namespace cachefwd::http {

// RFC 9111 §1.3: a delta-seconds too large to represent, or a calculation that overflows, is
// taken as 2^31.
inline constexpr std::int64_t kDeltaSecondsMax = 2147483648;

// delta-seconds = 1*DIGIT (RFC 9111 §1.3), clamped to kDeltaSecondsMax; nullopt for anything
// else (empty, sign, spaces, fraction). Used for Cache-Control arguments and for Age (§5.1).
std::optional<std::int64_t> parse_delta_seconds(std::string_view s) noexcept;

struct CacheControl {
  // delta-seconds values, clamped to 2147483648 (RFC 9111 §1.3); nullopt = absent (or, for the
  // ones other than max-age / s-maxage, present without a valid value, which we ignore).
  std::optional<std::int64_t> max_age, s_maxage, min_fresh, stale_while_revalidate, stale_if_error;
  std::optional<std::int64_t> max_stale;
  bool max_stale_any = false;  // "max-stale" without a value: any staleness (§5.2.1.2)
  bool no_store = false, no_cache = false, private_ = false, public_ = false, must_revalidate = false,
       proxy_revalidate = false, only_if_cached = false, no_transform = false, must_understand = false,
       immutable = false;
  // max-age present but not a valid delta-seconds, or repeated with different values: the
  // response should be treated as stale (RFC 9111 §4.2.1, §5.2.2.1). max_age then holds nothing.
  bool invalid_max_age = false;
  // The same for s-maxage (which, in a shared cache, takes precedence over max-age).
  bool invalid_s_maxage = false;
  // Qualified forms no-cache="a, b" / private="a, b" (§5.2.2.4, §5.2.2.7): the field names as
  // given. A qualified directive sets only the list, not no_cache / private_.
  std::vector<std::string> no_cache_fields, private_fields;
};

// `value` is all Cache-Control field lines combined with ", " (RFC 9110 §5.3). Directive names
// are case-insensitive, arguments may be token or quoted-string (§5.2), unknown extensions are
// ignored (§5.2.3). Repeated directives: the first valid one counts, except max-age / s-maxage
// with conflicting values, which set invalid_max_age / invalid_s_maxage.
CacheControl parse_cache_control(std::string_view value);
// Convenience: combines every Cache-Control field of `h` and parses the result.
CacheControl parse_cache_control(const Headers& h);

}  // namespace cachefwd::http
