#pragma once
// The one clock the proxy reads; the cache core is handed its result.
#include <time.h>

#include "base/time.h"

namespace cachefwd::proxy {

inline UnixMillis wall_clock_now() {
  timespec ts;
  // Coarse is a few ms of resolution for ~20 ns instead of a full clock read: HTTP ages are in
  // seconds.
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<UnixMillis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace cachefwd::proxy
