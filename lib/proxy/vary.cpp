#include "proxy/vary.h"

#include "base/strings.h"

namespace cachefwd::proxy {

std::string vary_value(const http::Headers& response_headers, const http::Headers& request_headers) {
  std::string out;
  http::for_each_list_element(response_headers.combined("vary"), [&](std::string_view name) {
    out += to_lower(name);
    if (request_headers.has(name)) {
      out += '=';
      // Whitespace after commas is not significant (RFC 9110 §5.6.1): normalise it away.
      std::string value = request_headers.combined(name);
      bool space = false;
      for (char c : value) {
        if (c == ' ' || c == '\t') {
          space = true;
          continue;
        }
        if (space && !out.empty() && out.back() != ',' && c != ',') out += ' ';
        space = false;
        out += c;
      }
    } else {
      out += '!';  // absent, distinct from present and empty
    }
    out += '\x1e';
  });
  return out;
}

}  // namespace cachefwd::proxy
