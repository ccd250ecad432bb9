#include "http/request.h"

#include <http_parser.h>

#include "base/strings.h"

namespace cachefwd::http {

std::string TargetUri::authority() const {
  std::string out;
  bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!default_port) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string TargetUri::url() const {
  // Appends rather than operator+ chains: GCC 12 at -O3 reports a false -Wrestrict on those.
  std::string out;
  out.reserve(scheme.size() + host.size() + path.size() + query.size() + 16);
  out.append(scheme).append("://").append(authority()).append(path);
  if (has_query) {
    out += '?';
    out += query;
  }
  return out;
}

Expectation request_expectation(const Request& req) {
  if (req.version_major == 1 && req.version_minor == 0) return Expectation::none;
  Expectation out = Expectation::none;
  for (auto& f : req.headers.fields()) {
    if (!iequals(f.name, "expect")) continue;
    for_each_list_element(f.value, [&](std::string_view e) {
      if (out == Expectation::unsupported) return;
      out = iequals(e, "100-continue") ? Expectation::continue_100 : Expectation::unsupported;
    });
  }
  return out;
}

bool parse_absolute_target(std::string_view target, TargetUri& out) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(target.data(), target.size(), 0, &u) != 0) return false;
  auto field = [&](int f) -> std::string_view {
    if (!(u.field_set & (1 << f))) return {};
    return target.substr(u.field_data[f].off, u.field_data[f].len);
  };
  if (!(u.field_set & (1 << UF_SCHEMA)) || !(u.field_set & (1 << UF_HOST))) return false;
  // Credentials in a proxied URI are never forwarded in the clear (RFC 9110 §4.2.4).
  if (u.field_set & (1 << UF_USERINFO)) return false;
  out.scheme = to_lower(field(UF_SCHEMA));
  if (out.scheme != "http" && out.scheme != "https") return false;
  out.host = to_lower(field(UF_HOST));
  if (out.host.empty()) return false;
  out.port = (u.field_set & (1 << UF_PORT)) ? u.port : out.scheme == "https" ? 443 : 80;
  if (out.port == 0) return false;
  out.path = std::string(field(UF_PATH));
  if (out.path.empty()) out.path.assign(1, '/');  // not = "/": GCC 12 -Wrestrict false positive
  out.has_query = (u.field_set & (1 << UF_QUERY)) != 0;
  out.query = std::string(field(UF_QUERY));
  return true;
}

bool parse_authority(std::string_view authority, std::string& host, std::uint16_t& port) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(authority.data(), authority.size(), 1, &u) != 0) return false;
  if (!(u.field_set & (1 << UF_HOST)) || !(u.field_set & (1 << UF_PORT)) || u.port == 0) return false;
  host = to_lower(authority.substr(u.field_data[UF_HOST].off, u.field_data[UF_HOST].len));
  port = u.port;
  return !host.empty();
}

}  // namespace cachefwd::http
