// The cache key builder (and the absolute-form target parser that feeds it) on hostile requests
// and policies, checked against the invariants lib/cache/key/README.md promises: the URL prefix,
// separators that no value can forge, HEAD keyed as GET, absent distinct from empty.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cache/key/cache_key.h"
#include "fuzz_input.h"
#include "http/request.h"

namespace {

using namespace cachefwd;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::string target_text = in.ConsumeRandomLengthString(256);
  http::TargetUri target;
  if (!http::parse_absolute_target(target_text, target)) return 0;
  // What we forward upstream (url()) must name the same target again.
  http::TargetUri again;
  check(http::parse_absolute_target(target.url(), again));
  check(again.scheme == target.scheme && again.host == target.host && again.port == target.port &&
        again.path == target.path && again.query == target.query && again.has_query == target.has_query);

  std::string method = in.ConsumeRandomLengthString(16);
  cache::key::KeyPolicy policy;
  policy.query = static_cast<cache::key::KeyPolicy::Query>(in.ConsumeIntegralInRange(0, 2));
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n)
    policy.ignore_query.push_back(in.ConsumeRandomLengthString(16));
  // Header names come from the operator (--key-headers, rules), which accept tokens only.
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) {
    std::string name = in.ConsumeRandomLengthString(16);
    if (!name.empty() && !has_control(name)) policy.headers.push_back(name);
  }
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n)
    policy.cookies.push_back(in.ConsumeRandomLengthString(16));
  policy.body_digest = in.ConsumeBool();
  policy.partition = in.ConsumeRandomLengthString(16);
  http::Headers headers = fuzz::headers_from(in.ConsumeRandomLengthString(512));
  std::string body = in.ConsumeBytesAsString(in.remaining_bytes());

  std::string key = cache::key::build_key(method, target, headers, body, policy);
  std::string prefix = cache::key::url_key_prefix(target, policy);
  check(key.starts_with(prefix));
  check(prefix == cache::key::normalized_url(target, policy) + cache::key::kKeySeparator);
  // One separator after the URL, one after the method, one per keyed header, cookie and digest:
  // a value that could add one could make two requests share an entry.
  auto separators = static_cast<std::size_t>(std::count(key.begin(), key.end(), cache::key::kKeySeparator));
  check(separators == 2 + policy.headers.size() + policy.cookies.size() + (policy.body_digest ? 1 : 0));
  if (method == "HEAD" || method == "GET")
    check(key == cache::key::build_key(method == "HEAD" ? "GET" : "HEAD", target, headers, body, policy));
  if (policy.headers.empty() && policy.cookies.empty() && !policy.body_digest && policy.partition.empty() &&
      policy.query == cache::key::KeyPolicy::Query::all && policy.ignore_query.empty())
    check(key == cache::key::primary_key(method, target));
  if (!policy.headers.empty()) {
    // Absent and empty are different entries (RFC 9111 §4.1), and so are two different values.
    const std::string& name = policy.headers.front();
    http::Headers absent = headers, empty = headers, other = headers;
    absent.remove(name);
    empty.set(name, "");
    std::string value = headers.combined(name);
    other.set(name, value + "x");
    std::string k_absent = cache::key::build_key(method, target, absent, body, policy);
    std::string k_empty = cache::key::build_key(method, target, empty, body, policy);
    check(k_absent != k_empty);
    check(cache::key::build_key(method, target, other, body, policy) != key);
  }
  (void)cache::key::vary_key(headers, headers);
  return 0;
}
