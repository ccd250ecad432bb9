// RFC 9211 Cache-Status.
#include "cache/policy/cache_status.h"

#include <gtest/gtest.h>

namespace cachefwd::cache::policy {
namespace {

TEST(CacheStatus, Hit) {
  EXPECT_EQ(cache_status_hit(42), "cachefwd; hit; ttl=42");
  EXPECT_EQ(cache_status_hit(-3), "cachefwd; hit; ttl=-3");  // §2.4: negative when stale
  EXPECT_EQ(cache_status_hit(0, "stale-while-revalidate"),
            "cachefwd; hit; ttl=0; detail=stale-while-revalidate");
}

TEST(CacheStatus, Forward) {
  EXPECT_EQ(cache_status_fwd("uri-miss", true), "cachefwd; fwd=uri-miss; stored");
  EXPECT_EQ(cache_status_fwd("uri-miss", false, "no-store"), "cachefwd; fwd=uri-miss; detail=no-store");
  EXPECT_EQ(cache_status_fwd("method", false), "cachefwd; fwd=method");
}

TEST(CacheStatus, AllParametersInOrder) {
  CacheStatus s;
  s.fwd = "stale";
  s.fwd_status = 304;
  s.ttl = 60;
  s.stored = true;
  s.collapsed = true;
  s.key = "GET http://a/";
  s.detail = "revalidated";
  EXPECT_EQ(format_cache_status(s),
            "cachefwd; fwd=stale; fwd-status=304; ttl=60; stored; collapsed; key=\"GET http://a/\"; "
            "detail=revalidated");
}

// RFC 9211 §2.8: detail is an sf-token or an sf-string; a value that is not a token is quoted.
TEST(CacheStatus, DetailThatIsNotATokenIsQuoted) {
  EXPECT_EQ(cache_status_fwd("miss", false, "upstream said \"no\""),
            "cachefwd; fwd=miss; detail=\"upstream said \\\"no\\\"\"");
  EXPECT_EQ(cache_status_fwd("miss", false, "1st"), "cachefwd; fwd=miss; detail=\"1st\"");
}

TEST(CacheStatus, OtherCacheName) {
  CacheStatus s;
  s.hit = true;
  EXPECT_EQ(format_cache_status(s, "edge-1"), "edge-1; hit");
}

}  // namespace
}  // namespace cachefwd::cache::policy
