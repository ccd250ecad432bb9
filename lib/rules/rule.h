#pragma once
// Per-route cache policy (issue #3 "Rules"): a rule matches requests by host glob, path prefix or
// glob and method, and carries its own policy, key policy, limits and partition. Rules come from
// repeatable `--rule` flags and the config file; the global flags form the default rule. Pure.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cache/key/key_policy.h"
#include "cache/policy/config.h"
#include "http/request.h"

namespace cachefwd::rules {

struct Rule {
  // Unique within a RuleSet; unnamed rules are named "#<position>" (1-based) by RuleSet::add.
  std::string name;
  // Matched against the request's host name without port, ASCII case-insensitively; '*' matches
  // any run of characters (including none and including '.').
  std::string host_glob = "*";
  // Matched against the path without the query. Without '*' it is a plain prefix ("/v1/users"
  // also matches "/v1/users2"; write "/v1/users/" for a segment boundary); with '*' it is a glob
  // over the whole path, '*' matching any run including '/'. Case-sensitive (RFC 3986 §6.2.2.1:
  // paths are case-sensitive).
  std::string path_pattern = "/";
  // Request methods the rule applies to, case-sensitive (RFC 9110 §9.1); empty = any.
  std::set<std::string> methods;
  // false: requests matching this rule bypass the cache (forwarded, never stored).
  bool cache_enabled = true;
  cache::policy::PolicyConfig policy;
  cache::key::KeyPolicy key;
  // Per-rule limits inside the global --max-bytes; 0 = none (the global limit alone applies).
  std::uint64_t max_entries = 0;
  std::uint64_t max_bytes = 0;
  // Rules naming the same partition share entries. RuleSet::add gives a rule without one a
  // private partition ("rule:<name>", or "rule:#<position>" when unnamed) and copies the result
  // into key.partition, which is what the key builder reads. The default rule's partition is "".
  std::string partition;
  // Gateway mode: origin-form requests this rule matches go to this http(s) URL (its path a
  // prefix) instead of --upstream, so one cachefwd fronts several services.
  std::optional<http::TargetUri> upstream;
};

// Glob with '*' as the only metacharacter (any run of characters, including none). The whole of
// `text` must match. ASCII case folding when `case_insensitive`.
bool glob_match(std::string_view pattern, std::string_view text, bool case_insensitive) noexcept;
// Rule::path_pattern semantics: prefix unless the pattern contains '*', then a whole-path glob.
bool path_matches(std::string_view pattern, std::string_view path) noexcept;
// Does the rule's host/path/method selector match this request?
bool rule_matches(const Rule& rule, std::string_view host, std::string_view path,
                  std::string_view method) noexcept;

class RuleSet {
 public:
  // The default rule answers requests no other rule matches; its partition is forced to "" and
  // its selector is ignored. Unnamed, it is called "default".
  explicit RuleSet(Rule default_rule);

  // Appends a rule (later rules have lower priority). Fills in the name and private partition as
  // described at Rule::partition. Throws std::invalid_argument when another rule (or the default)
  // already has this name: two rules with one name would share a private partition. References
  // returned by match()/rules() are invalidated by add().
  void add(Rule rule);

  // The first added rule whose selector matches; the default rule when none does.
  const Rule& match(std::string_view host, std::string_view path, std::string_view method) const noexcept;

  const std::vector<Rule>& rules() const noexcept { return rules_; }
  const Rule& default_rule() const noexcept { return default_; }
  // The rule named `name` (the default included); nullptr when there is none.
  const Rule* find(std::string_view name) const noexcept;
  // True when some rule names an upstream (the proxy then routes origin-form requests by rule).
  bool routes_upstreams() const noexcept;

 private:
  Rule default_;
  std::vector<Rule> rules_;
};

// Parses a `--rule` value: comma-separated key=value options, list values separated by '|'.
// Options not given are inherited from `defaults` (the rule the global flags make), except the
// selector (name, host, path, methods), the partition and the per-rule limits, which start from
// Rule{}'s values: a rule is its own route with its own budget. On error returns nullopt and, when
// `error` is non-null, stores a message naming the offending option. The syntax is kRuleSyntax.
std::optional<Rule> parse_rule(std::string_view spec, const Rule& defaults, std::string* error);

// Help text for --rule (used by --help and the man page).
extern const std::string_view kRuleSyntax;

}  // namespace cachefwd::rules
