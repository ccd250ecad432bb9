#include "http/response_framing.h"

#include <optional>
#include <vector>

#include "base/strings.h"

namespace cachefwd::http {

ResponseFraming normalize_response_framing(Headers& headers) {
  ResponseFraming out;
  if (headers.has("transfer-encoding")) {
    std::vector<std::string_view> codings;
    for (auto& h : headers.fields())
      if (iequals(h.name, "transfer-encoding"))
        for_each_list_element(h.value, [&](std::string_view c) { codings.push_back(c); });
    if (codings.size() != 1 || !iequals(codings.front(), "chunked")) {
      out.error = "unsupported Transfer-Encoding: " + headers.combined("transfer-encoding");
      return out;
    }
    headers.remove("content-length");
    out.chunked = true;
    return out;
  }
  std::optional<std::int64_t> length;
  bool invalid = false;
  for (auto& h : headers.fields()) {
    if (!iequals(h.name, "content-length")) continue;
    std::size_t members = 0;
    for_each_list_element(h.value, [&](std::string_view v) {
      ++members;
      auto n = parse_decimal(v);
      if (!n)
        invalid = true;
      else if (length && *length != *n)
        invalid = true;
      else
        length = n;
    });
    if (members == 0) invalid = true;  // an empty value frames nothing
  }
  if (invalid) {
    out.error = "invalid or conflicting Content-Length: " + headers.combined("content-length");
    return out;
  }
  if (length) {
    if (headers.count("content-length") != 1 || *headers.find("content-length") != std::to_string(*length))
      headers.set("Content-Length", std::to_string(*length));
    out.content_length = *length;
  }
  return out;
}

}  // namespace cachefwd::http
