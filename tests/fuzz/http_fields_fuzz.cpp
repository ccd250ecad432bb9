// Field-value parsers of the cache (Cache-Control, Age / delta-seconds, ETag and If-None-Match,
// Vary) on hostile values. The first byte picks the parser; each checks what its contract
// promises, so a wrong answer is a finding as much as a crash is.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/key/cache_key.h"
#include "cache/policy/age.h"
#include "fuzz_input.h"
#include "http/cache_control.h"
#include "http/etag.h"

namespace {

using namespace cachefwd;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void cache_control(std::string_view value) {
  auto cc = http::parse_cache_control(value);
  for (auto v :
       {cc.max_age, cc.s_maxage, cc.min_fresh, cc.stale_while_revalidate, cc.stale_if_error, cc.max_stale})
    check(!v || (*v >= 0 && *v <= http::kDeltaSecondsMax));
  check(!(cc.invalid_max_age && cc.max_age));
  check(!(cc.invalid_s_maxage && cc.s_maxage));
  // The same value given as two field lines means the same thing (RFC 9110 §5.3); a comma in a
  // quoted string is not a list separator, so only values without quotes are split.
  http::Headers h;
  auto comma = value.find(',');
  if (comma != std::string_view::npos && value.find('"') == std::string_view::npos) {
    h.add("Cache-Control", value.substr(0, comma));
    h.add("cache-control", value.substr(comma + 1));
    auto split = http::parse_cache_control(h);
    check(split.max_age == cc.max_age && split.no_store == cc.no_store && split.private_ == cc.private_ &&
          split.invalid_max_age == cc.invalid_max_age);
  }
}

void age(std::string_view in) {
  std::int64_t request_time = fuzz::int64_from(in) >> 16;  // keep far from overflow: real clocks
  std::int64_t response_time = request_time + (fuzz::int64_from(in) & 0xffffffff);
  std::int64_t now = response_time + (fuzz::int64_from(in) >> 24);
  auto d = http::parse_delta_seconds(in);
  check(!d || (*d >= 0 && *d <= http::kDeltaSecondsMax));
  http::Headers h = fuzz::headers_from(in);
  std::int64_t initial = cache::policy::corrected_initial_age_ms(h, request_time, response_time);
  check(initial >= 0);
  std::int64_t current = cache::policy::current_age_ms(initial, response_time, now);
  check(current >= initial);
  std::int64_t field = cache::policy::age_header_seconds(current);
  check(field >= 0 && field <= http::kDeltaSecondsMax);
}

void etag(std::string_view in) {
  if (auto tag = http::parse_entity_tag(in)) {
    check(tag->opaque.size() >= 2 && tag->opaque.front() == '"' && tag->opaque.back() == '"');
    check(http::weak_match(*tag, *tag));
    check(http::strong_match(*tag, *tag) == !tag->weak);
    // A valid tag is found again in a list that holds it.
    auto list = http::parse_entity_tag_list(std::string("\"x\", ") + std::string(in));
    check(http::list_weak_matches(list, *tag));
  }
  auto list = http::parse_entity_tag_list(in);
  for (auto& t : list.tags) check(t.opaque.size() >= 2 && t.opaque.front() == '"' && t.opaque.back() == '"');
}

void vary(std::string_view in) {
  std::string_view response_text = fuzz::take_until(in, '\0');
  http::Headers response = fuzz::headers_from(response_text);
  http::Headers request = fuzz::headers_from(in);
  auto key = cache::key::vary_key(response, request);
  // A request always matches the variant it selected itself.
  check(key == cache::key::vary_key(response, request));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      cache_control(in);
      break;
    case 1:
      age(in);
      break;
    case 2:
      etag(in);
      break;
    case 3:
      vary(in);
      break;
  }
  return 0;
}
