#pragma once
// Helpers the fuzz targets share to turn fuzzer bytes into the structured values our functions
// take. Kept trivial on purpose: the code under test must do the parsing, not this file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/headers.h"

namespace cachefwd::fuzz {

// Splits `in` at the first occurrence of `sep`; returns the part before and leaves the rest in
// `in` (everything when `sep` does not occur).
inline std::string_view take_until(std::string_view& in, char sep) {
  auto at = in.find(sep);
  std::string_view head = in.substr(0, at);
  in = at == std::string_view::npos ? std::string_view() : in.substr(at + 1);
  return head;
}

// "name:value" lines separated by '\n' (a line without ':' is a name with an empty value).
// Names and values keep every byte, as a parser upstream of these functions might let through.
inline http::Headers headers_from(std::string_view text) {
  http::Headers h;
  while (!text.empty()) {
    std::string_view line = take_until(text, '\n');
    std::string_view name = take_until(line, ':');
    h.add(name, line);
  }
  return h;
}

inline std::int64_t int64_from(std::string_view& in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    v = v << 8 | static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace cachefwd::fuzz
