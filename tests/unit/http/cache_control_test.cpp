// RFC 9111 §5.2 Cache-Control and §1.3 delta-seconds.
#include "http/cache_control.h"

#include <gtest/gtest.h>

namespace cachefwd::http {
namespace {

TEST(DeltaSeconds, Digits) {
  EXPECT_EQ(parse_delta_seconds("0"), 0);
  EXPECT_EQ(parse_delta_seconds("3600"), 3600);
  EXPECT_EQ(parse_delta_seconds("007"), 7);
}

TEST(DeltaSeconds, RejectsNonDigits) {
  for (const char* bad : {"", "-1", "+5", "5s", "1.5", " 5", "5 ", "0x10", "\"5\""})
    EXPECT_FALSE(parse_delta_seconds(bad).has_value()) << bad;
}

// RFC 9111 §1.3: a value greater than the cache can represent is taken as 2147483648 (2^31).
TEST(DeltaSeconds, OverflowClampsTo2Pow31) {
  EXPECT_EQ(parse_delta_seconds("2147483647"), 2147483647);
  EXPECT_EQ(parse_delta_seconds("2147483648"), 2147483648);
  EXPECT_EQ(parse_delta_seconds("2147483649"), 2147483648);
  EXPECT_EQ(parse_delta_seconds("99999999999999999999999999999999"), 2147483648);
}

TEST(CacheControl, EmptyValueMeansNothing) {
  CacheControl cc = parse_cache_control("");
  EXPECT_FALSE(cc.max_age || cc.s_maxage || cc.no_store || cc.no_cache || cc.private_ || cc.public_);
  EXPECT_FALSE(cc.invalid_max_age);
}

TEST(CacheControl, ResponseDirectives) {
  CacheControl cc = parse_cache_control(
      "public, max-age=60, s-maxage=120, must-revalidate, proxy-revalidate, no-transform, must-understand, "
      "immutable, stale-while-revalidate=30, stale-if-error=300");
  EXPECT_TRUE(cc.public_);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 120);
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_TRUE(cc.must_understand);
  EXPECT_TRUE(cc.immutable);
  EXPECT_EQ(cc.stale_while_revalidate, 30);
  EXPECT_EQ(cc.stale_if_error, 300);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.no_cache);
  EXPECT_FALSE(cc.private_);
}

TEST(CacheControl, RequestDirectives) {
  CacheControl cc =
      parse_cache_control("no-cache, no-store, max-age=0, min-fresh=10, max-stale=5, only-if-cached");
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 0);
  EXPECT_EQ(cc.min_fresh, 10);
  EXPECT_EQ(cc.max_stale, 5);
  EXPECT_FALSE(cc.max_stale_any);
  EXPECT_TRUE(cc.only_if_cached);
}

// §5.2.1.2: max-stale without a value accepts a stale response of any age.
TEST(CacheControl, MaxStaleWithoutValue) {
  CacheControl cc = parse_cache_control("max-stale");
  EXPECT_TRUE(cc.max_stale_any);
  EXPECT_FALSE(cc.max_stale.has_value());
}

// §5.2: directive names compare case-insensitively.
TEST(CacheControl, NamesAreCaseInsensitive) {
  CacheControl cc = parse_cache_control("No-Store, MAX-AGE=10, Private, S-MaxAge=5");
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 10);
  EXPECT_TRUE(cc.private_);
  EXPECT_EQ(cc.s_maxage, 5);
}

// §5.2: recipients ought to accept both token and quoted-string arguments.
TEST(CacheControl, QuotedArgumentsAccepted) {
  CacheControl cc = parse_cache_control("max-age=\"60\", s-maxage=\"7\"");
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 7);
  EXPECT_FALSE(cc.invalid_max_age);
}

// §5.2.3: unknown extensions are ignored, including ones with quoted commas in their argument.
TEST(CacheControl, UnknownExtensionsIgnored) {
  CacheControl cc = parse_cache_control("community=\"UCI, max-age=1\", foo, bar=baz, max-age=30");
  EXPECT_EQ(cc.max_age, 30);
  EXPECT_FALSE(cc.invalid_max_age);
  EXPECT_FALSE(cc.no_cache);
}

TEST(CacheControl, WhitespaceAndEmptyElements) {
  CacheControl cc = parse_cache_control(" , max-age=5 ,,\tno-cache , ");
  EXPECT_EQ(cc.max_age, 5);
  EXPECT_TRUE(cc.no_cache);
}

