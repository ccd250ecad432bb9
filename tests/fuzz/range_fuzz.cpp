// Range / If-Range handling (RFC 9110 §14, §13.1.5) on hostile values: a 206 must always select
// bytes that exist, a 416 only happens when none can be selected.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_input.h"
#include "http/range.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Lengths near 2^64 as well as small ones: the arithmetic must not overflow.
  std::uint64_t length = static_cast<std::uint64_t>(fuzz::int64_from(in));
  if (length & 1) length >>= 40;
  std::string_view range = fuzz::take_until(in, '\0');
  std::string_view if_range = fuzz::take_until(in, '\0');
  http::Headers stored = fuzz::headers_from(in);

  auto check_result = [&](const http::RangeResult& r) {
    if (r.decision == http::RangeDecision::partial) {
      if (r.range.first > r.range.last || r.range.last >= length) __builtin_trap();
      http::Headers h = stored;
      http::set_partial_content_headers(h, r.range, length);
      if (h.count("content-range") != 1 || h.count("content-length") != 1) __builtin_trap();
    }
  };
  check_result(http::resolve_range(range, length));
  http::Headers request;
  request.add("Range", range);
  if (!if_range.empty()) request.add("If-Range", if_range);
  check_result(http::evaluate_range_request("GET", request, stored, length));
  (void)http::if_range_allows(if_range, stored);
  return 0;
}
