// RFC 9111 §4.2.1 / §4.2.2 freshness lifetime, §4.2.4 / §5.2.1 / §5.4 serving stored responses,
// RFC 5861 stale-while-revalidate / stale-if-error.
#include "cache/policy/freshness.h"

#include <gtest/gtest.h>

namespace cachefwd::cache::policy {
namespace {

constexpr UnixMillis kT = 784111777LL * 1000;  // Sun, 06 Nov 1994 08:49:37 GMT
const char* const kDate = "Sun, 06 Nov 1994 08:49:37 GMT";
const char* const kDatePlus1h = "Sun, 06 Nov 1994 09:49:37 GMT";
const char* const kDateMinus10d = "Thu, 27 Oct 1994 08:49:37 GMT";

std::int64_t lifetime(const http::Headers& h, int status = 200, const PolicyConfig& cfg = {}) {
  return freshness_lifetime_ms(status, h, kT, cfg);
}

TEST(Freshness, MaxAge) { EXPECT_EQ(lifetime({{"Cache-Control", "max-age=60"}}), 60'000); }

// §4.2.1: shared cache: s-maxage, then max-age, then Expires - Date.
TEST(Freshness, SMaxageBeatsMaxAgeBeatsExpires) {
  EXPECT_EQ(
      lifetime({{"Cache-Control", "max-age=60, s-maxage=10"}, {"Date", kDate}, {"Expires", kDatePlus1h}}),
      10'000);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=60"}, {"Date", kDate}, {"Expires", kDatePlus1h}}), 60'000);
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Expires", kDatePlus1h}}), 3'600'000);
}

TEST(Freshness, PrivateCacheIgnoresSMaxage) {
  PolicyConfig cfg;
  cfg.shared = false;
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=60, s-maxage=10"}}, 200, cfg), 60'000);
}

// §4.2.1: Expires minus Date; without Date, the time the response was received.
TEST(Freshness, ExpiresWithoutDateUsesResponseTime) {
  EXPECT_EQ(freshness_lifetime_ms(200, {{"Expires", kDatePlus1h}}, kT + 600'000, {}), 3'000'000);
}

// The origin's clock, not ours: Expires - Date is unaffected by clock skew.
TEST(Freshness, ExpiresRelativeToDateNotResponseTime) {
  EXPECT_EQ(freshness_lifetime_ms(200, {{"Date", kDate}, {"Expires", kDatePlus1h}}, kT + 7'200'000, {}),
            3'600'000);
}

TEST(Freshness, ExpiresInThePastIsZero) {
  EXPECT_EQ(lifetime({{"Date", kDatePlus1h}, {"Expires", kDate}}), 0);
}

// §5.3: invalid Expires, especially "0", means already expired; no heuristic or default applies.
TEST(Freshness, InvalidExpiresIsZero) {
  PolicyConfig cfg;
  cfg.default_ttl_ms = 60'000;
  cfg.heuristic = true;
  for (const char* v : {"0", "-1", "never", "Sun, 06 Nov 1994 08:49:37"})
    EXPECT_EQ(lifetime({{"Expires", v}, {"Last-Modified", kDateMinus10d}}, 200, cfg), 0) << v;
}

// §4.2.1: several Expires lines that disagree: treat as stale.
TEST(Freshness, DuplicatedExpires) {
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Expires", kDatePlus1h}, {"Expires", kDatePlus1h}}), 3'600'000);
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Expires", kDatePlus1h}, {"Expires", kDate}}), 0);
}

// §4.2.1: a non-integer max-age should make the response stale, even if Expires would not.
TEST(Freshness, InvalidMaxAgeIsZero) {
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=abc"}, {"Date", kDate}, {"Expires", kDatePlus1h}}), 0);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=60, max-age=120"}}), 0);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=60"}, {"Cache-Control", "max-age=60"}}), 60'000);
}

TEST(Freshness, ValidSMaxageWinsOverInvalidMaxAge) {
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=abc, s-maxage=30"}}), 30'000);
}

TEST(Freshness, InvalidSMaxageIsZeroInSharedCache) {
  EXPECT_EQ(lifetime({{"Cache-Control", "s-maxage=x, max-age=60"}}), 0);
}

// §1.3: the largest lifetime is 2^31 seconds.
TEST(Freshness, MaxAgeOverflowClamps) {
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=9999999999999999999999"}}), 2147483648LL * 1000);
}

TEST(Freshness, NoExplicitFreshnessIsZeroByDefault) {
  EXPECT_EQ(lifetime({}), 0);
  EXPECT_EQ(lifetime({{"Last-Modified", kDateMinus10d}, {"Date", kDate}}), 0);
}

TEST(Freshness, DefaultTtlForDefaultStatusesOnly) {
  PolicyConfig cfg;
  cfg.default_ttl_ms = 45'000;
  EXPECT_EQ(lifetime({}, 200, cfg), 45'000);
  EXPECT_EQ(lifetime({}, 301, cfg), 45'000);
  EXPECT_EQ(lifetime({}, 404, cfg), 0);
  EXPECT_EQ(lifetime({{"Cache-Control", "max-age=5"}}, 200, cfg), 5'000);  // explicit wins
}

// §4.2.2: heuristic = fraction (10%) of the time since Last-Modified, capped.
TEST(Freshness, Heuristic) {
  PolicyConfig cfg;
  cfg.heuristic = true;
  // 10 days since modification -> 1 day, which is also the default cap.
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}}, 200, cfg), 86'400'000);
  cfg.heuristic_max_ms = 3'600'000;
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}}, 200, cfg), 3'600'000);
  cfg.heuristic_max_ms = 86'400'000 * 7LL;
  // 1 hour since modification -> 6 minutes.
  EXPECT_EQ(lifetime({{"Date", kDatePlus1h}, {"Last-Modified", kDate}}, 200, cfg), 360'000);
  // No Date: measured from the response time.
  EXPECT_EQ(freshness_lifetime_ms(200, {{"Last-Modified", kDate}}, kT + 100'000, cfg), 10'000);
  // Last-Modified in the future of Date: nothing.
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDatePlus1h}}, 200, cfg), 0);
  // Not for statuses outside the default set, and never with explicit expiry.
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}}, 404, cfg), 0);
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}, {"Expires", kDate}}, 200, cfg), 0);
}

