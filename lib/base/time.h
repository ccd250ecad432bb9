#pragma once
// Time as the pure modules see it: a number handed to them, never read from a clock. Only the I/O
// edge (lib/proxy, lib/load, cmd/) reads clocks and passes the result in.
#include <cstdint>

namespace cachefwd {

// Wall-clock time, milliseconds since the Unix epoch. HTTP dates have one-second resolution; the
// extra precision is for request/response times and resident time (RFC 9111 §4.2.3).
using UnixMillis = std::int64_t;

constexpr UnixMillis seconds_to_millis(std::int64_t s) { return s * 1000; }
constexpr std::int64_t millis_to_seconds(UnixMillis ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace cachefwd
