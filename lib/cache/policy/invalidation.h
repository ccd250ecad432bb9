#pragma once
// Invalidation after unsafe requests (RFC 9111 §4.4).
#include <optional>
#include <string_view>
#include <vector>

#include "http/headers.h"
#include "http/request.h"

namespace cachefwd::cache::policy {

// RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe (case-sensitive names, §9.1). Every
// other method, known or not, is treated as unsafe.
bool is_safe_method(std::string_view method) noexcept;

// §4.4: a cache MUST invalidate the target URI when it receives a non-error status (2xx or 3xx)
// in response to an unsafe request method, including methods whose safety is unknown.
bool invalidates(std::string_view method, int status) noexcept;

// §4.4: a Location or Content-Location value, resolved against the request's target URI as a URI
// reference (RFC 3986 §5.2: absolute, network-path, absolute-path, relative-path, query-only and
// empty references; dot segments removed, fragment dropped). nullopt when the result cannot be
// parsed or its origin (scheme, host, port; RFC 9110 §4.3.1) differs from the target's: "a cache
// MUST NOT trigger an invalidation under these conditions if the origin ... differs".
std::optional<http::TargetUri> same_origin_location(const http::TargetUri& request_target,
                                                    std::string_view location_or_content_location);

// RFC 9110 §9.3.3, RFC 9111 §4: may a POST response be stored as the answer to a later GET of
// the same target? Only a 200 or 203 with explicit freshness (max-age, s-maxage in a shared cache,
// Expires) and a Content-Location that resolves to exactly the POST's target URI. Storability
// (no-store, private, Set-Cookie, ...) is still for storability() to decide, as for a GET.
bool post_response_answers_get(int status, const http::Headers& response_headers,
                               const http::TargetUri& request_target);

// Everything one response invalidates: empty when invalidates(method, status) is false; else the
// request's target URI, then the same-origin Location and Content-Location targets (each field
// read when present once; duplicates of the target are left out).
std::vector<http::TargetUri> invalidation_targets(std::string_view method, int status,
                                                  const http::TargetUri& request_target,
                                                  const http::Headers& response_headers);

}  // namespace cachefwd::cache::policy