TEST(Freshness, DefaultTtlBeforeHeuristic) {
  PolicyConfig cfg;
  cfg.heuristic = true;
  cfg.default_ttl_ms = 1'000;
  EXPECT_EQ(lifetime({{"Date", kDate}, {"Last-Modified", kDateMinus10d}}, 200, cfg), 1'000);
}

// ---- can_serve_stored ----

const http::Headers kNoReq;
const http::Headers kPlain{{"Cache-Control", "max-age=60"}};

TEST(CanServe, FreshWhileLifetimeExceedsAge) {
  EXPECT_EQ(can_serve_stored(kNoReq, kPlain, 60'000, 0), Serve::fresh);
  EXPECT_EQ(can_serve_stored(kNoReq, kPlain, 60'000, 59'999), Serve::fresh);
  // §4.2: fresh means lifetime > current age; equal is stale.
  EXPECT_EQ(can_serve_stored(kNoReq, kPlain, 60'000, 60'000), Serve::must_validate);
}

TEST(CanServe, StaleNeedsValidationUnlessRequestAllows) {
  EXPECT_EQ(can_serve_stored(kNoReq, kPlain, 60'000, 61'000), Serve::must_validate);
}

// §5.2.1.4 request no-cache: do not use a stored response without validation.
TEST(CanServe, RequestNoCache) {
  EXPECT_EQ(can_serve_stored({{"Cache-Control", "no-cache"}}, kPlain, 60'000, 0), Serve::must_validate);
}

// §5.4 Pragma: no-cache honoured only when the request has no Cache-Control.
TEST(CanServe, Pragma) {
  EXPECT_EQ(can_serve_stored({{"Pragma", "no-cache"}}, kPlain, 60'000, 0), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Pragma", "No-Cache"}}, kPlain, 60'000, 0), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Pragma", "no-cache"}, {"Cache-Control", "max-age=600"}}, kPlain, 60'000, 0),
            Serve::fresh);
  EXPECT_EQ(can_serve_stored({{"Pragma", "foo"}}, kPlain, 60'000, 0), Serve::fresh);
  // Pragma in the response means nothing.
  EXPECT_EQ(can_serve_stored(kNoReq, {{"Cache-Control", "max-age=60"}, {"Pragma", "no-cache"}}, 60'000, 0),
            Serve::fresh);
}

// §5.2.1.1 request max-age: the client wants a response no older than that.
TEST(CanServe, RequestMaxAge) {
  const http::Headers req{{"Cache-Control", "max-age=10"}};
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 10'000), Serve::fresh);
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 10'001), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Cache-Control", "max-age=0"}}, kPlain, 60'000, 1), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Cache-Control", "max-age=zero"}}, kPlain, 60'000, 1), Serve::must_validate);
}

// §5.2.1.3 min-fresh: the response must stay fresh for at least that long.
TEST(CanServe, RequestMinFresh) {
  const http::Headers req{{"Cache-Control", "min-fresh=20"}};
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 40'000), Serve::fresh);
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 40'001), Serve::must_validate);
}

// §5.2.1.2 max-stale: accept a stale response up to that staleness, or any without a value.
TEST(CanServe, RequestMaxStale) {
  const http::Headers req{{"Cache-Control", "max-stale=30"}};
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 30'000), Serve::fresh);
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 90'000), Serve::stale_allowed);
  EXPECT_EQ(can_serve_stored(req, kPlain, 60'000, 90'001), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Cache-Control", "max-stale"}}, kPlain, 60'000, 86'400'000),
            Serve::stale_allowed);
}

// §4.2.4 / §5.2.2.2 / §5.2.2.8 / §5.2.2.10: these response directives forbid serving stale.
TEST(CanServe, ResponseForbidsStale) {
  const http::Headers req{{"Cache-Control", "max-stale"}};
  for (const char* cc : {"max-age=60, must-revalidate", "max-age=60, proxy-revalidate", "s-maxage=60"}) {
    const http::Headers res{{"Cache-Control", cc}};
    EXPECT_EQ(can_serve_stored(req, res, 60'000, 61'000), Serve::must_validate) << cc;
    EXPECT_EQ(can_serve_stored(req, res, 60'000, 1'000), Serve::fresh) << cc;
  }
}

// proxy-revalidate and s-maxage bind shared caches only.
TEST(CanServe, PrivateCacheMayServeStaleDespiteProxyRevalidate) {
  const http::Headers req{{"Cache-Control", "max-stale"}};
  EXPECT_EQ(can_serve_stored(req, {{"Cache-Control", "max-age=60, proxy-revalidate"}}, 60'000, 61'000, false),
            Serve::stale_allowed);
  EXPECT_EQ(can_serve_stored(req, {{"Cache-Control", "max-age=60, must-revalidate"}}, 60'000, 61'000, false),
            Serve::must_validate);
}

// §5.2.2.4 response no-cache: always validate, even while fresh (most restrictive wins, §4.2.1).
TEST(CanServe, ResponseNoCache) {
  EXPECT_EQ(can_serve_stored(kNoReq, {{"Cache-Control", "max-age=60, no-cache"}}, 60'000, 0),
            Serve::must_validate);
  EXPECT_EQ(can_serve_stored(kNoReq, {{"Cache-Control", "max-age=60, no-cache=\"Set-Cookie\""}}, 60'000, 0),
            Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Cache-Control", "max-stale"}}, {{"Cache-Control", "max-age=60, no-cache"}},
                             60'000, 61'000),
            Serve::must_validate);
}

// The overload taking the stored response's parsed Cache-Control (kept from store time).
TEST(CanServe, PreParsedResponseCacheControl) {
  const http::CacheControl plain = http::parse_cache_control("max-age=60");
  const http::CacheControl revalidate = http::parse_cache_control("max-age=60, must-revalidate");
  const http::Headers max_stale{{"Cache-Control", "max-stale=10"}};
  EXPECT_EQ(can_serve_stored(kNoReq, plain, 60'000, 59'999), Serve::fresh);
  EXPECT_EQ(can_serve_stored(max_stale, plain, 60'000, 65'000), Serve::stale_allowed);
  EXPECT_EQ(can_serve_stored(max_stale, revalidate, 60'000, 65'000), Serve::must_validate);
  EXPECT_EQ(can_serve_stored({{"Pragma", "no-cache"}}, plain, 60'000, 0), Serve::must_validate);
}

// ---- RFC 5861 ----

TEST(StaleWhileRevalidate, WithinWindow) {
  const http::Headers res{{"Cache-Control", "max-age=60, stale-while-revalidate=30"}};
  EXPECT_FALSE(may_serve_stale_while_revalidate(kNoReq, res, 60'000, 59'000));  // still fresh
  EXPECT_TRUE(may_serve_stale_while_revalidate(kNoReq, res, 60'000, 60'000));
  EXPECT_TRUE(may_serve_stale_while_revalidate(kNoReq, res, 60'000, 90'000));
  EXPECT_FALSE(may_serve_stale_while_revalidate(kNoReq, res, 60'000, 90'001));
  EXPECT_FALSE(may_serve_stale_while_revalidate(kNoReq, kPlain, 60'000, 61'000));  // no directive
}

TEST(StaleWhileRevalidate, ForbiddenByResponseOrRequest) {
  EXPECT_FALSE(may_serve_stale_while_revalidate(
      kNoReq, {{"Cache-Control", "max-age=60, stale-while-revalidate=30, must-revalidate"}}, 60'000, 61'000));
  EXPECT_FALSE(may_serve_stale_while_revalidate(
      kNoReq, {{"Cache-Control", "s-maxage=60, stale-while-revalidate=30"}}, 60'000, 61'000));
  const http::Headers res{{"Cache-Control", "max-age=60, stale-while-revalidate=30"}};
  EXPECT_FALSE(may_serve_stale_while_revalidate({{"Cache-Control", "no-cache"}}, res, 60'000, 61'000));
  EXPECT_FALSE(may_serve_stale_while_revalidate({{"Pragma", "no-cache"}}, res, 60'000, 61'000));
  EXPECT_FALSE(may_serve_stale_while_revalidate({{"Cache-Control", "max-age=5"}}, res, 60'000, 61'000));
}

TEST(StaleIfError, ResponseOrRequestWindow) {
  const http::Headers res{{"Cache-Control", "max-age=60, stale-if-error=100"}};
  EXPECT_TRUE(may_serve_stale_if_error(kNoReq, res, 60'000, 160'000));
  EXPECT_FALSE(may_serve_stale_if_error(kNoReq, res, 60'000, 160'001));
  EXPECT_FALSE(may_serve_stale_if_error(kNoReq, kPlain, 60'000, 61'000));
  EXPECT_TRUE(may_serve_stale_if_error({{"Cache-Control", "stale-if-error=10"}}, kPlain, 60'000, 70'000));
  EXPECT_FALSE(may_serve_stale_if_error({{"Cache-Control", "stale-if-error=10"}}, kPlain, 60'000, 70'001));
  EXPECT_FALSE(may_serve_stale_if_error(
      kNoReq, {{"Cache-Control", "max-age=60, stale-if-error=100, must-revalidate"}}, 60'000, 61'000));
}

}  // namespace
}  // namespace cachefwd::cache::policy
