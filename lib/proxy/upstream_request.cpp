#include "proxy/upstream_request.h"

#include <fmt/format.h>

#include "base/strings.h"
#include "http/hop_by_hop.h"

namespace cachefwd::proxy {

upstream::FetchRequest build_upstream_request(std::string_view method, const http::TargetUri& target,
                                              const http::Request& req, const cache::StoredResponse* stale,
                                              const std::string& via_name, bool for_cache) {
  upstream::FetchRequest fr;
  fr.method = std::string(method);
  fr.url = target.url();
  fr.has_body = !req.body.empty() || req.headers.has("content-length") || req.headers.has("transfer-encoding");
  fr.body = req.body;
  fr.headers = req.headers;
  http::remove_hop_by_hop(fr.headers);
  // RFC 9112 §3.2.2: a proxy replaces Host with the authority of the target it forwards to.
  fr.headers.set("Host", target.authority());
  // RFC 9110 §7.6.3: each hop appends "protocol-version pseudonym"; one combined field keeps the
  // order visible to recipients that read only the first Via line.
  std::string ours = fmt::format("{}.{} {}", req.version_major, req.version_minor, via_name);
  std::string existing = fr.headers.combined("via");
  fr.headers.set("Via", existing.empty() ? ours : existing + ", " + ours);
  if (for_cache || stale) {
    for (const char* f : {"if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"})
      fr.headers.remove(f);
  }
  if (stale) {
    if (auto* etag = stale->headers.find("etag")) fr.headers.set("If-None-Match", *etag);
    if (auto* lm = stale->headers.find("last-modified")) fr.headers.set("If-Modified-Since", *lm);
  }
  return fr;
}

bool via_names(std::string_view via, std::string_view pseudonym) {
  bool found = false;
  http::for_each_list_element(via, [&](std::string_view entry) {
    // received-protocol RWS received-by [ RWS comment ]
    auto sp = entry.find_first_of(" \t");
    if (sp == std::string_view::npos) return;
    std::string_view by = trim_ows(entry.substr(sp + 1));
    auto end = by.find_first_of(" \t");
    if (end != std::string_view::npos) by = by.substr(0, end);
    if (by == pseudonym) found = true;
  });
  return found;
}

}  // namespace cachefwd::proxy
