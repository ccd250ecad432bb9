// RFC 9111 §3 (storing responses) and §3.5 (Authorization) for a shared cache.
#include "cache/policy/storability.h"

#include <gtest/gtest.h>

namespace cachefwd::cache::policy {
namespace {

const http::Headers kNoHeaders;
const http::Headers kMaxAge{{"Cache-Control", "max-age=60"}};

Storability store(int status, const http::Headers& res, const http::Headers& req = kNoHeaders,
                  std::string_view method = "GET", const PolicyConfig& cfg = {}) {
  return storability(method, req, status, res, cfg);
}

void expect_stored(const Storability& s) {
  EXPECT_TRUE(s.storable);
  EXPECT_EQ(s.reason, NotStored::none);
}

void expect_refused(const Storability& s, NotStored why) {
  EXPECT_FALSE(s.storable);
  EXPECT_EQ(s.reason, why) << to_string(s.reason) << " instead of " << to_string(why);
}

TEST(Storability, ExplicitMaxAgeIsStored) { expect_stored(store(200, kMaxAge)); }

// §3: the request method must be understood and cacheable; we store GET and HEAD only.
TEST(Storability, Method) {
  expect_stored(store(200, kMaxAge, kNoHeaders, "HEAD"));
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "get"})
    expect_refused(store(200, kMaxAge, kNoHeaders, m), NotStored::method);
}

// §3: any final status with explicit freshness is stored (the origin asked for it); without it
// only the heuristically cacheable statuses may be, and never interim responses or 304.
TEST(Storability, Status) {
  for (int s : {100, 101, 103, 304}) expect_refused(store(s, kMaxAge), NotStored::status);
  for (int s : {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501}) expect_stored(store(s, kMaxAge));
  const http::Headers s_maxage{{"Cache-Control", "s-maxage=60"}};
  const http::Headers expires{{"Expires", "Thu, 01 Jan 2099 00:00:00 GMT"}};
  for (int s : {201, 202, 302, 303, 307, 400, 401, 403, 500, 502, 503, 504, 299, 499, 599}) {
    expect_stored(store(s, kMaxAge));
    expect_stored(store(s, s_maxage));
    expect_stored(store(s, expires));
    expect_refused(store(s, {{"Cache-Control", "public"}}), NotStored::status);
    expect_refused(store(s, kNoHeaders), NotStored::status);
  }
}

// --ttl fills in a lifetime for the default-cacheable statuses only: it never makes a 302 or a
// 503 storable by itself (negative caching stays --cache-status's).
TEST(Storability, TtlDoesNotMakeOtherStatusesStorable) {
  PolicyConfig cfg;
  cfg.default_ttl_ms = 60'000;
  for (int s : {302, 307, 500, 503, 599})
    expect_refused(store(s, kNoHeaders, kNoHeaders, "GET", cfg), NotStored::status);
  expect_stored(store(200, kNoHeaders, kNoHeaders, "GET", cfg));
}

TEST(Storability, PartialContentNotStored) { expect_refused(store(206, kMaxAge), NotStored::partial); }

// §5.2.2.5 response no-store, §5.2.1.5 request no-store.
TEST(Storability, NoStore) {
  expect_refused(store(200, {{"Cache-Control", "max-age=60, no-store"}}), NotStored::no_store);
  expect_refused(store(200, kMaxAge, {{"Cache-Control", "no-store"}}), NotStored::no_store);
  expect_refused(store(200, {{"Cache-Control", "NO-STORE"}, {"Expires", "Thu, 01 Jan 2099 00:00:00 GMT"}}),
                 NotStored::no_store);
}

