#pragma once
// RFC 9111 as pure functions of (request, stored response, times, config): the whole module.
#include "cache/policy/age.h"
#include "cache/policy/cache_status.h"
#include "cache/policy/config.h"
#include "cache/policy/freshness.h"
#include "cache/policy/invalidation.h"
#include "cache/policy/storability.h"
#include "cache/policy/validation.h"
