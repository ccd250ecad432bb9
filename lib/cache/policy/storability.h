#pragma once
// May a response be stored at all (RFC 9111 §3, shared cache)? Decided once, when the response
// header section arrives, with the reason reported in Cache-Status when it may not.
#include <string_view>

#include "cache/policy/config.h"
#include "http/headers.h"

namespace cachefwd::cache::policy {

// Why a response was not stored. too_large and incomplete are decided while the body streams
// (by the caller); the others by storability().
enum class NotStored {
  none,
  method,
  status,
  no_store,
  private_,
  authorization,
  no_freshness,
  set_cookie,
  vary_star,
  partial,
  too_large,
  incomplete
};

// The Cache-Status `detail` token (RFC 9211 §2.8): "method", "status", "no-store", "private",
// "authorization", "no-freshness", "set-cookie", "vary-star", "partial", "too-large",
// "incomplete"; "none" for NotStored::none.
std::string_view to_string(NotStored reason) noexcept;

struct Storability {
  bool storable;
  NotStored reason;  // none when storable
};

// RFC 9111 §3 for the cache described by `cfg`. Checked in this order, first failure reported:
//  - method: listed in cfg.cacheable_methods and one of GET, HEAD, POST (method names are
//    case-sensitive, RFC 9110 §9.1; no other method has cacheable responses, RFC 9110 §9.2.3, and
//    unsafe ones are written through, RFC 9111 §4). POST is stored only when the operator lists
//    it; its key must then carry a body digest (cache/key KeyPolicy::body_digest);
//  - status: 206 -> partial; 1xx and 304 -> status; a status in cfg.status_ttl_ms is accepted
//    when its TTL > 0 (refused otherwise); any other final status is accepted when the response
//    has explicit freshness (max-age, s-maxage, Expires: the origin asked for it, §3, §4.2.1);
//    without it only default_cacheable_status() and explicit_only_status() -> status;
//  - no-store in the request (§5.2.1.5) or the response (§5.2.2.5); a response's no-store is
//    ignored when it also carries must-understand and the status is one whose caching rules we
//    implement (§5.2.2.3);
//  - private (shared cache, §5.2.2.7), qualified or not: we do not strip the listed fields, so we
//    do not store the remainder either;
//  - a request with Authorization, unless the response has public, s-maxage or must-revalidate
//    (shared cache, §3.5);
//  - Set-Cookie in the response (shared cache, unless cfg.store_set_cookie): not an RFC rule;
//    storing it would hand one client's cookie to every other client;
//  - Vary: * (it can never match, §4.1);
//  - no_freshness unless one of: a cfg.status_ttl_ms entry, max-age, s-maxage (shared), Expires
//    (valid or not; an invalid one means already expired, §5.3), public, no-cache with a
//    validator (stored, revalidated before every use, §5.2.2.4), cfg.default_ttl_ms > 0,
//    ttl_mode clamp with min_ttl_ms > 0, or the heuristic with a Last-Modified. The
//    404/405/410/414/501 group, unless listed in status_ttl_ms, accepts only max-age, s-maxage and
//    Expires.
Storability storability(std::string_view method, const http::Headers& request_headers, int status,
                        const http::Headers& response_headers, const PolicyConfig& cfg);

}  // namespace cachefwd::cache::policy
