# Fails when lib/proxy makes a cache decision itself: it must ask cache/flow, and so include none
# of cache/policy's RFC 9111 functions (freshness, storability, validation, age, invalidation).
# cache/policy/config.h (the operator's settings) is data, not a decision, and stays allowed.
file(GLOB_RECURSE files ${LIB_DIR}/proxy/*.h ${LIB_DIR}/proxy/*.cpp)
set(bad "")
foreach(f ${files})
  file(READ ${f} text)
  foreach(pat "cache/policy/policy.h" "cache/policy/freshness.h" "cache/policy/storability.h"
              "cache/policy/validation.h" "cache/policy/age.h" "cache/policy/invalidation.h"
              "cache/policy/cache_status.h" "cache/key/vary" "vary_value")
    string(FIND "${text}" "${pat}" pos)
    if(NOT pos EQUAL -1)
      list(APPEND bad "${f}: ${pat}")
    endif()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "lib/proxy must ask cache/flow, not decide with cache/policy:\n${bad}")
endif()
message(STATUS "lib/proxy includes no RFC decision of cache/policy")
