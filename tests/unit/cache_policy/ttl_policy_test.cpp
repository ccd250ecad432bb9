// Operator TTL policy (issue #3): --ttl-mode respect|override|clamp, --cache-status per-status TTLs,
// --cache-methods, Set-Cookie storage, --stale-if-error; and the RFC 9111 rules they must not
// override (§3 no-store / private, §3.5 Authorization, §4 unsafe methods written through,
// §5.2.2.2 must-revalidate).
#include <gtest/gtest.h>

#include "cache/policy/freshness.h"
#include "cache/policy/storability.h"

namespace cachefwd::cache::policy {
namespace {

constexpr UnixMillis kT = 784111777LL * 1000;  // Sun, 06 Nov 1994 08:49:37 GMT
const char* const kDate = "Sun, 06 Nov 1994 08:49:37 GMT";
const char* const kDatePlus1h = "Sun, 06 Nov 1994 09:49:37 GMT";
const char* const kDateMinus10d = "Thu, 27 Oct 1994 08:49:37 GMT";
const http::Headers kNone;

std::int64_t lifetime(const http::Headers& h, int status, const PolicyConfig& cfg) {
  return freshness_lifetime_ms(status, h, kT, cfg);
}

Storability store(const PolicyConfig& cfg, int status, const http::Headers& res,
                  const http::Headers& req = kNone, std::string_view method = "GET") {
  return storability(method, req, status, res, cfg);
}

PolicyConfig mode(PolicyConfig::TtlMode m, std::int64_t ttl, std::int64_t min = 0, std::int64_t max = 0) {
  PolicyConfig cfg;
  cfg.ttl_mode = m;
  cfg.default_ttl_ms = ttl;
  cfg.min_ttl_ms = min;
  cfg.max_ttl_ms = max;
  return cfg;
}

// ---- ttl_mode ----

TEST(TtlMode, RespectKeepsOriginLifetimeAndFillsInDefault) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::respect, 30'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 200, cfg), 5'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=0"}}, 200, cfg), 0);
  EXPECT_EQ(lifetime({}, 200, cfg), 30'000);
}

TEST(TtlMode, OverrideReplacesOriginLifetime) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::override, 30'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=999999"}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "s-maxage=1, max-age=2"}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Expires", kDatePlus1h}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({{"Expires", "0"}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({}, 301, cfg), 30'000);
  // An explicit lifetime on a 404 is replaced too; a 404 without one stays unfresh (negative
  // caching is opt-in) and a 500 never gets one from the mode.
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 404, cfg), 30'000);
  EXPECT_EQ(lifetime({}, 404, cfg), 0);
  EXPECT_EQ(lifetime({}, 500, cfg), 0);
}

TEST(TtlMode, OverrideWithoutTtlActsAsRespect) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::override, 0);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 200, cfg), 5'000);
  EXPECT_EQ(lifetime({}, 200, cfg), 0);
}

TEST(TtlMode, ClampRaisesToMinAndLowersToMax) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::clamp, 0, 10'000, 60'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 200, cfg), 10'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=30"}}, 200, cfg), 30'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=3600"}}, 200, cfg), 60'000);
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Expires", kDatePlus1h}}, 200, cfg), 60'000);
  // max-age=0 and an invalid Expires are lifetimes of 0: raised to the minimum.
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=0"}}, 200, cfg), 10'000);
  EXPECT_EQ(lifetime({{"Expires", "-1"}}, 200, cfg), 10'000);
  // No lifetime at all on a default-cacheable status: the minimum.
  EXPECT_EQ(lifetime({}, 200, cfg), 10'000);
  // 404 with an explicit lifetime is clamped; without one it stays 0.
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=3600"}}, 404, cfg), 60'000);
  EXPECT_EQ(lifetime({}, 404, cfg), 0);
}

TEST(TtlMode, ClampAppliesToDefaultTtlAndHeuristic) {
  PolicyConfig cfg = mode(PolicyConfig::TtlMode::clamp, 120'000, 0, 60'000);
  EXPECT_EQ(lifetime({}, 200, cfg), 60'000);
  cfg.default_ttl_ms = 0;
  cfg.heuristic = true;
  cfg.max_ttl_ms = 1'000;
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}}, 200, cfg), 1'000);
}

