// HTTP-date parsing (RFC 9110 §5.6.7) on hostile text: no crash, whole seconds only, and what it
// accepts formats back into an IMF-fixdate that parses to the same instant.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_input.h"
#include "http/http_date.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view now_bytes = in.substr(0, 8);
  // A clock within ±2^47 ms (±4000 years) of the epoch, as any real one is.
  std::int64_t now = fuzz::int64_from(now_bytes) >> 16;
  for (auto parsed :
       {http::parse_http_date(in), http::parse_http_date(in.substr(std::min<std::size_t>(8, size)), now)}) {
    if (!parsed) continue;
    if (*parsed % 1000 != 0) __builtin_trap();
    std::string text = http::format_http_date(*parsed);
    auto again = http::parse_http_date(text);
    // Years outside 0000-9999 are clamped by the formatter: only in-range instants round-trip.
    auto civil = http::civil_from_days(*parsed / 86'400'000 - (*parsed % 86'400'000 < 0));
    if (civil.year >= 0 && civil.year <= 9999 && again != parsed) __builtin_trap();
    if (!again) __builtin_trap();  // whatever we format must be readable
  }
  return 0;
}
