// Rules (issue #3 "Rules: per-route cache policy"): matching, partitions, and the --rule syntax.
#include "rules/rule.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cachefwd::rules {
namespace {

using cache::key::KeyPolicy;
using cache::policy::PolicyConfig;

Rule make(std::string name, std::string host, std::string path, std::set<std::string> methods = {}) {
  Rule r;
  r.name = std::move(name);
  r.host_glob = std::move(host);
  r.path_pattern = std::move(path);
  r.methods = std::move(methods);
  return r;
}

// --- globs -------------------------------------------------------------------------------------

TEST(Glob, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(glob_match("*", "", false));
  EXPECT_TRUE(glob_match("*", "anything/at.all", false));
  EXPECT_TRUE(glob_match("*.example.com", "api.example.com", false));
  EXPECT_TRUE(glob_match("*.example.com", "a.b.example.com", false));
  EXPECT_FALSE(glob_match("*.example.com", "example.com", false));  // the '.' is literal
  EXPECT_TRUE(glob_match("api*", "api", false));
  EXPECT_TRUE(glob_match("a*b*c", "abc", false));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc", false));
}

TEST(Glob, WholeTextMustMatch) {
  EXPECT_FALSE(glob_match("api.example.com", "api.example.com.evil.net", false));
  EXPECT_FALSE(glob_match("api.example.com", "xapi.example.com", false));
  EXPECT_FALSE(glob_match("*.com", "example.com.au", false));
  EXPECT_FALSE(glob_match("", "x", false));
  EXPECT_TRUE(glob_match("", "", false));
}

TEST(Glob, BacktracksAfterAFalseStart) {
  // The first 'b' after the star is not the one that leads to a match.
  EXPECT_TRUE(glob_match("*ab", "aab", false));
  EXPECT_TRUE(glob_match("*a*b", "xaxbyb", false));
  EXPECT_FALSE(glob_match("*a*b", "xaxbyc", false));
  EXPECT_TRUE(glob_match("/v1/*/items/*", "/v1/x/items/y/items/z", false));
}

TEST(Glob, OnlyStarIsSpecial) {
  EXPECT_FALSE(glob_match("a?c", "abc", false));
  EXPECT_TRUE(glob_match("a?c", "a?c", false));
  EXPECT_FALSE(glob_match("[ab]", "a", false));
}

TEST(Glob, CaseFoldingOnlyWhenAsked) {
  EXPECT_TRUE(glob_match("API.Example.COM", "api.example.com", true));
  EXPECT_TRUE(glob_match("*.EXAMPLE.com", "Www.example.COM", true));
  EXPECT_FALSE(glob_match("API.example.com", "api.example.com", false));
}

TEST(PathPattern, WithoutStarIsAPrefix) {
  EXPECT_TRUE(path_matches("/", "/"));
  EXPECT_TRUE(path_matches("/", "/anything"));
  EXPECT_TRUE(path_matches("/v1/users", "/v1/users"));
  EXPECT_TRUE(path_matches("/v1/users", "/v1/users/42"));
  EXPECT_TRUE(path_matches("/v1/users", "/v1/users2"));  // documented: plain string prefix
  EXPECT_FALSE(path_matches("/v1/users/", "/v1/users"));
  EXPECT_FALSE(path_matches("/v1/users", "/v1/user"));
  EXPECT_FALSE(path_matches("/v1/users", "/V1/users"));  // paths are case-sensitive
}

TEST(PathPattern, WithStarIsAWholePathGlobAndStarCrossesSlashes) {
  EXPECT_TRUE(path_matches("/v1/users/*", "/v1/users/42"));
  EXPECT_TRUE(path_matches("/v1/users/*", "/v1/users/42/orders/7"));
  EXPECT_TRUE(path_matches("/v1/users/*", "/v1/users/"));
  EXPECT_FALSE(path_matches("/v1/users/*", "/v1/users"));
  EXPECT_TRUE(path_matches("*.jpg", "/img/a/b.jpg"));
  EXPECT_FALSE(path_matches("*.jpg", "/img/a/b.jpg.html"));  // a glob is not a prefix
  EXPECT_TRUE(path_matches("/static/*/logo.png", "/static/v2/img/logo.png"));
}

// --- RuleSet -----------------------------------------------------------------------------------

TEST(RuleSet, DefaultRuleAnswersWhenNothingMatches) {
  Rule def;
  def.policy.default_ttl_ms = 1234;
  RuleSet rs(def);
  rs.add(make("api", "api.example.com", "/v1/"));
  const Rule& r = rs.match("www.example.com", "/index.html", "GET");
  EXPECT_EQ(r.name, "default");
  EXPECT_EQ(r.policy.default_ttl_ms, 1234);
  EXPECT_EQ(r.partition, "");
  EXPECT_EQ(&r, &rs.default_rule());
}

TEST(RuleSet, FirstMatchWinsInInsertionOrder) {
  RuleSet rs(Rule{});
  rs.add(make("narrow", "api.example.com", "/v1/users/*"));
  rs.add(make("broad", "*.example.com", "/"));
  rs.add(make("never", "api.example.com", "/v1/users/special"));  // shadowed by "narrow"
  EXPECT_EQ(rs.match("api.example.com", "/v1/users/special", "GET").name, "narrow");
  EXPECT_EQ(rs.match("api.example.com", "/v1/orders", "GET").name, "broad");
  EXPECT_EQ(rs.match("API.Example.com", "/v1/users/1", "GET").name, "narrow");  // host case-insensitive
  EXPECT_EQ(rs.match("example.com", "/v1/users/1", "GET").name, "default");

  RuleSet reversed(Rule{});
  reversed.add(make("broad", "*.example.com", "/"));
  reversed.add(make("narrow", "api.example.com", "/v1/users/*"));
  EXPECT_EQ(reversed.match("api.example.com", "/v1/users/1", "GET").name, "broad");
}

TEST(RuleSet, MethodsRestrictTheRuleAndAreCaseSensitive) {
  RuleSet rs(Rule{});
  rs.add(make("post", "*", "/search", {"POST"}));
  rs.add(make("reads", "*", "/search", {"GET", "HEAD"}));
  EXPECT_EQ(rs.match("h", "/search", "POST").name, "post");
  EXPECT_EQ(rs.match("h", "/search", "GET").name, "reads");
  EXPECT_EQ(rs.match("h", "/search", "HEAD").name, "reads");
  EXPECT_EQ(rs.match("h", "/search", "PUT").name, "default");
  EXPECT_EQ(rs.match("h", "/search", "get").name, "default");  // RFC 9110 §9.1
}

TEST(RuleSet, EmptyMethodSetMatchesAnyMethod) {
  RuleSet rs(Rule{});
  rs.add(make("any", "*", "/"));
  EXPECT_EQ(rs.match("h", "/", "DELETE").name, "any");
  EXPECT_EQ(rs.match("h", "/", "PURGE").name, "any");
}

TEST(RuleSet, RulesArePrivateByDefaultAndNamedPartitionsAreShared) {
  RuleSet rs(Rule{});
  Rule a = make("a", "a.example", "/");
  Rule b = make("b", "b.example", "/");
  Rule c = make("c", "c.example", "/");
  c.partition = "shared";
  Rule d = make("d", "d.example", "/");
  d.partition = "shared";
  Rule unnamed1 = make("", "e.example", "/");
  Rule unnamed2 = make("", "f.example", "/");
  for (Rule* r : {&a, &b, &c, &d, &unnamed1, &unnamed2}) rs.add(*r);

  const auto& rules = rs.rules();
  ASSERT_EQ(rules.size(), 6u);
  std::set<std::string> privates;
  for (size_t i : {0, 1, 4, 5}) {
    EXPECT_FALSE(rules[i].partition.empty()) << i;
    EXPECT_NE(rules[i].partition, "shared") << i;
    privates.insert(rules[i].partition);
  }
  EXPECT_EQ(privates.size(), 4u) << "identical requests under two private rules must never share";
  EXPECT_EQ(rules[2].partition, "shared");
  EXPECT_EQ(rules[3].partition, "shared");
  // The key builder reads key.partition: it must agree with the rule's.
  for (const Rule& r : rules) EXPECT_EQ(r.key.partition, r.partition);
  EXPECT_EQ(rs.default_rule().partition, "");
  EXPECT_EQ(rs.default_rule().key.partition, "");
  // No rule shares the default rule's partition.
  for (const Rule& r : rules) EXPECT_NE(r.partition, "");
}

TEST(RuleSet, UnnamedRulesGetDistinctNamesAndFindWorks) {
  RuleSet rs(Rule{});
  rs.add(make("", "a", "/"));
  rs.add(make("x", "b", "/"));
  rs.add(make("", "c", "/"));
  EXPECT_FALSE(rs.rules()[0].name.empty());
  EXPECT_NE(rs.rules()[0].name, rs.rules()[2].name);
  ASSERT_NE(rs.find("x"), nullptr);
  EXPECT_EQ(rs.find("x")->host_glob, "b");
  EXPECT_EQ(rs.find(rs.rules()[2].name)->host_glob, "c");
  EXPECT_EQ(rs.find("default"), &rs.default_rule());
  EXPECT_EQ(rs.find("nope"), nullptr);
}

TEST(RuleSet, DuplicateNamesAreRejected) {
  RuleSet rs(Rule{});
  rs.add(make("users", "a", "/"));
  EXPECT_THROW(rs.add(make("users", "b", "/")), std::invalid_argument);
  EXPECT_THROW(rs.add(make("default", "b", "/")), std::invalid_argument);
  EXPECT_EQ(rs.rules().size(), 1u);
}

TEST(RuleSet, DefaultRulePartitionIsForcedEmpty) {
  Rule def;
  def.partition = "x";
  def.key.partition = "x";
  RuleSet rs(def);
  EXPECT_EQ(rs.default_rule().partition, "");
  EXPECT_EQ(rs.default_rule().key.partition, "");
}

// --- parse_rule ----------------------------------------------------------------------------------

std::optional<Rule> parse(std::string_view spec, const Rule& defaults = Rule{}) {
  std::string err;
  auto r = parse_rule(spec, defaults, &err);
  EXPECT_TRUE(r.has_value()) << spec << " -> " << err;
  return r;
}

std::string parse_error(std::string_view spec, const Rule& defaults = Rule{}) {
  std::string err;
  auto r = parse_rule(spec, defaults, &err);
  EXPECT_FALSE(r.has_value()) << spec;
  EXPECT_FALSE(err.empty()) << spec;
  return err;
}

TEST(ParseRule, TheDocumentedExample) {
  auto r = parse(
      "name=users,host=api.example.com,path=/v1/users/*,methods=GET|HEAD|POST,ttl=30s,ttl-mode=clamp,"
      "min-ttl=1s,max-ttl=1h,cache-status=404=30s;500=5s,key-query=sorted,key-ignore-query=utm_*|fbclid,"
      "key-headers=Accept|Accept-Language,key-cookies=lang,cache-methods=GET|HEAD|POST,set-cookie=store,"
      "partition=shared,max-entries=100,max-bytes=10MiB,stale-if-error=5m,heuristic=on");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "users");
  EXPECT_EQ(r->host_glob, "api.example.com");
  EXPECT_EQ(r->path_pattern, "/v1/users/*");
  EXPECT_EQ(r->methods, (std::set<std::string>{"GET", "HEAD", "POST"}));
  EXPECT_TRUE(r->cache_enabled);
  EXPECT_EQ(r->policy.default_ttl_ms, 30'000);
  EXPECT_EQ(r->policy.ttl_mode, PolicyConfig::TtlMode::clamp);
  EXPECT_EQ(r->policy.min_ttl_ms, 1'000);
  EXPECT_EQ(r->policy.max_ttl_ms, 3'600'000);
  EXPECT_EQ(r->policy.status_ttl_ms, (std::map<int, std::int64_t>{{404, 30'000}, {500, 5'000}}));
  EXPECT_EQ(r->key.query, KeyPolicy::Query::sorted);
  EXPECT_EQ(r->key.ignore_query, (std::vector<std::string>{"utm_*", "fbclid"}));
  EXPECT_EQ(r->key.headers, (std::vector<std::string>{"Accept", "Accept-Language"}));
  EXPECT_EQ(r->key.cookies, (std::vector<std::string>{"lang"}));
  EXPECT_EQ(r->policy.cacheable_methods, (std::set<std::string>{"GET", "HEAD", "POST"}));
  EXPECT_TRUE(r->key.body_digest);
  EXPECT_TRUE(r->policy.store_set_cookie);
  EXPECT_EQ(r->partition, "shared");
  EXPECT_EQ(r->key.partition, "shared");
  EXPECT_EQ(r->max_entries, 100u);
  EXPECT_EQ(r->max_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(r->policy.stale_if_error_ms, 300'000);
  EXPECT_TRUE(r->policy.heuristic);
}

TEST(ParseRule, UnspecifiedOptionsInheritTheGlobalFlags) {
  Rule g;  // what the global flags made
  g.policy.default_ttl_ms = 60'000;
  g.policy.ttl_mode = PolicyConfig::TtlMode::override;
  g.policy.status_ttl_ms = {{404, 1'000}};
  g.policy.heuristic = true;
  g.policy.stale_if_error_ms = 7'000;
  g.key.query = KeyPolicy::Query::none;
  g.key.ignore_query = {"utm_*"};
  g.key.headers = {"Accept"};
  g.cache_enabled = true;
  auto r = parse("host=*.example.com,ttl=5s", g);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->policy.default_ttl_ms, 5'000);  // given
  EXPECT_EQ(r->policy.ttl_mode, PolicyConfig::TtlMode::override);
  EXPECT_EQ(r->policy.status_ttl_ms, g.policy.status_ttl_ms);
  EXPECT_TRUE(r->policy.heuristic);
  EXPECT_EQ(r->policy.stale_if_error_ms, 7'000);
  EXPECT_EQ(r->key.query, KeyPolicy::Query::none);
  EXPECT_EQ(r->key.ignore_query, g.key.ignore_query);
  EXPECT_EQ(r->key.headers, g.key.headers);
  EXPECT_EQ(r->path_pattern, "/");
  EXPECT_TRUE(r->methods.empty());
}

TEST(ParseRule, SelectorPartitionAndLimitsAreNotInherited) {
  Rule g;
  g.name = "global";
  g.host_glob = "only.this";
  g.path_pattern = "/only";
  g.methods = {"GET"};
  g.partition = "p";
  g.key.partition = "p";
  g.max_entries = 5;
  g.max_bytes = 5;
  auto r = parse("ttl=1s", g);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
  EXPECT_EQ(r->host_glob, "*");
  EXPECT_EQ(r->path_pattern, "/");
  EXPECT_TRUE(r->methods.empty());
  EXPECT_EQ(r->partition, "");
  EXPECT_EQ(r->key.partition, "");
  EXPECT_EQ(r->max_entries, 0u);
  EXPECT_EQ(r->max_bytes, 0u);
}

TEST(ParseRule, EmptyListValuesClearInheritedLists) {
  Rule g;
  g.key.ignore_query = {"utm_*"};
  g.key.headers = {"Accept"};
  g.key.cookies = {"sid"};
  g.policy.status_ttl_ms = {{500, 5'000}};
  auto r = parse("key-ignore-query=,key-headers=,key-cookies=,cache-status=", g);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->key.ignore_query.empty());
  EXPECT_TRUE(r->key.headers.empty());
  EXPECT_TRUE(r->key.cookies.empty());
  EXPECT_TRUE(r->policy.status_ttl_ms.empty());
}

TEST(ParseRule, TtlModes) {
  EXPECT_EQ(parse("ttl-mode=respect")->policy.ttl_mode, PolicyConfig::TtlMode::respect);
  EXPECT_EQ(parse("ttl-mode=override")->policy.ttl_mode, PolicyConfig::TtlMode::override);
  EXPECT_EQ(parse("ttl-mode=clamp")->policy.ttl_mode, PolicyConfig::TtlMode::clamp);
}

TEST(ParseRule, KeyQueryModes) {
  EXPECT_EQ(parse("key-query=all")->key.query, KeyPolicy::Query::all);
  EXPECT_EQ(parse("key-query=sorted")->key.query, KeyPolicy::Query::sorted);
  EXPECT_EQ(parse("key-query=none")->key.query, KeyPolicy::Query::none);
}

TEST(ParseRule, BooleansAndSwitches) {
  EXPECT_FALSE(parse("cache=off")->cache_enabled);
  Rule off;
  off.cache_enabled = false;
  EXPECT_TRUE(parse("cache=on", off)->cache_enabled);
  EXPECT_FALSE(parse("path=/x", off)->cache_enabled);  // inherited
  EXPECT_TRUE(parse("key-body=on")->key.body_digest);
  EXPECT_FALSE(parse("key-body=off")->key.body_digest);
  EXPECT_TRUE(parse("heuristic=true")->policy.heuristic);
  EXPECT_FALSE(parse("heuristic=no")->policy.heuristic);
  EXPECT_FALSE(parse("set-cookie=no-store")->policy.store_set_cookie);
  EXPECT_EQ(parse("heuristic-max=2h")->policy.heuristic_max_ms, 7'200'000);
}

TEST(ParseRule, DurationsAndSizesUseTheBaseUnits) {
  EXPECT_EQ(parse("ttl=500ms")->policy.default_ttl_ms, 500);
  EXPECT_EQ(parse("ttl=90")->policy.default_ttl_ms, 90'000);  // bare number = seconds
  EXPECT_EQ(parse("ttl=1d")->policy.default_ttl_ms, 86'400'000);
  EXPECT_EQ(parse("max-bytes=64KiB")->max_bytes, 65'536u);
  EXPECT_EQ(parse("max-bytes=4096")->max_bytes, 4'096u);
  EXPECT_EQ(parse("max-entries=0")->max_entries, 0u);
}

TEST(ParseRule, HostMayBeAnIpv6LiteralButNeverCarriesAPort) {
  EXPECT_EQ(parse("host=[2001:db8::1]")->host_glob, "[2001:db8::1]");
  EXPECT_EQ(parse("host=10.0.0.*")->host_glob, "10.0.0.*");
  EXPECT_NE(parse_error("host=10.0.0.1:80").rfind("host:", 0), std::string::npos);
  EXPECT_NE(parse_error("host=[::1]:80").rfind("host:", 0), std::string::npos);
}

TEST(ParseRule, WhitespaceAroundOptionsIsIgnored) {
  auto r = parse(" name = a , ttl = 5s ,methods= GET | HEAD ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "a");
  EXPECT_EQ(r->policy.default_ttl_ms, 5'000);
  EXPECT_EQ(r->methods, (std::set<std::string>{"GET", "HEAD"}));
}

// POST without body hashing returns wrong answers (seed "Connect"): it turns body hashing on.
TEST(ParseRule, CachingPostTurnsOnBodyDigest) {
  auto r = parse("cache-methods=GET|POST");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->key.body_digest);
  EXPECT_EQ(r->policy.cacheable_methods, (std::set<std::string>{"GET", "POST"}));
  auto g = parse("cache-methods=GET|HEAD");
  EXPECT_FALSE(g->key.body_digest);
  // Inherited POST also forces it, and an explicit key-body=off contradicts it.
  Rule post;
  post.policy.cacheable_methods = {"GET", "POST"};
  EXPECT_TRUE(parse("ttl=1s", post)->key.body_digest);
  EXPECT_NE(parse_error("key-body=off", post).find("key-body"), std::string::npos);
  EXPECT_NE(parse_error("cache-methods=POST,key-body=off").find("key-body"), std::string::npos);
}

TEST(ParseRule, ParsedRulesMatchInARuleSet) {
  RuleSet rs(Rule{});
  rs.add(*parse("name=img,path=*.png,cache-status=404=10s"));
  rs.add(*parse("name=api,host=API.example.com,path=/v1/,methods=GET"));
  EXPECT_EQ(rs.match("cdn.example.com", "/a/b.png", "GET").name, "img");
  EXPECT_EQ(rs.match("api.example.com", "/v1/x", "GET").name, "api");
  EXPECT_EQ(rs.match("api.example.com", "/v1/x", "POST").name, "default");
  EXPECT_NE(rs.rules()[0].partition, rs.rules()[1].partition);
}

// Each error names the offending option.
TEST(ParseRule, ErrorsNameTheOffendingOption) {
  struct Case {
    const char* spec;
    const char* key;
  } cases[] = {
      {"ttl=abc", "ttl"},
      {"ttl=-5s", "ttl"},
      {"min-ttl=1x", "min-ttl"},
      {"max-ttl=", "max-ttl"},
      {"stale-if-error=soon", "stale-if-error"},
      {"heuristic-max=x", "heuristic-max"},
      {"ttl-mode=always", "ttl-mode"},
      {"key-query=some", "key-query"},
      {"cache=maybe", "cache"},
      {"key-body=2", "key-body"},
      {"heuristic=sometimes", "heuristic"},
      {"set-cookie=yes please", "set-cookie"},
      {"cache-status=404", "cache-status"},
      {"cache-status=99=5s", "cache-status"},
      {"cache-status=600=5s", "cache-status"},
      {"cache-status=404=never", "cache-status"},
      {"cache-status=404=1s;404=2s", "cache-status"},
      {"cache-methods=GET|PUT", "cache-methods"},
      {"cache-methods=get", "cache-methods"},
      {"cache-methods=", "cache-methods"},
      {"methods=", "methods"},
      {"methods=GET|BAD METHOD", "methods"},
      {"key-headers=Accept|Bad Header", "key-headers"},
      {"key-cookies=a;b", "key-cookies"},
      {"key-ignore-query=a=b", "key-ignore-query"},
      {"max-entries=-1", "max-entries"},
      {"max-entries=ten", "max-entries"},
      {"max-bytes=10 parsecs", "max-bytes"},
      {"partition=a:b", "partition"},
      {"partition=", "partition"},
      {"name=has space", "name"},
      {"name=#1", "name"},
      {"host=", "host"},
      {"host=api.example.com:8080", "host"},
      {"path=v1/users", "path"},
      {"path=/search?q=*", "path"},
      {"colour=blue", "colour"},
      {"ttl", "ttl"},
      {"ttl=1s,ttl=2s", "ttl"},
      {"min-ttl=1h,max-ttl=1m", "min-ttl"},
  };
  for (const auto& c : cases) {
    std::string err = parse_error(c.spec);
    EXPECT_EQ(err.rfind(std::string(c.key) + ":", 0), 0u) << c.spec << " -> " << err;
  }
}

TEST(ParseRule, StructuralErrors) {
  parse_error("");
  parse_error("   ");
  parse_error("ttl=1s,,name=a");
  parse_error("ttl=1s,");
  // A null error pointer is allowed.
  EXPECT_FALSE(parse_rule("ttl=x", Rule{}, nullptr).has_value());
}

TEST(ParseRule, SyntaxHelpMentionsEveryOption) {
  for (const char* key :
       {"name=",        "host=",          "path=",           "methods=",       "cache=",
        "ttl=",         "ttl-mode=",      "min-ttl=",        "max-ttl=",       "cache-status=",
        "heuristic=",   "heuristic-max=", "stale-if-error=", "key-query=",     "key-ignore-query=",
        "key-headers=", "key-cookies=",   "key-body=",       "cache-methods=", "set-cookie=",
        "partition=",   "max-entries=",   "max-bytes=",      "upstream="})
    EXPECT_NE(kRuleSyntax.find(key), std::string_view::npos) << key;
}

TEST(ParseRule, UpstreamNamesTheServiceTheRuleRoutesTo) {
  auto r = parse("name=users,path=/users/*,upstream=https://users.internal:8443/v1,ttl=30s,max-entries=100");
  ASSERT_TRUE(r && r->upstream);
  EXPECT_EQ(r->upstream->scheme, "https");
  EXPECT_EQ(r->upstream->host, "users.internal");
  EXPECT_EQ(r->upstream->port, 8443);
  EXPECT_EQ(r->upstream->path, "/v1");
  EXPECT_FALSE(parse("path=/x")->upstream) << "no upstream unless named";
  EXPECT_NE(parse_error("upstream=ftp://h/").find("upstream"), std::string::npos);
  EXPECT_NE(parse_error("upstream=/relative").find("upstream"), std::string::npos);
  RuleSet set{Rule{}};
  EXPECT_FALSE(set.routes_upstreams());
  set.add(*parse("path=/a"));
  EXPECT_FALSE(set.routes_upstreams());
  set.add(*parse("path=/b,upstream=http://b.internal/"));
  EXPECT_TRUE(set.routes_upstreams());
}

}  // namespace
}  // namespace cachefwd::rules