// §5.2.2.4 / §5.2.2.7: the qualified forms list field names and restrict only those fields.
TEST(CacheControl, QualifiedNoCacheAndPrivate) {
  CacheControl cc = parse_cache_control("no-cache=\"Set-Cookie, X-Foo\", private=\"Authorization-Info\"");
  EXPECT_FALSE(cc.no_cache);
  EXPECT_FALSE(cc.private_);
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"Set-Cookie", "X-Foo"}));
  EXPECT_EQ(cc.private_fields, (std::vector<std::string>{"Authorization-Info"}));
}

TEST(CacheControl, QualifiedWithTokenArgument) {
  CacheControl cc = parse_cache_control("no-cache=Set-Cookie");
  EXPECT_FALSE(cc.no_cache);
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"Set-Cookie"}));
}

TEST(CacheControl, EmptyQualifiedListIsUnqualified) {
  CacheControl cc = parse_cache_control("no-cache=\"\", private=\"\"");
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.private_);
}

// §4.2.1 / §5.2.2.1: max-age that is not a delta-seconds should make the response stale.
TEST(CacheControl, InvalidMaxAge) {
  for (const char* v : {"max-age=abc", "max-age=-1", "max-age=1.5", "max-age=", "max-age", "max-age=5s"}) {
    CacheControl cc = parse_cache_control(v);
    EXPECT_TRUE(cc.invalid_max_age) << v;
    EXPECT_FALSE(cc.max_age.has_value()) << v;
  }
}

TEST(CacheControl, InvalidSMaxage) {
  CacheControl cc = parse_cache_control("s-maxage=soon, max-age=10");
  EXPECT_TRUE(cc.invalid_s_maxage);
  EXPECT_FALSE(cc.s_maxage.has_value());
  EXPECT_EQ(cc.max_age, 10);
  EXPECT_FALSE(cc.invalid_max_age);
}

// §4.2.1: a directive present more than once: either the first is used or the response is stale.
// Identical repetitions carry no conflict; differing ones make max-age unusable.
TEST(CacheControl, DuplicatedMaxAge) {
  CacheControl same = parse_cache_control("max-age=10, max-age=10");
  EXPECT_EQ(same.max_age, 10);
  EXPECT_FALSE(same.invalid_max_age);

  CacheControl differ = parse_cache_control("max-age=10, max-age=20");
  EXPECT_TRUE(differ.invalid_max_age);
  EXPECT_FALSE(differ.max_age.has_value());

  CacheControl bad_then_good = parse_cache_control("max-age=x, max-age=20");
  EXPECT_TRUE(bad_then_good.invalid_max_age);
  EXPECT_FALSE(bad_then_good.max_age.has_value());

  CacheControl good_then_bad = parse_cache_control("max-age=20, max-age=x");
  EXPECT_TRUE(good_then_bad.invalid_max_age);
  EXPECT_FALSE(good_then_bad.max_age.has_value());

  CacheControl s = parse_cache_control("s-maxage=1, s-maxage=2");
  EXPECT_TRUE(s.invalid_s_maxage);
}

// §1.3 applied to arguments.
TEST(CacheControl, OverflowingArgumentsClamp) {
  CacheControl cc =
      parse_cache_control("max-age=99999999999999999999, s-maxage=4294967296, min-fresh=2147483649");
  EXPECT_EQ(cc.max_age, 2147483648);
  EXPECT_EQ(cc.s_maxage, 2147483648);
  EXPECT_EQ(cc.min_fresh, 2147483648);
  EXPECT_FALSE(cc.invalid_max_age);
}

TEST(CacheControl, FromHeadersCombinesAllFieldLines) {
  Headers h{{"Cache-Control", "public"}, {"Content-Type", "text/plain"}, {"cache-control", "max-age=60"}};
  CacheControl cc = parse_cache_control(h);
  EXPECT_TRUE(cc.public_);
  EXPECT_EQ(cc.max_age, 60);
}

TEST(CacheControl, FromHeadersDuplicateAcrossLinesConflicts) {
  Headers h{{"Cache-Control", "max-age=60"}, {"Cache-Control", "max-age=0"}};
  EXPECT_TRUE(parse_cache_control(h).invalid_max_age);
}

TEST(CacheControl, FromHeadersWithoutField) {
  Headers h{{"Pragma", "no-cache"}};
  CacheControl cc = parse_cache_control(h);
  EXPECT_FALSE(cc.no_cache);  // Pragma is not Cache-Control (§5.4)
}

}  // namespace
}  // namespace cachefwd::http
