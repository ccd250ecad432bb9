#pragma once
#include <string_view>

namespace cachefwd::http {

// The reason phrase we write for a status (RFC 9110 §15); "Unknown" for codes it does not name.
std::string_view reason_phrase(int status);

}  // namespace cachefwd::http
