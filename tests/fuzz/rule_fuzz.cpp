// The --rule parser (also what config files' rule = [...] go through) on hostile specs, and the
// matcher on hostile hosts and paths. A parsed rule must be usable: added to a RuleSet and
// matched without fault, with a name only of the characters the syntax allows.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_input.h"
#include "rules/rule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view spec = fuzz::take_until(in, '\n');
  std::string_view host = fuzz::take_until(in, '\n');
  std::string_view path = fuzz::take_until(in, '\n');
  std::string_view method = in;

  rules::Rule defaults;
  std::string error;
  auto rule = rules::parse_rule(spec, defaults, &error);
  if (!rule) {
    if (error.empty()) __builtin_trap();  // a refusal must say why
    return 0;
  }
  for (char c : rule->name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) __builtin_trap();
  }
  rules::RuleSet set{rules::Rule{}};
  try {
    set.add(*rule);
  } catch (const std::invalid_argument&) {
    return 0;  // the name "default" is taken by the default rule
  }
  const rules::Rule& matched = set.match(host, path, method);
  if (rules::rule_matches(set.rules().front(), host, path, method) != (&matched == &set.rules().front()))
    __builtin_trap();
  (void)rules::glob_match(rule->host_glob, host, true);
  (void)rules::path_matches(rule->path_pattern, path);
  return 0;
}
