#pragma once
// What goes upstream for a client request: its end-to-end fields, our Via, the target's Host and,
// when revalidating, our own validators (RFC 9111 §4.3.1).
#include <string>
#include <string_view>

#include "cache/store/stored_response.h"
#include "http/request.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

// `stale`: the stored response being revalidated (its ETag / Last-Modified become the
// conditional), or null. `for_cache`: the response may be stored and shared with other clients,
// so the client's own conditionals and Range are not forwarded (the shared fetch must get the
// full response; the client's conditionals are answered from it).
upstream::FetchRequest build_upstream_request(std::string_view method, const http::TargetUri& target,
                                              const http::Request& req, const cache::StoredResponse* stale,
                                              const std::string& via_name, bool for_cache);

// Loop detection (RFC 9110 §7.6.3): does a Via field value name `pseudonym` (this instance's own
// token) as the received-by of one of its entries? Compared whole, so another cachefwd instance
// ("cachefwd-1a2b3c" against our "cachefwd-4d5e6f", or plain "cachefwd") is not a loop.
bool via_names(std::string_view via, std::string_view pseudonym);

}  // namespace cachefwd::proxy