TEST(TtlMode, ClampWithoutMaxHasNoUpperBound) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::clamp, 0, 1'000, 0);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=2147483648"}}, 200, cfg), 2147483648LL * 1000);
}

TEST(TtlMode, StorabilityFollowsTheMode) {
  // A 200 without any freshness information: storable with a --ttl or a clamp minimum.
  EXPECT_EQ(store(PolicyConfig{}, 200, {}).reason, NotStored::no_freshness);
  EXPECT_TRUE(store(mode(PolicyConfig::TtlMode::override, 1'000), 200, {}).storable);
  EXPECT_TRUE(store(mode(PolicyConfig::TtlMode::clamp, 0, 1'000), 200, {}).storable);
  EXPECT_EQ(store(mode(PolicyConfig::TtlMode::clamp, 0, 0, 5'000), 200, {}).reason, NotStored::no_freshness);
  // The modes never make a 404 without explicit freshness storable.
  EXPECT_EQ(store(mode(PolicyConfig::TtlMode::override, 1'000), 404, {}).reason, NotStored::no_freshness);
  EXPECT_EQ(store(mode(PolicyConfig::TtlMode::clamp, 0, 1'000), 404, {}).reason, NotStored::no_freshness);
}

// "override replaces origin freshness", but never the RFC 9111 §3 prohibitions.
TEST(TtlMode, OverrideDoesNotLiftNoStorePrivateOrAuthorization) {
  const PolicyConfig cfg = mode(PolicyConfig::TtlMode::override, 60'000);
  EXPECT_EQ(store(cfg, 200, {{"Cache-Control", "no-store"}}).reason, NotStored::no_store);
  EXPECT_EQ(store(cfg, 200, {{"Cache-Control", "private"}}).reason, NotStored::private_);
  EXPECT_EQ(store(cfg, 200, {}, {{"Authorization", "Basic eDp5"}}).reason, NotStored::authorization);
  EXPECT_EQ(store(cfg, 200, {}, {{"Cache-Control", "no-store"}}).reason, NotStored::no_store);
}

// ---- status_ttl_ms (--cache-status) ----

PolicyConfig with_status_ttls() {
  PolicyConfig cfg;
  cfg.default_ttl_ms = 3'600'000;
  cfg.status_ttl_ms = {{404, 30'000}, {500, 5'000}, {502, 5'000}, {503, 0}};
  return cfg;
}

TEST(StatusTtl, ListedStatusesGetExactlyTheirTtl) {
  const PolicyConfig cfg = with_status_ttls();
  EXPECT_EQ(lifetime({}, 500, cfg), 5'000);
  EXPECT_EQ(lifetime({}, 404, cfg), 30'000);
  // Exactly: the origin's own lifetime neither lengthens nor shortens it.
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=86400"}}, 502, cfg), 5'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=1"}}, 404, cfg), 30'000);
  // Not listed: the ordinary rules (the default TTL for 200, nothing for 504).
  EXPECT_EQ(lifetime({}, 200, cfg), 3'600'000);
  EXPECT_EQ(lifetime({}, 504, cfg), 0);
}

TEST(StatusTtl, StatusTtlIsNotClampedOrOverridden) {
  PolicyConfig cfg = with_status_ttls();
  cfg.ttl_mode = PolicyConfig::TtlMode::override;
  EXPECT_EQ(lifetime({}, 500, cfg), 5'000);
  cfg.ttl_mode = PolicyConfig::TtlMode::clamp;
  cfg.min_ttl_ms = 60'000;
  EXPECT_EQ(lifetime({}, 500, cfg), 5'000);
}

TEST(StatusTtl, ListedErrorStatusesAreStorable) {
  const PolicyConfig cfg = with_status_ttls();
  for (int s : {404, 500, 502}) {
    const Storability v = store(cfg, s, {});
    EXPECT_TRUE(v.storable) << s << " " << to_string(v.reason);
  }
  // Not listed: only the origin's explicit freshness makes it storable (§3).
  EXPECT_EQ(store(cfg, 504, {}).reason, NotStored::status);
  EXPECT_TRUE(store(cfg, 504, {{"Cache-Control", "max-age=60"}}).storable);
  // A TTL of 0 means never store, even when the origin gives freshness.
  EXPECT_EQ(store(cfg, 503, {{"Cache-Control", "max-age=60"}}).reason, NotStored::status);
}

TEST(StatusTtl, StillRefusedWhenTheRfcForbidsStoring) {
  const PolicyConfig cfg = with_status_ttls();
  EXPECT_EQ(store(cfg, 500, {{"Cache-Control", "no-store"}}).reason, NotStored::no_store);
  EXPECT_EQ(store(cfg, 500, {}, {{"Cache-Control", "no-store"}}).reason, NotStored::no_store);
  // must-understand does not lift no-store for a status whose caching we do not implement.
  EXPECT_EQ(store(cfg, 500, {{"Cache-Control", "no-store, must-understand"}}).reason, NotStored::no_store);
  EXPECT_EQ(store(cfg, 502, {{"Cache-Control", "private"}}).reason, NotStored::private_);
  EXPECT_EQ(store(cfg, 404, {}, {{"Authorization", "Bearer t"}}).reason, NotStored::authorization);
  EXPECT_TRUE(store(cfg, 404, {{"Cache-Control", "public"}}, {{"Authorization", "Bearer t"}}).storable);
  EXPECT_EQ(store(cfg, 500, {{"Set-Cookie", "a=b"}}).reason, NotStored::set_cookie);
  EXPECT_EQ(store(cfg, 500, {{"Vary", "*"}}).reason, NotStored::vary_star);
  EXPECT_EQ(store(cfg, 500, {}, kNone, "PUT").reason, NotStored::method);
}

TEST(StatusTtl, PartialAndNotModifiedAreNeverStored) {
  PolicyConfig cfg;
  cfg.status_ttl_ms = {{206, 1'000}, {304, 1'000}, {101, 1'000}};
  EXPECT_EQ(store(cfg, 206, {}).reason, NotStored::partial);
  EXPECT_EQ(store(cfg, 304, {}).reason, NotStored::status);
  EXPECT_EQ(store(cfg, 101, {}).reason, NotStored::status);
}

TEST(ParseStatusTtls, ParsesTheFlagValue) {
  auto m = parse_status_ttls("404=30s,500=5s,502=5s");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::map<int, std::int64_t>{{404, 30'000}, {500, 5'000}, {502, 5'000}}));
  m = parse_status_ttls(" 404 = 2m , 503=500ms,410=0 ");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::map<int, std::int64_t>{{404, 120'000}, {410, 0}, {503, 500}}));
  m = parse_status_ttls("200=10");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at(200), 10'000);
  m = parse_status_ttls("");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->empty());
}

TEST(ParseStatusTtls, RejectsMalformedAndUnstorable) {
  for (const char* bad :
       {"404", "404=", "=30s", "404=30x", "40=1s", "4040=1s", "abc=1s", "404=30s,,500=1s", "404=30s,",
        "404=-1s", "099=1s", "600=1s", "100=1s", "206=1s", "304=1s", "404=1s,404=2s"})
    EXPECT_FALSE(parse_status_ttls(bad)) << bad;
}

// ---- cacheable_methods ----

TEST(CacheableMethods, PostOnlyWhenListed) {
  const http::Headers fresh{{"Cache-Control", "max-age=60"}};
  PolicyConfig cfg;
  EXPECT_EQ(store(cfg, 200, fresh, kNone, "POST").reason, NotStored::method);
  cfg.cacheable_methods = {"GET", "HEAD", "POST"};
  EXPECT_TRUE(store(cfg, 200, fresh, kNone, "POST").storable);
  // Still needs freshness (RFC 9110 §9.3.3 wants explicit freshness; --ttl stands in for it).
  EXPECT_EQ(store(cfg, 200, {}, kNone, "POST").reason, NotStored::no_freshness);
  cfg.default_ttl_ms = 1'000;
  EXPECT_TRUE(store(cfg, 200, {}, kNone, "POST").storable);
}

// RFC 9111 §4: unsafe methods other than an opted-in POST are written through, never stored,
// whatever the configuration lists.
TEST(CacheableMethods, OtherMethodsNeverEvenWhenListed) {
  const http::Headers fresh{{"Cache-Control", "max-age=60"}};
  PolicyConfig cfg;
  cfg.cacheable_methods = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "get"};
  for (const char* m : {"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO", "get"})
    EXPECT_EQ(store(cfg, 200, fresh, kNone, m).reason, NotStored::method) << m;
}

TEST(CacheableMethods, GetAndHeadCanBeTurnedOff) {
  const http::Headers fresh{{"Cache-Control", "max-age=60"}};
  PolicyConfig cfg;
  cfg.cacheable_methods = {"GET"};
  EXPECT_TRUE(store(cfg, 200, fresh).storable);
  EXPECT_EQ(store(cfg, 200, fresh, kNone, "HEAD").reason, NotStored::method);
  cfg.cacheable_methods = {};
  EXPECT_EQ(store(cfg, 200, fresh).reason, NotStored::method);
}

// ---- store_set_cookie ----

TEST(StoreSetCookie, RefusedByDefaultAllowedWhenConfigured) {
  const http::Headers res{{"Cache-Control", "max-age=60"}, {"Set-Cookie", "id=1"}};
  PolicyConfig cfg;
  EXPECT_EQ(store(cfg, 200, res).reason, NotStored::set_cookie);
  cfg.store_set_cookie = true;
  EXPECT_TRUE(store(cfg, 200, res).storable);
  // It lifts only the cookie rule.
  EXPECT_EQ(store(cfg, 200, {{"Cache-Control", "private"}, {"Set-Cookie", "id=1"}}).reason,
            NotStored::private_);
}

// ---- stale_if_error_ms (--stale-if-error) ----

TEST(OperatorStaleIfError, WindowPastExpiry) {
  const http::Headers res{{"Cache-Control", "max-age=10"}};
  PolicyConfig cfg;
  // Without the operator window (and none from the origin or client): never.
  EXPECT_FALSE(may_serve_stale_if_error(kNone, res, 10'000, 20'000, cfg));
  cfg.stale_if_error_ms = 30'000;
  EXPECT_TRUE(may_serve_stale_if_error(kNone, res, 10'000, 20'000, cfg));
  EXPECT_TRUE(may_serve_stale_if_error(kNone, res, 10'000, 40'000, cfg));
  EXPECT_FALSE(may_serve_stale_if_error(kNone, res, 10'000, 40'001, cfg));
}

TEST(OperatorStaleIfError, OriginWindowStillCounts) {
  const http::Headers res{{"Cache-Control", "max-age=10, stale-if-error=100"}};
  PolicyConfig cfg;
  cfg.stale_if_error_ms = 1'000;
  EXPECT_TRUE(may_serve_stale_if_error(kNone, res, 10'000, 100'000, cfg));
}

// RFC 9111 §5.2.2.2 / §4.2.4: must-revalidate, proxy-revalidate, s-maxage and no-cache forbid
// serving stale in a shared cache, whatever the operator configured.
TEST(OperatorStaleIfError, NeverOverridesMustRevalidate) {
  PolicyConfig cfg;
  cfg.stale_if_error_ms = 3'600'000;
  for (const char* cc :
       {"max-age=10, must-revalidate", "max-age=10, proxy-revalidate", "s-maxage=10", "no-cache"})
    EXPECT_FALSE(may_serve_stale_if_error(kNone, {{"Cache-Control", cc}}, 10'000, 20'000, cfg)) << cc;
}

}  // namespace
}  // namespace cachefwd::cache::policy
