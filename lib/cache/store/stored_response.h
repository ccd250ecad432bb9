#pragma once
// What a cache entry holds: an immutable response, shared by every reader. The hit path writes
// `head` and `body` straight to the socket; only Age and connection fields are written per hit.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "http/cache_control.h"
#include "http/headers.h"

namespace cachefwd::cache {

struct StoredResponse {
  std::string key;
  int status = 0;
  // Status line and stored header fields, each line CRLF-terminated, without the blank line that
  // ends the section and without Age / Cache-Status / Connection (added per response).
  std::string head;
  http::Headers headers;  // the same fields, parsed, for policy decisions (Vary, validators, ...)
  std::shared_ptr<const std::string> body;
  UnixMillis request_time = 0;
  UnixMillis response_time = 0;
  std::int64_t corrected_initial_age_ms = 0;  // RFC 9111 §4.2.3, computed once at store time
  std::int64_t freshness_lifetime_ms = 0;
  http::CacheControl cache_control;  // parsed once at store time: the hit path reads it per request
  // RFC 9111 §4.1: a response with Vary is stored under its variant key, and the primary key holds
  // a marker (no body, is_vary_marker) whose headers name the selecting fields.
  bool is_vary_marker = false;
  // Surrogate keys / cache tags the origin attached (Cache-Tag, Surrogate-Key), for purge by tag.
  std::vector<std::string> tags;

  std::uint64_t charge() const {
    return sizeof(*this) + key.size() + head.size() + headers.byte_size() + (body ? body->size() : 0) + 64;
  }
};

}  // namespace cachefwd::cache
