#pragma once
#include <string_view>

#include "http/headers.h"

namespace cachefwd::http {

// Removes the hop-by-hop fields (RFC 9110 §7.6.1): Connection and every field it names, plus the
// fixed set a proxy must not forward (Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade). Proxy-Authorization / Proxy-Authenticate are for this hop too.
void remove_hop_by_hop(Headers& headers);

// True when the Connection field lists `option` (e.g. "close", "keep-alive").
bool connection_has(const Headers& headers, std::string_view option);

}  // namespace cachefwd::http
