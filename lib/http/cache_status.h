#pragma once
// Reading Cache-Status (RFC 9211) and its pre-RFC cousin X-Cache: the one parser both of bench's
// engine and replay's driver use to tell a hit from a miss. (Writing our own Cache-Status is
// cache/policy/cache_status.h.)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::http {

// One member of a Cache-Status list (RFC 9211 §2): the cache's name and the parameters we read.
struct CacheStatusEntry {
  std::string cache;
  bool hit = false;
  std::string fwd;  // empty = absent
  int fwd_status = 0;
  std::optional<std::int64_t> ttl;
  bool stored = false;
  bool collapsed = false;
  std::string key;
  std::string detail;
};

// Parses a Cache-Status field value (an sf-list; members are tokens or sf-strings with
// parameters; unknown parameters are skipped). Members in field order: the first is the cache
// nearest the origin, the last the one nearest the client. nullopt when the value is not a valid
// list (then the whole field is ignored, RFC 8941 §4.2).
std::optional<std::vector<CacheStatusEntry>> parse_cache_status(std::string_view value);

enum class CacheOutcome { unknown, hit, miss };

// Whether the cache nearest the client answered from storage. Cache-Status decides when present
// (its last member's `hit` parameter; a present but unparsable field is `unknown`); otherwise
// X-Cache's last comma-separated member starting with "HIT" ("HIT from squid", Fastly's
// "MISS, HIT"); neither field: unknown. Several field lines of one name are joined with ", ".
CacheOutcome cache_outcome(const std::optional<std::string_view>& cache_status,
                           const std::optional<std::string_view>& x_cache);

}  // namespace cachefwd::http
