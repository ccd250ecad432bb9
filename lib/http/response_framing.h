#pragma once
// How an upstream response's body is delimited (RFC 9112 §6.3), checked before anything of it is
// forwarded. A proxy that forwards a framing field it did not itself apply lets the upstream
// desynchronise the client connection (response splitting), so what leaves here carries at most
// one consistent Content-Length and never a Content-Length beside a transfer coding.
#include <cstdint>
#include <string>

#include "http/headers.h"

namespace cachefwd::http {

struct ResponseFraming {
  std::string error;                 // non-empty: the response cannot be forwarded safely (502)
  std::int64_t content_length = -1;  // the declared body length; -1 when chunked or close-delimited
  bool chunked = false;
};

// Checks the framing fields of a response head and rewrites `headers` for forwarding:
// - Transfer-Encoding wins over Content-Length (§6.3 item 3): every Content-Length is removed.
//   Only `chunked` alone is accepted, because it is the only coding the upstream client decodes;
//   any other coding would reach the client still coded with nothing saying so.
// - Several Content-Length fields or list members are collapsed into one when they are all the
//   same number (RFC 9110 §8.6); differing or non-numeric values are an error (§6.3 item 5).
ResponseFraming normalize_response_framing(Headers& headers);

}  // namespace cachefwd::http
