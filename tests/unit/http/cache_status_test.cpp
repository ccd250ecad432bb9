// Reading Cache-Status (RFC 9211) and X-Cache: the one classifier bench and replay use.
#include "http/cache_status.h"

#include <gtest/gtest.h>

#include "cache/policy/cache_status.h"

namespace cachefwd::http {
namespace {

TEST(CacheStatusParse, MembersAndTheParametersWeRead) {
  const auto list = parse_cache_status(
      "OriginCache; hit; ttl=1100, \"CDN Company Here\"; fwd=uri-miss; stored; fwd-status=200; "
      "key=\"GET http://a/\"; detail=no-store; collapsed, cachefwd; hit; ttl=-5");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].cache, "OriginCache");
  EXPECT_TRUE((*list)[0].hit);
  EXPECT_EQ((*list)[0].ttl, 1100);
  EXPECT_EQ((*list)[1].cache, "CDN Company Here");
  EXPECT_FALSE((*list)[1].hit);
  EXPECT_EQ((*list)[1].fwd, "uri-miss");
  EXPECT_TRUE((*list)[1].stored);
  EXPECT_TRUE((*list)[1].collapsed);
  EXPECT_EQ((*list)[1].fwd_status, 200);
  EXPECT_EQ((*list)[1].key, "GET http://a/");
  EXPECT_EQ((*list)[1].detail, "no-store");
  EXPECT_EQ((*list)[2].ttl, -5);  // served stale
}

TEST(CacheStatusParse, ReadsWhatWeWrite) {
  const auto hit = parse_cache_status(cache::policy::cache_status_hit(42));
  ASSERT_TRUE(hit && hit->size() == 1u);
  EXPECT_TRUE(hit->front().hit);
  EXPECT_EQ(hit->front().cache, "cachefwd");
  const auto miss = parse_cache_status(cache::policy::cache_status_fwd("uri-miss", true, "no-store"));
  ASSERT_TRUE(miss && miss->size() == 1u);
  EXPECT_FALSE(miss->front().hit);
  EXPECT_EQ(miss->front().fwd, "uri-miss");
  EXPECT_EQ(miss->front().detail, "no-store");
}

TEST(CacheStatusParse, InvalidListsAreRejectedWhole) {
  for (const char* bad : {"a,", "a;;hit", "a; Hit", "\"unterminated; hit", "a b", "1abc", "a; hit=?2"})
    EXPECT_FALSE(parse_cache_status(bad)) << bad;
  // An empty field is an empty list (RFC 8941 §4.2.1), which says nothing about a hit.
  ASSERT_TRUE(parse_cache_status(""));
  EXPECT_TRUE(parse_cache_status("")->empty());
  EXPECT_EQ(cache_outcome("", std::nullopt), CacheOutcome::unknown);
}

TEST(CacheOutcome, TheCacheNearestTheClientDecides) {
  using O = CacheOutcome;
  EXPECT_EQ(cache_outcome("cachefwd; hit; ttl=3", std::nullopt), O::hit);
  EXPECT_EQ(cache_outcome("cachefwd; fwd=uri-miss", std::nullopt), O::miss);
  // The old substring test called these hits: "hit" inside a name, a detail, or hit=?0.
  EXPECT_EQ(cache_outcome("white-hitch; fwd=miss", std::nullopt), O::miss);
  EXPECT_EQ(cache_outcome("c; fwd=miss; detail=hit-for-miss", std::nullopt), O::miss);
  EXPECT_EQ(cache_outcome("c; hit=?0", std::nullopt), O::miss);
  // A hit upstream of us, then our miss: a miss for the client's cache.
  EXPECT_EQ(cache_outcome("origin; hit, cachefwd; fwd=uri-miss", std::nullopt), O::miss);
  EXPECT_EQ(cache_outcome("origin; fwd=miss, cachefwd; hit", std::nullopt), O::hit);
  // Cache-Status wins over X-Cache; a broken Cache-Status says nothing.
  EXPECT_EQ(cache_outcome("cachefwd; fwd=miss", "HIT"), O::miss);
  EXPECT_EQ(cache_outcome("a;;", "HIT"), O::unknown);
  EXPECT_EQ(cache_outcome(std::nullopt, "HIT from squid"), O::hit);
  EXPECT_EQ(cache_outcome(std::nullopt, "TCP_MISS from squid"), O::miss);
  EXPECT_EQ(cache_outcome(std::nullopt, "MISS, HIT"), O::hit);  // shield then edge
  EXPECT_EQ(cache_outcome(std::nullopt, "HIT, MISS"), O::miss);
  EXPECT_EQ(cache_outcome(std::nullopt, std::nullopt), O::unknown);
}

}  // namespace
}  // namespace cachefwd::http