// §5.2.2.3: must-understand makes a cache that understands the status ignore no-store.
TEST(Storability, MustUnderstandOverridesNoStoreForUnderstoodStatus) {
  expect_stored(store(200, {{"Cache-Control", "max-age=60, must-understand, no-store"}}));
  // ... but not for a status we do not implement.
  expect_refused(store(299, {{"Cache-Control", "max-age=60, must-understand, no-store"}}),
                 NotStored::no_store);
  // ... and not the request's no-store.
  expect_refused(store(200, {{"Cache-Control", "max-age=60, must-understand, no-store"}},
                       {{"Cache-Control", "no-store"}}),
                 NotStored::no_store);
}

// §5.2.2.4: no-cache means "store, but validate before every use"; worth it with a validator.
TEST(Storability, NoCacheWithAValidatorIsStored) {
  expect_stored(store(200, {{"Cache-Control", "no-cache"}, {"ETag", "\"a\""}}));
  expect_stored(
      store(200, {{"Cache-Control", "no-cache"}, {"Last-Modified", "Sat, 29 Oct 1994 19:43:31 GMT"}}));
  expect_stored(store(200, {{"Cache-Control", "no-cache=\"X-A\""}, {"ETag", "\"a\""}}));
  expect_refused(store(200, {{"Cache-Control", "no-cache"}}), NotStored::no_freshness);
  expect_refused(store(200, {{"Cache-Control", "no-cache, no-store"}, {"ETag", "\"a\""}}),
                 NotStored::no_store);
}

// §3 / §5.2.2.7: a shared cache must not store a private response.
TEST(Storability, PrivateInSharedCache) {
  expect_refused(store(200, {{"Cache-Control", "private, max-age=60"}}), NotStored::private_);
  expect_refused(store(200, {{"Cache-Control", "max-age=60, private=\"X-User\""}}), NotStored::private_);
}

TEST(Storability, PrivateInPrivateCache) {
  PolicyConfig cfg;
  cfg.shared = false;
  expect_stored(store(200, {{"Cache-Control", "private, max-age=60"}}, kNoHeaders, "GET", cfg));
}

// §3.5: a shared cache must not reuse a response to a request with Authorization unless the
// response has must-revalidate, public or s-maxage.
TEST(Storability, AuthorizationRefusedByDefault) {
  const http::Headers auth{{"Authorization", "Bearer abc"}};
  expect_refused(store(200, kMaxAge, auth), NotStored::authorization);
  expect_refused(store(200, {{"Expires", "Thu, 01 Jan 2099 00:00:00 GMT"}}, auth), NotStored::authorization);
  expect_refused(store(200, {{"Cache-Control", "max-age=60, proxy-revalidate"}}, auth),
                 NotStored::authorization);
}

TEST(Storability, AuthorizationAllowedByPublicSMaxageOrMustRevalidate) {
  const http::Headers auth{{"authorization", "Basic dTpw"}};
  expect_stored(store(200, {{"Cache-Control", "public"}}, auth));
  expect_stored(store(200, {{"Cache-Control", "public, max-age=60"}}, auth));
  expect_stored(store(200, {{"Cache-Control", "s-maxage=60"}}, auth));
  expect_stored(store(200, {{"Cache-Control", "max-age=60, must-revalidate"}}, auth));
}

// must-revalidate grants §3.5 but is not itself a freshness source (§3 list).
TEST(Storability, MustRevalidateAloneHasNoFreshness) {
  expect_refused(store(200, {{"Cache-Control", "must-revalidate"}}, {{"Authorization", "x"}}),
                 NotStored::no_freshness);
}

TEST(Storability, AuthorizationInPrivateCache) {
  PolicyConfig cfg;
  cfg.shared = false;
  expect_stored(store(200, kMaxAge, {{"Authorization", "x"}}, "GET", cfg));
}

TEST(Storability, SetCookieNotStoredInSharedCache) {
  expect_refused(store(200, {{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "sid=1"}}),
                 NotStored::set_cookie);
}

