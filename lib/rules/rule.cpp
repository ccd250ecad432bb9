#include "rules/rule.h"

#include <stdexcept>

#include "base/strings.h"

namespace cachefwd::rules {

const std::string_view kRuleSyntax =
    R"(--rule 'OPTION=VALUE,OPTION=VALUE,...'   (repeatable; the first matching rule wins)
Options not given are inherited from the global flags, except the selector, partition and limits.
List values are separated by '|'. Durations: 500ms, 30s, 5m, 1h, 1d (bare number = seconds).
Sizes: 4096, 64KiB, 10MiB, 1GiB.
  name=NAME                  rule name [A-Za-z0-9_.-] (default "#<position>"); used in metrics
  host=GLOB                  host without port, case-insensitive, '*' = any run (default *)
  path=PREFIX|GLOB           path without query: a prefix, or a whole-path glob when it has '*'
                             ('*' also matches '/') (default /)
  methods=M|M...             request methods the rule applies to (default: any)
  cache=on|off               off: matching requests bypass the cache
  ttl=DURATION               lifetime when the origin gives none (--ttl)
  ttl-mode=respect|override|clamp
  min-ttl=DURATION           lower bound in clamp mode
  max-ttl=DURATION           upper bound in clamp mode (0 = none)
  cache-status=CODE=DURATION;CODE=DURATION   store these statuses for exactly this long (empty = none)
  heuristic=on|off           RFC 9111 §4.2.2 lifetime from Last-Modified
  heuristic-max=DURATION     cap of the heuristic lifetime
  stale-if-error=DURATION    serve stale this long past expiry when the upstream fails
  key-query=all|sorted|none  query in the key: as sent, parameters sorted, or dropped
  key-ignore-query=GLOB|...  query parameters left out of the key, e.g. utm_*|fbclid
  key-headers=NAME|...       request header values that become part of the key
  key-cookies=NAME|...       cookie values that become part of the key
  key-body=on|off            key on a SHA-256 of the request body (on whenever POST is cacheable)
  cache-methods=GET|HEAD|POST  methods whose responses may be stored
  set-cookie=store|no-store  store responses that carry Set-Cookie (default no-store)
  partition=NAME             rules naming the same partition share entries (default: private)
  max-entries=N              entry limit of this rule's entries (0 = none)
  max-bytes=SIZE             byte limit of this rule's entries (0 = none)
  upstream=URL               gateway mode: send matching origin-form requests to this http or
                             https URL (its path a prefix) instead of --upstream
Example: name=users,host=api.example.com,path=/v1/users/*,ttl=30s,ttl-mode=override,max-entries=100
)";

bool glob_match(std::string_view pattern, std::string_view text, bool case_insensitive) noexcept {
  auto eq = [case_insensitive](char a, char b) {
    return case_insensitive ? ascii_lower(a) == ascii_lower(b) : a == b;
  };
  // Greedy match with backtracking to the last '*': linear in practice, O(|p|*|t|) worst case,
  // never exponential (no recursion per star).
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && eq(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool path_matches(std::string_view pattern, std::string_view path) noexcept {
  if (pattern.find('*') == std::string_view::npos) return path.substr(0, pattern.size()) == pattern;
  return glob_match(pattern, path, false);
}

bool rule_matches(const Rule& rule, std::string_view host, std::string_view path,
                  std::string_view method) noexcept {
  if (!rule.methods.empty() && rule.methods.find(std::string(method)) == rule.methods.end()) return false;
  return glob_match(rule.host_glob, host, true) && path_matches(rule.path_pattern, path);
}

RuleSet::RuleSet(Rule default_rule) : default_(std::move(default_rule)) {
  if (default_.name.empty()) default_.name = "default";
  default_.partition.clear();
  default_.key.partition.clear();
}

void RuleSet::add(Rule rule) {
  if (rule.name.empty()) rule.name = "#" + std::to_string(rules_.size() + 1);
  if (find(rule.name) != nullptr)
    throw std::invalid_argument("rule name '" + rule.name + "' is used by another rule");
  if (rule.partition.empty()) rule.partition = rule.key.partition;
  // ':' cannot appear in a partition parse_rule accepts, so a private partition never meets a
  // named one.
  if (rule.partition.empty()) rule.partition = "rule:" + rule.name;
  rule.key.partition = rule.partition;
  rules_.push_back(std::move(rule));
}

const Rule& RuleSet::match(std::string_view host, std::string_view path,
                           std::string_view method) const noexcept {
  for (const Rule& r : rules_)
    if (rule_matches(r, host, path, method)) return r;
  return default_;
}

bool RuleSet::routes_upstreams() const noexcept {
  for (const Rule& r : rules_)
    if (r.upstream) return true;
  return false;
}

const Rule* RuleSet::find(std::string_view name) const noexcept {
  if (default_.name == name) return &default_;
  for (const Rule& r : rules_)
    if (r.name == name) return &r;
  return nullptr;
}

namespace {

// RFC 9110 §5.6.2 tchar: methods, field names and cookie names are tokens.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}
bool is_simple_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(trim_ows(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "on" || v == "true" || v == "yes" || v == "1") return true;
  if (v == "off" || v == "false" || v == "no" || v == "0") return false;
  return std::nullopt;
}

class Parser {
 public:
  Parser(const Rule& defaults, std::string* error) : error_(error) {
    // Inherit the cache behaviour, not the route: selector, partition and limits start fresh.
    rule_.cache_enabled = defaults.cache_enabled;
    rule_.policy = defaults.policy;
    rule_.key = defaults.key;
    rule_.key.partition.clear();
  }

  std::optional<Rule> run(std::string_view spec) {
    if (trim_ows(spec).empty()) return fail("rule: empty specification");
    for (std::string_view item : split(spec, ',')) {
      if (item.empty()) return fail("rule: empty option (stray ',')");
      size_t eq = item.find('=');
      if (eq == std::string_view::npos)
        return fail(std::string(item) + ": expected " + std::string(item) + "=VALUE");
      std::string_view key = trim_ows(item.substr(0, eq));
      std::string_view value = trim_ows(item.substr(eq + 1));
      if (!seen_.insert(std::string(key)).second) return fail(std::string(key) + ": given twice");
      if (!option(key, value)) return std::nullopt;
    }
    return finish();
  }

 private:
  std::nullopt_t fail(std::string message) {
    if (error_ != nullptr) *error_ = std::move(message);
    return std::nullopt;
  }
  bool bad(std::string_view key, std::string_view what, std::string_view value) {
    fail(std::string(key) + ": " + std::string(what) + " '" + std::string(value) + "'");
    return false;
  }

  bool duration(std::string_view key, std::string_view v, std::int64_t& out) {
    auto d = parse_duration_ms(v);
    if (!d) return bad(key, "invalid duration (e.g. 500ms, 30s, 5m, 1h)", v);
    out = *d;
    return true;
  }
  bool boolean(std::string_view key, std::string_view v, bool& out) {
    auto b = parse_bool(v);
    if (!b) return bad(key, "expected on or off, got", v);
    out = *b;
    return true;
  }
  // '|'-separated list; an empty value is the empty list (overrides an inherited list).
  bool list(std::string_view key, std::string_view v, bool (*valid)(std::string_view),
            std::vector<std::string>& out) {
    out.clear();
    if (v.empty()) return true;
    for (std::string_view e : split(v, '|')) {
      if (!valid(e)) return bad(key, "invalid list element", e);
      out.emplace_back(e);
    }
    return true;
  }

  bool option(std::string_view key, std::string_view v) {
    auto& p = rule_.policy;
    if (key == "name") {
      if (!is_simple_name(v)) return bad(key, "expected letters, digits, '_', '.', '-', got", v);
      rule_.name = v;
    } else if (key == "host") {
      // ':' only inside an IPv6 literal: "host:port" would never match, as hosts are matched
      // without their port.
      bool ipv6 = v.size() > 2 && v.front() == '[' && v.back() == ']';
      if (v.empty() || v.find_first_of(ipv6 ? " \t/?#@" : " \t/?#@:[]") != std::string_view::npos)
        return bad(key, "expected a host name glob without port, got", v);
      rule_.host_glob = v;
    } else if (key == "path") {
      if (v.empty() || (v.front() != '/' && v.front() != '*'))
        return bad(key, "expected a path starting with '/' (or '*'), got", v);
      if (v.find_first_of(" \t?#") != std::string_view::npos)
        return bad(key, "paths are matched without the query; invalid pattern", v);
      rule_.path_pattern = v;
    } else if (key == "methods") {
      std::vector<std::string> ms;
      if (v.empty()) return bad(key, "expected at least one method, got", v);
      if (!list(key, v, is_token, ms)) return false;
      rule_.methods = std::set<std::string>(ms.begin(), ms.end());
    } else if (key == "cache") {
      return boolean(key, v, rule_.cache_enabled);
    } else if (key == "ttl") {
      return duration(key, v, p.default_ttl_ms);
    } else if (key == "ttl-mode") {
      using M = cache::policy::PolicyConfig::TtlMode;
      if (v == "respect")
        p.ttl_mode = M::respect;
      else if (v == "override")
        p.ttl_mode = M::override;
      else if (v == "clamp")
        p.ttl_mode = M::clamp;
      else
        return bad(key, "expected respect, override or clamp, got", v);
    } else if (key == "min-ttl") {
      return duration(key, v, p.min_ttl_ms);
    } else if (key == "max-ttl") {
      return duration(key, v, p.max_ttl_ms);
    } else if (key == "cache-status") {
      p.status_ttl_ms.clear();
      if (v.empty()) return true;
      for (std::string_view e : split(v, ';')) {
        size_t eq = e.find('=');
        if (eq == std::string_view::npos) return bad(key, "expected CODE=DURATION, got", e);
        auto code = parse_decimal(trim_ows(e.substr(0, eq)));
        if (!code || *code < 100 || *code > 599) return bad(key, "invalid status code in", e);
        std::int64_t ttl = 0;
        if (!duration(key, trim_ows(e.substr(eq + 1)), ttl)) return false;
        if (!p.status_ttl_ms.emplace(static_cast<int>(*code), ttl).second)
          return bad(key, "status given twice in", v);
      }
    } else if (key == "heuristic") {
      return boolean(key, v, p.heuristic);
    } else if (key == "heuristic-max") {
      return duration(key, v, p.heuristic_max_ms);
    } else if (key == "stale-if-error") {
      return duration(key, v, p.stale_if_error_ms);
    } else if (key == "key-query") {
      using Q = cache::key::KeyPolicy::Query;
      if (v == "all")
        rule_.key.query = Q::all;
      else if (v == "sorted")
        rule_.key.query = Q::sorted;
      else if (v == "none")
        rule_.key.query = Q::none;
      else
        return bad(key, "expected all, sorted or none, got", v);
    } else if (key == "key-ignore-query") {
      return list(
          key, v, [](std::string_view e) { return !e.empty() && e.find_first_of("&=# \t") == e.npos; },
          rule_.key.ignore_query);
    } else if (key == "key-headers") {
      return list(key, v, is_token, rule_.key.headers);
    } else if (key == "key-cookies") {
      return list(key, v, is_token, rule_.key.cookies);
    } else if (key == "key-body") {
      return boolean(key, v, rule_.key.body_digest);
    } else if (key == "cache-methods") {
      std::vector<std::string> ms;
      if (v.empty()) return bad(key, "expected at least one method, got", v);
      if (!list(key, v, is_token, ms)) return false;
      for (const auto& m : ms) {
        // RFC 9110 §9.3: of the standard methods only GET, HEAD and POST have cacheable responses
        // (PUT, DELETE, OPTIONS, TRACE, CONNECT responses are not). Method names are case-sensitive.
        if (m != "GET" && m != "HEAD" && m != "POST")
          return bad(key, "only GET, HEAD and POST responses are cacheable; got", m);
      }
      p.cacheable_methods = std::set<std::string>(ms.begin(), ms.end());
    } else if (key == "set-cookie") {
      if (v == "store" || v == "on")
        p.store_set_cookie = true;
      else if (v == "no-store" || v == "off")
        p.store_set_cookie = false;
      else
        return bad(key, "expected store or no-store, got", v);
    } else if (key == "partition") {
      if (!is_simple_name(v)) return bad(key, "expected letters, digits, '_', '.', '-', got", v);
      rule_.partition = v;
    } else if (key == "max-entries") {
      auto n = parse_decimal(v);
      if (!n) return bad(key, "expected a non-negative integer, got", v);
      rule_.max_entries = static_cast<std::uint64_t>(*n);
    } else if (key == "upstream") {
      http::TargetUri u;
      if (!http::parse_absolute_target(v, u)) return bad(key, "expected an http or https URL, got", v);
      rule_.upstream = std::move(u);
    } else if (key == "max-bytes") {
      auto n = parse_size(v);
      if (!n) return bad(key, "invalid size (e.g. 4096, 64KiB, 10MiB), got", v);
      rule_.max_bytes = *n;
    } else {
      fail(std::string(key) + ": unknown option");
      return false;
    }
    return true;
  }

  std::optional<Rule> finish() {
    auto& p = rule_.policy;
    if (p.max_ttl_ms > 0 && p.min_ttl_ms > p.max_ttl_ms)
      return fail(std::string(seen_.count("min-ttl") ? "min-ttl" : "max-ttl") +
                  ": min-ttl is larger than max-ttl");
    if (p.cacheable_methods.count("POST") != 0) {
      // A POST response keyed without the body answers one request's body with another's result
      // (the seeds' per-service cache gets this wrong): POST caching always keys on the body.
      if (seen_.count("key-body") != 0 && !rule_.key.body_digest)
        return fail("key-body: cannot be off when cache-methods includes POST");
      rule_.key.body_digest = true;
    }
    rule_.key.partition = rule_.partition;
    return std::move(rule_);
  }

  Rule rule_;
  std::set<std::string> seen_;
  std::string* error_;
};

}  // namespace

std::optional<Rule> parse_rule(std::string_view spec, const Rule& defaults, std::string* error) {
  return Parser(defaults, error).run(spec);
}

}  // namespace cachefwd::rules
