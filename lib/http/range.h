#pragma once
// Range requests (RFC 9110 §14) answered from a complete stored representation: one byte range
// is served as 206; anything the cache chooses not to handle is ignored, which §14.2 allows ("A
// server MAY ignore the Range header field"), and the full 200 is served instead.
#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.h"

namespace cachefwd::http {

struct ByteRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  std::uint64_t size() const noexcept { return last - first + 1; }
};

enum class RangeDecision {
  full,           // ignore the Range: 200 with the whole representation
  partial,        // 206 with `range` and Content-Range: format_content_range(range, length)
  unsatisfiable,  // 416 with Content-Range: format_unsatisfied_content_range(length) (§15.5.17)
};

struct RangeResult {
  RangeDecision decision = RangeDecision::full;
  ByteRange range;  // meaningful for partial only
};

// Resolves a Range field value (all lines combined) against a representation of `length` bytes
// (RFC 9110 §14.1.1, §14.1.2, §14.2):
//  - the unit must be "bytes" (case-insensitive, §14.1); another unit -> full;
//  - a malformed ranges-specifier, or an int-range whose last-pos is below its first-pos
//    (invalid, §14.1.1) -> full;
//  - more than one range-spec -> full (no multipart/byteranges); empty list elements are skipped;
//  - first-last / first-: unsatisfiable when first >= length; a last-pos absent or past the end
//    means the rest of the representation;
//  - -suffix: the last `suffix` bytes (all of them when shorter); a zero suffix is unsatisfiable;
//    on an empty representation a non-zero suffix is satisfiable but selects nothing -> full.
RangeResult resolve_range(std::string_view range_value, std::uint64_t length);

// "bytes 42-1233/1234" (§14.4).
std::string format_content_range(const ByteRange& range, std::uint64_t complete_length);
// "bytes */1234", for a 416 (§14.4, §15.5.17).
std::string format_unsatisfied_content_range(std::uint64_t complete_length);

// Turns the stored 200's header fields into those of the 206 for `range` (RFC 9110 §15.3.7):
// Content-Range set, Content-Length set to the range's size; everything else (Date, ETag,
// Cache-Control, Expires, Content-Location, Vary, Content-Type, ...) kept, as a 200 would have
// sent them.
void set_partial_content_headers(Headers& headers, const ByteRange& range, std::uint64_t complete_length);

// RFC 9110 §13.1.5: does the If-Range value let the Range apply to the stored response?
//  - an entity-tag: true when it strongly matches the stored ETag (§8.8.3.2); a weak one never;
//  - an HTTP-date: true when it is a strong validator and exactly equals the stored Last-Modified.
//    A cache can tell a date is strong only when the stored response has a Date at least 60
//    seconds after Last-Modified (§8.8.2.2);
//  - anything else: false.
bool if_range_allows(std::string_view if_range_value, const Headers& stored_response);

// The whole decision for a request served from a complete stored 200 response of `length` bytes
// (other stored statuses are not representations to take ranges of: serve them as they are):
// full unless the method is GET (the only method with range semantics, §14.2) and the request has
// a Range; full when an If-Range is present and if_range_allows() says no (§13.1.5); otherwise
// resolve_range().
RangeResult evaluate_range_request(std::string_view method, const Headers& request_headers,
                                   const Headers& stored_response, std::uint64_t length);

}  // namespace cachefwd::http
