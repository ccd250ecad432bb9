#pragma once
// Secondary keys for responses with Vary (RFC 9111 §4.1).
#include <string>

#include "http/headers.h"

namespace cachefwd::proxy {

// Separates a primary key from the variant part in store keys; the primary key then holds a
// marker entry that names the selecting fields.
inline constexpr std::string_view kVariantSeparator = "\x1fV";

// The selecting request fields named by the response's Vary, normalised: lower-case names in Vary
// order, values combined; an absent field differs from an empty one.
std::string vary_value(const http::Headers& response_headers, const http::Headers& request_headers);

}  // namespace cachefwd::proxy
