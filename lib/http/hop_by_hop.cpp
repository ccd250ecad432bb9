#include "http/hop_by_hop.h"

#include <string>
#include <vector>

#include "base/strings.h"

namespace cachefwd::http {

void remove_hop_by_hop(Headers& headers) {
  std::vector<std::string> listed;
  for (auto& h : headers.fields())
    if (iequals(h.name, "connection"))
      for_each_list_element(h.value, [&](std::string_view e) { listed.emplace_back(e); });
  static constexpr std::string_view fixed[] = {"connection",          "keep-alive", "proxy-connection",
                                               "te",                  "trailer",    "transfer-encoding",
                                               "upgrade",             "proxy-authorization",
                                               "proxy-authenticate"};
  std::erase_if(headers.fields(), [&](const Header& h) {
    for (auto f : fixed)
      if (iequals(h.name, f)) return true;
    for (auto& l : listed)
      if (iequals(h.name, l)) return true;
    return false;
  });
}

bool connection_has(const Headers& headers, std::string_view option) {
  bool found = false;
  for (auto& h : headers.fields())
    if (iequals(h.name, "connection"))
      for_each_list_element(h.value, [&](std::string_view e) { found = found || iequals(e, option); });
  return found;
}

}  // namespace cachefwd::http
