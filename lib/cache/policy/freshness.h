#pragma once
// Freshness (RFC 9111 §4.2.1, §4.2.2) and whether a stored response may be served for a given
// request without contacting the origin (§4.2.4, §5.2.1, §5.4; RFC 5861).
#include <cstdint>

#include "base/time.h"
#include "cache/policy/config.h"
#include "http/cache_control.h"
#include "http/headers.h"

namespace cachefwd::cache::policy {

// Lifetime of a response as the cache will use it:
//  - a status listed in cfg.status_ttl_ms (--cache-status) gets exactly that TTL, in every mode;
//  - else the origin's explicit lifetime, RFC 9111 §4.2.1, in this order:
//    - s-maxage (shared cache only), then max-age: seconds * 1000; invalid or conflicting -> 0;
//    - Expires - Date (Date absent or invalid: response_time); an invalid Expires ("0", "-1", ...)
//      or several Expires lines that disagree -> 0 (§5.3, §4.2.1); negative -> 0;
//  - else, for default_cacheable_status(): cfg.default_ttl_ms if > 0, else, with cfg.heuristic and
//    a valid Last-Modified, 10% of (Date - Last-Modified) capped at cfg.heuristic_max_ms (§4.2.2);
//  - else 0.
// That is ttl_mode respect. override: cfg.default_ttl_ms replaces the above for a response with an
// explicit lifetime or a default-cacheable status (override with default_ttl_ms == 0 acts as
// respect). clamp: the respect result, for the same responses, raised to cfg.min_ttl_ms and
// lowered to cfg.max_ttl_ms (when > 0). Neither mode gives a lifetime to a 404/405/410/414/501
// that has no explicit one: negative caching is opt-in through status_ttl_ms.
std::int64_t freshness_lifetime_ms(int status, const http::Headers& response_headers,
                                   UnixMillis response_time, const PolicyConfig& cfg);

enum class Serve {
  fresh,          // fresh and acceptable to the request: serve without validation
  stale_allowed,  // stale, but the request's max-stale accepts it and the response allows it
  must_validate,  // forward a conditional request (or, if only-if-cached, answer 504)
};

// May the stored response be served to this request without validation? must_validate when:
//  - the request says no-cache (§5.2.1.4), or has no Cache-Control and says Pragma: no-cache
//    (§5.4, kept for compatibility), or has a max-age the response is older than, or an invalid
//    one (§5.2.1.1), or a min-fresh the remaining freshness does not cover (§5.2.1.3);
//  - the response says no-cache, qualified or not (§5.2.2.4: we revalidate rather than strip
//    the listed fields);
//  - the response is stale (lifetime <= age) and either forbids serving stale (must-revalidate;
//    in a shared cache also proxy-revalidate and s-maxage, §4.2.4, §5.2.2.10) or the request's
//    max-stale does not cover the staleness (§5.2.1.2).
// `shared` defaults to true: cachefwd is a shared cache.
Serve can_serve_stored(const http::Headers& request_headers, const http::Headers& stored_response_headers,
                       std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms, bool shared = true);

// The same, with the stored response's Cache-Control parsed once at store time (the hit path then
// parses only the request's).
Serve can_serve_stored(const http::Headers& request_headers, const http::CacheControl& stored_response_cc,
                       std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms, bool shared = true);

// True when response directives forbid ever serving this response stale without validation
// (RFC 9111 §4.2.4): no-cache, must-revalidate, and in a shared cache proxy-revalidate or s-maxage.
bool stale_forbidden(const http::CacheControl& response_cc, bool shared = true);

// RFC 5861 §3: a stale response may be served while it is revalidated in the background when its
// staleness is within the response's stale-while-revalidate window, nothing forbids stale
// (stale_forbidden) and the request does not ask for validation (no-cache, Pragma: no-cache,
// max-age exceeded or min-fresh). False for a fresh response (serve it as fresh instead).
bool may_serve_stale_while_revalidate(const http::Headers& request_headers,
                                      const http::Headers& stored_response_headers,
                                      std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms,
                                      bool shared = true);

// RFC 5861 §4: when validation failed (connection error, 500, 502, 503, 504), a stale response may
// be served within the stale-if-error window of the response or of the request (either grants
// it), unless stale_forbidden.
bool may_serve_stale_if_error(const http::Headers& request_headers,
                              const http::Headers& stored_response_headers,
                              std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms,
                              bool shared = true);

// The same, plus the operator's window (cfg.stale_if_error_ms, --stale-if-error): a stale response
// may also be served when its staleness is within that window. stale_forbidden still wins
// (must-revalidate means "never without validation", RFC 9111 §5.2.2.2, whatever the operator
// says).
bool may_serve_stale_if_error(const http::Headers& request_headers,
                              const http::Headers& stored_response_headers,
                              std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms,
                              const PolicyConfig& cfg);

}  // namespace cachefwd::cache::policy
