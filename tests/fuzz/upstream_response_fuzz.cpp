// The pure part of the upstream response path: the framing check the upstream client applies to
// every head (normalize_response_framing), then what UpstreamExchange::on_response_head and the
// store do with the status and fields (hop-by-hop removal, age, storability,
// freshness, 304 selection and header update, invalidation targets, Vary, the stored head), with
// the request that caused it and a stale entry being revalidated.
//
// The status-line and header-line splitting itself lives in lib/upstream's libcurl header
// callback, which is not a pure function (it is reached by the client_connection target, which
// runs libcurl against a loopback origin sending fuzzer bytes). Here the fuzzer's lines are split
// at the first ':' as that callback does, without CR or LF in a value (libcurl splits lines there).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cache/key/cache_key.h"
#include "cache/policy/policy.h"
#include "fuzz_input.h"
#include "http/cache_control.h"
#include "http/hop_by_hop.h"
#include "http/range.h"
#include "http/response_framing.h"
#include "http/request.h"
#include "cache/flow/flow.h"

namespace {

using namespace cachefwd;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Header lines as the upstream callback builds them: no CR / LF inside a field.
http::Headers response_fields(std::string_view text) {
  http::Headers h;
  while (!text.empty()) {
    std::string_view line = fuzz::take_until(text, '\n');
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.find('\r') != std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    h.add(line.substr(0, colon), value);
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  int status = 100 + (static_cast<std::uint8_t>(in[0]) << 8 | static_cast<std::uint8_t>(in[1])) % 900;
  std::uint8_t flags = static_cast<std::uint8_t>(in[2]);
  in.remove_prefix(3);
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",  "POST",    "PUT",
                                                  "DELETE", "PATCH", "OPTIONS", "get"};
  std::string_view method = kMethods[flags & 7];
  http::Headers response = response_fields(fuzz::take_until(in, '\0'));
  http::Headers request = fuzz::headers_from(fuzz::take_until(in, '\0'));
  http::Headers stored = response_fields(fuzz::take_until(in, '\0'));
  std::string_view body = in;

  cache::policy::PolicyConfig cfg;
  if (flags & 0x08) cfg.default_ttl_ms = 60'000;
  if (flags & 0x10) cfg.heuristic = true;
  if (flags & 0x20) cfg.store_set_cookie = true;
  const UnixMillis request_time = 1'700'000'000'000;
  const UnixMillis response_time = request_time + 250;

  // RFC 9112 §6.3: what is forwarded carries one consistent length or a transfer coding, never
  // both; anything else is refused before a byte of the body moves.
  auto framing = http::normalize_response_framing(response);
  if (!framing.error.empty()) return 0;
  check(!(framing.chunked && framing.content_length >= 0));
  check(response.count("content-length") == (framing.content_length >= 0 ? 1u : 0u));
  if (framing.chunked) check(!response.has("content-length"));
  if (framing.content_length >= 0)
    check(*response.find("content-length") == std::to_string(framing.content_length));

  http::remove_hop_by_hop(response);
  check(!response.has("connection") && !response.has("transfer-encoding") && !response.has("keep-alive"));
  std::int64_t initial_age = cache::policy::corrected_initial_age_ms(response, request_time, response_time);
  check(initial_age >= 0);
  auto verdict = cache::policy::storability(method, request, status, response, cfg);
  check(verdict.storable == (verdict.reason == cache::policy::NotStored::none));
  std::int64_t lifetime = cache::policy::freshness_lifetime_ms(status, response, response_time, cfg);
  auto cc = http::parse_cache_control(response);
  if (verdict.storable) {
    check(!cc.no_store || cc.must_understand);
    check(!response.has("set-cookie") || cfg.store_set_cookie);
    http::Headers kept = response;
    cache::policy::remove_unstorable_fields(kept);
    std::string head = cache::flow::serialize_stored_head(status, kept, body.size());
    // The stored head is sent to every later client: exactly its own fields, one per line.
    std::size_t lines = 0;
    for (std::size_t at = head.find("\r\n"); at != std::string::npos; at = head.find("\r\n", at + 2)) ++lines;
    for (std::size_t i = 0; i < head.size(); ++i)
      check(head[i] != '\n' ? head[i] != '\r' || (i + 1 < head.size() && head[i + 1] == '\n')
                            : i > 0 && head[i - 1] == '\r');
    check(lines <= kept.size() + 2);
    auto range = http::evaluate_range_request("GET", request, kept, body.size());
    if (range.decision == http::RangeDecision::partial) check(range.range.last < body.size());
    (void)cache::key::vary_key(kept, request);
    (void)lifetime;
  }
  if (status == 304) {
    if (cache::policy::not_modified_selects(stored, response)) {
      http::Headers merged = stored;
      cache::policy::update_stored_headers(merged, response, cfg);
      // A stored complete response must not acquire a Content-Range from a 304.
      check(merged.count("content-range") <= stored.count("content-range"));
      if (!cfg.store_set_cookie) check(merged.count("set-cookie") <= stored.count("set-cookie"));
    }
    (void)cache::policy::head_response_freshens(stored, response, body.size());
  }
  http::TargetUri target;
  if (http::parse_absolute_target("http://origin.example:8080/a/b?c=d", target))
    (void)cache::policy::invalidation_targets(method, status, target, response);
  (void)cache::policy::conditional_request_headers(stored);
  (void)cache::policy::client_precondition_304(request, stored, 200);
  return 0;
}