// §4.1: Vary: * never matches, so storing it is useless.
TEST(Storability, VaryStar) {
  expect_refused(store(200, {{"Cache-Control", "max-age=60"}, {"Vary", "*"}}), NotStored::vary_star);
  expect_refused(store(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding, *"}}),
                 NotStored::vary_star);
  expect_stored(store(200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding"}}));
}

// §3: at least one of public, Expires, max-age, s-maxage, or a heuristically cacheable status
// (with a lifetime we can actually give it).
TEST(Storability, FreshnessSources) {
  expect_stored(store(200, {{"Expires", "Thu, 01 Jan 2099 00:00:00 GMT"}}));
  expect_stored(store(200, {{"Cache-Control", "s-maxage=10"}}));
  expect_stored(store(200, {{"Cache-Control", "public"}}));
  expect_stored(store(200, {{"Cache-Control", "max-age=0"}}));  // stored, stale at once
  expect_refused(store(200, kNoHeaders), NotStored::no_freshness);
  expect_refused(store(200, {{"Cache-Control", "no-cache"}}), NotStored::no_freshness);
}

// §5.3: an invalid Expires ("0") means already expired: the response has explicit expiry.
TEST(Storability, InvalidExpiresStillCountsAsExplicit) { expect_stored(store(200, {{"Expires", "0"}})); }

TEST(Storability, InvalidMaxAgeStillCountsAsExplicit) {
  expect_stored(store(200, {{"Cache-Control", "max-age=x"}}));
}

// s-maxage applies to shared caches only.
TEST(Storability, SMaxageIgnoredByPrivateCache) {
  PolicyConfig cfg;
  cfg.shared = false;
  expect_refused(store(200, {{"Cache-Control", "s-maxage=10"}}, kNoHeaders, "GET", cfg),
                 NotStored::no_freshness);
}

TEST(Storability, DefaultTtlMakesDefaultStatusesStorable) {
  PolicyConfig cfg;
  cfg.default_ttl_ms = 60'000;
  for (int s : {200, 203, 204, 300, 301, 308}) expect_stored(store(s, kNoHeaders, kNoHeaders, "GET", cfg));
  // Negative caching stays opt-in: 404 & co need explicit freshness.
  for (int s : {404, 405, 410, 414, 501})
    expect_refused(store(s, kNoHeaders, kNoHeaders, "GET", cfg), NotStored::no_freshness);
  expect_refused(store(404, {{"Cache-Control", "public"}}, kNoHeaders, "GET", cfg), NotStored::no_freshness);
  expect_stored(store(404, {{"Cache-Control", "max-age=30"}}, kNoHeaders, "GET", cfg));
}

TEST(Storability, HeuristicNeedsLastModified) {
  PolicyConfig cfg;
  cfg.heuristic = true;
  expect_stored(store(200, {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}, kNoHeaders, "GET", cfg));
  expect_refused(store(200, kNoHeaders, kNoHeaders, "GET", cfg), NotStored::no_freshness);
  expect_refused(store(200, {{"Last-Modified", "garbage"}}, kNoHeaders, "GET", cfg), NotStored::no_freshness);
  // Without the option, Last-Modified alone is not enough.
  expect_refused(store(200, {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}), NotStored::no_freshness);
}

TEST(Storability, ReasonTokens) {
  EXPECT_EQ(to_string(NotStored::no_store), "no-store");
  EXPECT_EQ(to_string(NotStored::private_), "private");
  EXPECT_EQ(to_string(NotStored::authorization), "authorization");
  EXPECT_EQ(to_string(NotStored::method), "method");
  EXPECT_EQ(to_string(NotStored::status), "status");
  EXPECT_EQ(to_string(NotStored::no_freshness), "no-freshness");
  EXPECT_EQ(to_string(NotStored::too_large), "too-large");
  EXPECT_EQ(to_string(NotStored::set_cookie), "set-cookie");
  EXPECT_EQ(to_string(NotStored::vary_star), "vary-star");
  EXPECT_EQ(to_string(NotStored::partial), "partial");
  EXPECT_EQ(to_string(NotStored::incomplete), "incomplete");
}

}  // namespace
}  // namespace cachefwd::cache::policy
