#include "cache/policy/invalidation.h"

#include <string>

#include "base/strings.h"
#include "http/cache_control.h"

namespace cachefwd::cache::policy {

namespace {

struct Reference {
  std::optional<std::string_view> scheme, authority, query;
  std::string_view path;
};

// RFC 3986 Appendix B: ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?
Reference split_reference(std::string_view s) {
  Reference r;
  if (const size_t hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  const size_t colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0 && s.find_first_of("/?") > colon) {
    r.scheme = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    const size_t end = s.find_first_of("/?");
    r.authority = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  const size_t q = s.find('?');
  r.path = s.substr(0, q);
  if (q != std::string_view::npos) r.query = s.substr(q + 1);
  return r;
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      const size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const size_t next = in.find('/', in.front() == '/' ? 1 : 0);
      out += in.substr(0, next);
      in.remove_prefix(next == std::string_view::npos ? in.size() : next);
    }
  }
  return out;
}

// RFC 3986 §5.2.3, for a base that always has an authority.
std::string merge(std::string_view base_path, std::string_view ref_path) {
  if (base_path.empty()) return "/" + std::string(ref_path);
  const size_t slash = base_path.rfind('/');
  if (slash == std::string_view::npos) return std::string(ref_path);
  return std::string(base_path.substr(0, slash + 1)) + std::string(ref_path);
}

bool same_origin(const http::TargetUri& a, const http::TargetUri& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

}  // namespace

bool is_safe_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

bool invalidates(std::string_view method, int status) noexcept {
  return !is_safe_method(method) && status >= 200 && status < 400;
}

std::optional<http::TargetUri> same_origin_location(const http::TargetUri& base, std::string_view value) {
  const Reference r = split_reference(trim_ows(value));
  std::string scheme = base.scheme, authority = base.authority(), path;
  std::optional<std::string_view> query;
  // RFC 3986 §5.2.2 (strict: a scheme in the reference is always taken as given).
  if (r.scheme) {
    scheme = to_lower(*r.scheme);
    if (!r.authority) return std::nullopt;  // "http:foo" has no authority: not an http URI we can use
    authority = std::string(*r.authority);
    path = remove_dot_segments(r.path);
    query = r.query;
  } else if (r.authority) {
    authority = std::string(*r.authority);
    path = remove_dot_segments(r.path);
    query = r.query;
  } else if (r.path.empty()) {
    path = base.path;
    if (r.query)
      query = r.query;
    else if (base.has_query)
      query = base.query;
  } else {
    path = remove_dot_segments(r.path.front() == '/' ? std::string(r.path) : merge(base.path, r.path));
    query = r.query;
  }
  std::string absolute = scheme + "://" + authority + path;
  if (query) {
    absolute += '?';
    absolute += *query;
  }
  http::TargetUri out;
  if (!http::parse_absolute_target(absolute, out) || !same_origin(out, base)) return std::nullopt;
  // parse_absolute_target reports no query for a bare '?'; keep what the reference said.
  if (query && query->empty()) out.has_query = true;
  return out;
}

std::vector<http::TargetUri> invalidation_targets(std::string_view method, int status,
                                                  const http::TargetUri& request_target,
                                                  const http::Headers& response_headers) {
  std::vector<http::TargetUri> out;
  if (!invalidates(method, status)) return out;
  out.push_back(request_target);
  for (std::string_view field : {"Location", "Content-Location"}) {
    if (response_headers.count(field) != 1) continue;
    auto t = same_origin_location(request_target, *response_headers.find(field));
    if (t && t->url() != request_target.url()) out.push_back(std::move(*t));
  }
  return out;
}

bool post_response_answers_get(int status, const http::Headers& response_headers,
                               const http::TargetUri& request_target) {
  if (status != 200 && status != 203) return false;
  if (response_headers.count("Content-Location") != 1) return false;
  const http::CacheControl cc = http::parse_cache_control(response_headers);
  if (!cc.max_age && !cc.s_maxage && !response_headers.has("Expires")) return false;
  auto location = same_origin_location(request_target, *response_headers.find("Content-Location"));
  return location && location->url() == request_target.url();
}

}  // namespace cachefwd::cache::policy
