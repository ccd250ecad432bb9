#pragma once
// The primary cache key (RFC 9111 §2): method and target URI. Issue #3 extends it with key
// options (query handling, selected headers and cookies, body digest, partitions).
#include <string>
#include <string_view>

#include "http/request.h"

namespace cachefwd::cache::key {

// "GET http://host:port/path?query": the port is always written so that "h" and "h:80" agree,
// scheme and host are lower-cased by the target parser, path and query are kept byte for byte
// (two spellings of a path may name different resources, RFC 9111 §7.1).
std::string primary_key(std::string_view method, const http::TargetUri& target);

}  // namespace cachefwd::cache::key
