#include "cache/policy/storability.h"

#include "base/strings.h"
#include "http/cache_control.h"
#include "http/http_date.h"

namespace cachefwd::cache::policy {

bool default_cacheable_status(int status) noexcept {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
      return true;
    default:
      return false;
  }
}

bool explicit_only_status(int status) noexcept {
  switch (status) {
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(NotStored reason) noexcept {
  switch (reason) {
    case NotStored::none:
      return "none";
    case NotStored::method:
      return "method";
    case NotStored::status:
      return "status";
    case NotStored::no_store:
      return "no-store";
    case NotStored::private_:
      return "private";
    case NotStored::authorization:
      return "authorization";
    case NotStored::no_freshness:
      return "no-freshness";
    case NotStored::set_cookie:
      return "set-cookie";
    case NotStored::vary_star:
      return "vary-star";
    case NotStored::partial:
      return "partial";
    case NotStored::too_large:
      return "too-large";
    case NotStored::incomplete:
      return "incomplete";
  }
  return "unknown";
}

namespace {

Storability refuse(NotStored r) { return Storability{false, r}; }

bool has_vary_star(const http::Headers& h) {
  bool star = false;
  for (auto& f : h.fields()) {
    if (!iequals(f.name, "Vary")) continue;
    http::for_each_list_element(f.value, [&](std::string_view e) { star = star || e == "*"; });
  }
  return star;
}

bool method_storable(std::string_view method, const PolicyConfig& cfg) {
  // RFC 9110 §9.2.3: of the methods defined there only GET, HEAD and POST have cacheable responses;
  // RFC 9111 §4: every other unsafe method is written through. POST is opt-in (--cache-methods).
  if (method != "GET" && method != "HEAD" && method != "POST") return false;
  for (const std::string& m : cfg.cacheable_methods)
    if (m == method) return true;
  return false;
}

}  // namespace

Storability storability(std::string_view method, const http::Headers& request_headers, int status,
                        const http::Headers& response_headers, const PolicyConfig& cfg) {
  if (!method_storable(method, cfg)) return refuse(NotStored::method);
  if (status == 206) return refuse(NotStored::partial);

  const http::CacheControl req = http::parse_cache_control(request_headers);
  const http::CacheControl res = http::parse_cache_control(response_headers);
  const bool has_s_maxage = cfg.shared && (res.s_maxage || res.invalid_s_maxage);
  const bool explicit_freshness =
      res.max_age || res.invalid_max_age || has_s_maxage || response_headers.has("Expires");

  const auto status_ttl = cfg.status_ttl_ms.find(status);
  const bool operator_status = status_ttl != cfg.status_ttl_ms.end();
  if (status < 200 || status == 304) return refuse(NotStored::status);
  if (operator_status) {
    if (status_ttl->second <= 0) return refuse(NotStored::status);
  } else if (!default_cacheable_status(status) && !explicit_only_status(status) && !explicit_freshness) {
    // §3: any final status may be stored when the origin gave it a lifetime (§4.2.1); without
    // one only the statuses RFC 9110 §15.1 calls heuristically cacheable are worth keeping.
    return refuse(NotStored::status);
  }

  // must-understand lifts no-store only for a status whose caching rules we implement
  // (§5.2.2.3); an operator-listed 5xx is not one of them.
  const bool understood = default_cacheable_status(status) || explicit_only_status(status);
  if (req.no_store || (res.no_store && !(res.must_understand && understood)))
    return refuse(NotStored::no_store);
  if (cfg.shared && (res.private_ || !res.private_fields.empty())) return refuse(NotStored::private_);

  if (cfg.shared && request_headers.has("Authorization") && !res.public_ && !has_s_maxage &&
      !res.must_revalidate)
    return refuse(NotStored::authorization);
  if (cfg.shared && !cfg.store_set_cookie && response_headers.has("Set-Cookie"))
    return refuse(NotStored::set_cookie);
  if (has_vary_star(response_headers)) return refuse(NotStored::vary_star);

  if (operator_status) return Storability{true, NotStored::none};
  if (explicit_freshness) return Storability{true, NotStored::none};
  if (explicit_only_status(status)) return refuse(NotStored::no_freshness);
  if (res.public_ || cfg.default_ttl_ms > 0) return Storability{true, NotStored::none};
  // §5.2.2.4: no-cache allows storing, on condition of validation before every use; a validator
  // is what makes that validation cheaper than fetching again.
  if ((res.no_cache || !res.no_cache_fields.empty()) &&
      (response_headers.has("ETag") || response_headers.has("Last-Modified")))
    return Storability{true, NotStored::none};
  if (cfg.ttl_mode == PolicyConfig::TtlMode::clamp && cfg.min_ttl_ms > 0)
    return Storability{true, NotStored::none};
  if (cfg.heuristic) {
    const std::string* lm = response_headers.find("Last-Modified");
    if (lm && http::parse_http_date(*lm)) return Storability{true, NotStored::none};
  }
  return refuse(NotStored::no_freshness);
}

}  // namespace cachefwd::cache::policy
