#include "cache/policy/freshness.h"

#include <algorithm>

#include "base/strings.h"
#include "http/http_date.h"

namespace cachefwd::cache::policy {

namespace {

// Date as the origin gave it, else the time we received the response (RFC 9110 §6.6.1: a
// recipient without a valid Date uses its own receipt time).
UnixMillis date_or_receipt(const http::Headers& h, UnixMillis response_time) {
  if (const std::string* d = h.find("Date"))
    if (auto v = http::parse_http_date(*d)) return *v;
  return response_time;
}

// Expires lifetime per RFC 9111 §4.2.1/§5.3; nullopt when there is no Expires at all.
std::optional<std::int64_t> expires_lifetime(const http::Headers& h, UnixMillis response_time) {
  std::optional<UnixMillis> expires;
  bool any = false;
  for (auto& f : h.fields()) {
    if (!iequals(f.name, "Expires")) continue;
    auto v = http::parse_http_date(f.value);
    // An invalid Expires, or a second one that disagrees, means already expired.
    if (!v || (any && expires != v)) return 0;
    expires = v;
    any = true;
  }
  if (!any) return std::nullopt;
  return std::max<std::int64_t>(0, *expires - date_or_receipt(h, response_time));
}

bool pragma_no_cache(const http::Headers& h) {
  bool found = false;
  for (auto& f : h.fields()) {
    if (!iequals(f.name, "Pragma")) continue;
    http::for_each_list_element(f.value,
                                [&](std::string_view e) { found = found || iequals(e, "no-cache"); });
  }
  return found;
}

// Request directives that demand validation regardless of the response's state (§5.2.1, §5.4).
bool request_demands_validation(const http::Headers& req_h, const http::CacheControl& req,
                                std::int64_t lifetime, std::int64_t age) {
  if (!req_h.has("Cache-Control")) return pragma_no_cache(req_h);
  if (req.no_cache || req.invalid_max_age) return true;
  if (req.max_age && age > seconds_to_millis(*req.max_age)) return true;
  if (req.min_fresh && lifetime - age < seconds_to_millis(*req.min_fresh)) return true;
  return false;
}

bool response_demands_validation(const http::CacheControl& res) {
  return res.no_cache || !res.no_cache_fields.empty();
}

}  // namespace

namespace {

// The origin's explicit lifetime (RFC 9111 §4.2.1), nullopt when it gave none. Invalid or
// conflicting values count as explicit and already expired (0).
std::optional<std::int64_t> explicit_lifetime(const http::CacheControl& cc, const http::Headers& h,
                                              UnixMillis response_time, bool shared) {
  if (shared) {
    if (cc.invalid_s_maxage) return 0;
    if (cc.s_maxage) return seconds_to_millis(*cc.s_maxage);
  }
  if (cc.invalid_max_age) return 0;
  if (cc.max_age) return seconds_to_millis(*cc.max_age);
  return expires_lifetime(h, response_time);
}

// --ttl-mode respect: the origin's lifetime, else --ttl, else the §4.2.2 heuristic, the last two
// only for statuses cacheable by default.
std::int64_t respected_lifetime(int status, const std::optional<std::int64_t>& explicit_ms,
                                const http::Headers& h, UnixMillis response_time, const PolicyConfig& cfg) {
  if (explicit_ms) return *explicit_ms;
  if (!default_cacheable_status(status)) return 0;
  if (cfg.default_ttl_ms > 0) return cfg.default_ttl_ms;
  if (cfg.heuristic) {
    if (const std::string* lm = h.find("Last-Modified")) {
      if (auto last_modified = http::parse_http_date(*lm)) {
        const std::int64_t since = date_or_receipt(h, response_time) - *last_modified;
        if (since > 0) return std::min(since / 10, cfg.heuristic_max_ms);
      }
    }
  }
  return 0;
}

}  // namespace

std::int64_t freshness_lifetime_ms(int status, const http::Headers& response_headers,
                                   UnixMillis response_time, const PolicyConfig& cfg) {
  // --cache-status: exactly the configured lifetime, whatever the origin said, so a cached error
  // ends when the operator decided and not when the origin's max-age does.
  if (auto it = cfg.status_ttl_ms.find(status); it != cfg.status_ttl_ms.end())
    return std::max<std::int64_t>(0, it->second);

  const http::CacheControl cc = http::parse_cache_control(response_headers);
  const std::optional<std::int64_t> explicit_ms =
      explicit_lifetime(cc, response_headers, response_time, cfg.shared);
  // Statuses that only an explicit lifetime makes cacheable (404, 405, ...) stay that way in every
  // mode: override and clamp never turn negative caching on by themselves.
  const bool eligible = explicit_ms.has_value() || default_cacheable_status(status);

  switch (cfg.ttl_mode) {
    case PolicyConfig::TtlMode::override:
      if (cfg.default_ttl_ms > 0) return eligible ? cfg.default_ttl_ms : 0;
      break;  // override without a --ttl has nothing to override with: respect
    case PolicyConfig::TtlMode::clamp: {
      if (!eligible) return 0;
      std::int64_t lifetime = respected_lifetime(status, explicit_ms, response_headers, response_time, cfg);
      lifetime = std::max(lifetime, cfg.min_ttl_ms);
      if (cfg.max_ttl_ms > 0) lifetime = std::min(lifetime, cfg.max_ttl_ms);
      return lifetime;
    }
    case PolicyConfig::TtlMode::respect:
      break;
  }
  return respected_lifetime(status, explicit_ms, response_headers, response_time, cfg);
}

bool stale_forbidden(const http::CacheControl& res, bool shared) {
  return response_demands_validation(res) || res.must_revalidate ||
         (shared && (res.proxy_revalidate || res.s_maxage || res.invalid_s_maxage));
}

Serve can_serve_stored(const http::Headers& request_headers, const http::Headers& stored_response_headers,
                       std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms, bool shared) {
  return can_serve_stored(request_headers, http::parse_cache_control(stored_response_headers),
                          freshness_lifetime_ms, current_age_ms, shared);
}

Serve can_serve_stored(const http::Headers& request_headers, const http::CacheControl& res,
                       std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms, bool shared) {
  const http::CacheControl req = http::parse_cache_control(request_headers);
  if (request_demands_validation(request_headers, req, freshness_lifetime_ms, current_age_ms))
    return Serve::must_validate;
  if (response_demands_validation(res)) return Serve::must_validate;
  if (freshness_lifetime_ms > current_age_ms) return Serve::fresh;

  if (stale_forbidden(res, shared)) return Serve::must_validate;
  const std::int64_t staleness = current_age_ms - freshness_lifetime_ms;
  if (req.max_stale_any) return Serve::stale_allowed;
  if (req.max_stale && staleness <= seconds_to_millis(*req.max_stale)) return Serve::stale_allowed;
  return Serve::must_validate;
}

bool may_serve_stale_while_revalidate(const http::Headers& request_headers,
                                      const http::Headers& stored_response_headers,
                                      std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms,
                                      bool shared) {
  if (freshness_lifetime_ms > current_age_ms) return false;
  const http::CacheControl res = http::parse_cache_control(stored_response_headers);
  if (!res.stale_while_revalidate || stale_forbidden(res, shared)) return false;
  const http::CacheControl req = http::parse_cache_control(request_headers);
  if (request_demands_validation(request_headers, req, freshness_lifetime_ms, current_age_ms)) return false;
  return current_age_ms - freshness_lifetime_ms <= seconds_to_millis(*res.stale_while_revalidate);
}

bool may_serve_stale_if_error(const http::Headers& request_headers,
                              const http::Headers& stored_response_headers,
                              std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms, bool shared) {
  const http::CacheControl res = http::parse_cache_control(stored_response_headers);
  if (stale_forbidden(res, shared)) return false;
  const http::CacheControl req = http::parse_cache_control(request_headers);
  const std::int64_t staleness = std::max<std::int64_t>(0, current_age_ms - freshness_lifetime_ms);
  auto within = [&](const std::optional<std::int64_t>& window) {
    return window && staleness <= seconds_to_millis(*window);
  };
  return within(res.stale_if_error) || within(req.stale_if_error);
}

bool may_serve_stale_if_error(const http::Headers& request_headers,
                              const http::Headers& stored_response_headers,
                              std::int64_t freshness_lifetime_ms, std::int64_t current_age_ms,
                              const PolicyConfig& cfg) {
  if (may_serve_stale_if_error(request_headers, stored_response_headers, freshness_lifetime_ms,
                               current_age_ms, cfg.shared))
    return true;
  if (cfg.stale_if_error_ms <= 0) return false;
  if (stale_forbidden(http::parse_cache_control(stored_response_headers), cfg.shared)) return false;
  return std::max<std::int64_t>(0, current_age_ms - freshness_lifetime_ms) <= cfg.stale_if_error_ms;
}

}  // namespace cachefwd::cache::policy
