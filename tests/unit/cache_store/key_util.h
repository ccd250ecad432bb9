#pragma once
// Test keys like "k17". Built by appending: GCC 12 at -O2/-O3 reports a false -Wrestrict on
// `"literal" + std::to_string(n)`.
#include <string>
#include <string_view>

namespace cachefwd::cache::store::test {

inline std::string key_of(std::string_view prefix, unsigned long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

}  // namespace cachefwd::cache::store::test
