// The first real cache, end to end: what is stored, for how long, and what a hit looks like.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {
long age_of(const ClientResponse& r) { return r.has_header("Age") ? std::stol(r.header("Age")) : -1; }
}  // namespace

TEST(FirstCache, MissThenHitWithAgeAndCacheStatus) {
  TestOrigin origin([](const OriginRequest&) { return respond("cached body", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  auto r1 = proxy_get(proxy.proxy_url(), origin.url("/a"));
  EXPECT_EQ(r1.body, "cached body");
  EXPECT_NE(r1.header("Cache-Status").find("fwd=uri-miss"), std::string::npos) << r1.header("Cache-Status");
  // Streamed before the body is known to arrive whole: `storing`, not yet `stored` (RFC 9211).
  EXPECT_NE(r1.header("Cache-Status").find("detail=storing"), std::string::npos) << r1.header("Cache-Status");
  EXPECT_EQ(r1.header("Cache-Status").find("; stored"), std::string::npos) << r1.header("Cache-Status");
  auto r2 = proxy_get(proxy.proxy_url(), origin.url("/a"));
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "cached body");
  EXPECT_TRUE(std::regex_search(r2.header("Cache-Status"), std::regex("^cachefwd; hit"))) << r2.header("Cache-Status");
  EXPECT_GE(age_of(r2), 0);
  EXPECT_EQ(r2.header("Content-Length"), "11");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(FirstCache, KeyIncludesQueryHostAndPort) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  TestOrigin other([](const OriginRequest& r) { return respond("other" + r.target, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k?x=1")).body, "/k?x=1");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k?x=2")).body, "/k?x=2");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), other.url("/k?x=1")).body, "other/k?x=1");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k?x=1")).body, "/k?x=1");
  EXPECT_EQ(origin.requests(), 2);
  EXPECT_EQ(other.requests(), 1);
}

TEST(FirstCache, TtlAppliesOnlyWithoutOriginFreshnessAndExpires) {
  TestOrigin origin([](const OriginRequest&) { return respond("plain", {}); });
  ProxyProcess proxy({"--ttl", "1"});
  proxy_get(proxy.proxy_url(), origin.url("/ttl"));
  auto hit = proxy_get(proxy.proxy_url(), origin.url("/ttl"));
  EXPECT_NE(hit.header("Cache-Status").find("hit"), std::string::npos);
  EXPECT_EQ(origin.requests(), 1);
  // Expiry: tests/unit/cache_flow CacheFlow.TtlAppliesOnlyWithoutOriginFreshnessAndExpires.
}

TEST(FirstCache, WithoutTtlUnmarkedResponsesAreNotStored) {
  TestOrigin origin([](const OriginRequest&) { return respond("plain", {}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/n"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/n"));
  EXPECT_EQ(origin.requests(), 2);
  EXPECT_NE(r.header("Cache-Status").find("detail=no-freshness"), std::string::npos) << r.header("Cache-Status");
}

// The origin's max-age beating --ttl: tests/unit/cache_flow CacheFlow.OriginMaxAgeBeatsTtl.

TEST(FirstCache, SMaxAgeWinsForASharedCache) {
  TestOrigin origin([](const OriginRequest&) { return respond("s", {{"Cache-Control", "max-age=0, s-maxage=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/s"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/s"));
  EXPECT_NE(r.header("Cache-Status").find("hit"), std::string::npos);
  EXPECT_EQ(origin.requests(), 1);
}

TEST(FirstCache, ExpiresAndDateGiveFreshness) {
  TestOrigin origin([](const OriginRequest&) {
    return respond("e", {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Expires", "Sun, 06 Nov 1994 08:50:37 GMT"}});
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/e"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/e"));
  // 60 s lifetime relative to the origin's Date, but the Date is decades old: the apparent age
  // makes the response stale on arrival (RFC 9111 §4.2.3).
  EXPECT_EQ(origin.requests(), 2);
  (void)r;
}

TEST(FirstCache, IncomingAgeCountsTowardsTheCurrentAge) {
  TestOrigin origin([](const OriginRequest&) { return respond("aged", {{"Cache-Control", "max-age=100"}, {"Age", "40"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/age"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/age"));
  EXPECT_GE(age_of(r), 40);
  EXPECT_LE(age_of(r), 42);
  EXPECT_EQ(r.header("Age").find(','), std::string::npos) << "exactly one Age value: " << r.header("Age");
}

TEST(FirstCache, AgeAtOrBeyondLifetimeIsNotServed) {
  TestOrigin origin([](const OriginRequest&) { return respond("old", {{"Cache-Control", "max-age=30"}, {"Age", "31"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/old"));
  proxy_get(proxy.proxy_url(), origin.url("/old"));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, NoStoreAndPrivateAreNeverStored) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.target == "/ns") return respond("ns", {{"Cache-Control", "no-store, max-age=60"}});
    return respond("pv", {{"Cache-Control", "private, max-age=60"}});
  });
  ProxyProcess proxy({"--ttl", "60"});
  for (int i = 0; i < 2; ++i) {
    auto a = proxy_get(proxy.proxy_url(), origin.url("/ns"));
    auto b = proxy_get(proxy.proxy_url(), origin.url("/pv"));
    EXPECT_NE(a.header("Cache-Status").find("detail=no-store"), std::string::npos) << a.header("Cache-Status");
    EXPECT_NE(b.header("Cache-Status").find("detail=private"), std::string::npos) << b.header("Cache-Status");
  }
  EXPECT_EQ(origin.requests_for("/ns"), 2);
  EXPECT_EQ(origin.requests_for("/pv"), 2);
}

TEST(FirstCache, RequestNoStoreKeepsTheResponseOutOfTheCache) {
  TestOrigin origin([](const OriginRequest&) { return respond("x", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/rns"), {"Cache-Control: no-store"});
  proxy_get(proxy.proxy_url(), origin.url("/rns"));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, AuthorizedResponsesAreNotSharedUnlessTheOriginSaysSo) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.target == "/pub") return respond("for " + r.header("Authorization"), {{"Cache-Control", "public, max-age=60"}});
    return respond("for " + r.header("Authorization"), {{"Cache-Control", "max-age=60"}});
  });
  ProxyProcess proxy({});
  auto alice = proxy_get(proxy.proxy_url(), origin.url("/me"), {"Authorization: Bearer alice"});
  auto bob = proxy_get(proxy.proxy_url(), origin.url("/me"), {"Authorization: Bearer bob"});
  EXPECT_EQ(alice.body, "for Bearer alice");
  EXPECT_EQ(bob.body, "for Bearer bob") << "one user's response must never reach another";
  auto anon = proxy_get(proxy.proxy_url(), origin.url("/me"));
  EXPECT_EQ(anon.body, "for ");
  // RFC 9111 §3.5: public lets a shared cache store it.
  proxy_get(proxy.proxy_url(), origin.url("/pub"), {"Authorization: Bearer alice"});
  proxy_get(proxy.proxy_url(), origin.url("/pub"), {"Authorization: Bearer alice"});
  EXPECT_EQ(origin.requests_for("/pub"), 1);
}

TEST(FirstCache, SetCookieResponsesAreNotShared) {
  TestOrigin origin([](const OriginRequest&) { return respond("c", {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "s=1"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/c"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/c"));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, PostIsNeverCached) {
  TestOrigin origin([](const OriginRequest& r) { return respond("p:" + r.body, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--ttl", "60"});
  for (int i = 0; i < 2; ++i) {
    ClientRequest req;
    req.method = "POST";
    req.url = origin.url("/p");
    req.proxy = proxy.proxy_url();
    req.body = "n" + std::to_string(i);
    auto r = curl_fetch(req);
    EXPECT_EQ(r.body, "p:n" + std::to_string(i));
    EXPECT_NE(r.header("Cache-Status").find("fwd=method"), std::string::npos);
  }
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, HeadIsAnsweredFromAStoredGet) {
  TestOrigin origin([](const OriginRequest&) { return respond("0123456789", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/h"));
  ClientRequest head;
  head.method = "HEAD";
  head.url = origin.url("/h");
  head.proxy = proxy.proxy_url();
  auto r = curl_fetch(head);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Length"), "10");
  EXPECT_TRUE(r.body.empty());
  EXPECT_NE(r.header("Cache-Status").find("hit"), std::string::npos);
  EXPECT_EQ(origin.requests(), 1);
}

TEST(FirstCache, ChunkedResponsesAreStoredWhole) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond(std::string(5000, 'q'), {{"Cache-Control", "max-age=60"}});
    r.chunked = true;
    return r;
  });
  ProxyProcess proxy({});
  auto r1 = proxy_get(proxy.proxy_url(), origin.url("/ch"));
  auto r2 = proxy_get(proxy.proxy_url(), origin.url("/ch"));
  EXPECT_EQ(r1.body.size(), 5000u);
  EXPECT_EQ(r2.body, r1.body);
  EXPECT_EQ(r2.header("Content-Length"), "5000");
  EXPECT_FALSE(r2.has_header("Transfer-Encoding"));
  EXPECT_NE(r2.header("Cache-Status").find("hit"), std::string::npos) << r2.header("Cache-Status");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(FirstCache, ObjectsOverMaxObjectSizeStreamThroughUncut) {
  std::string big(300 * 1024, 'B');
  TestOrigin origin([&](const OriginRequest&) { return respond(big, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--max-object-size", "64KiB"});
  auto r1 = proxy_get(proxy.proxy_url(), origin.url("/big"));
  auto r2 = proxy_get(proxy.proxy_url(), origin.url("/big"));
  EXPECT_EQ(r1.body.size(), big.size());
  EXPECT_EQ(r2.body.size(), big.size());
  EXPECT_NE(r2.header("Cache-Status").find("detail=too-large"), std::string::npos) << r2.header("Cache-Status");
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, UnknownLengthBodyOverTheLimitIsNotStoredButDelivered) {
  std::string big(200 * 1024, 'C');
  TestOrigin origin([&](const OriginRequest&) {
    auto r = respond(big, {{"Cache-Control", "max-age=60"}});
    r.chunked = true;
    return r;
  });
  ProxyProcess proxy({"--max-object-size", "64KiB"});
  auto r1 = proxy_get(proxy.proxy_url(), origin.url("/bigc"));
  auto r2 = proxy_get(proxy.proxy_url(), origin.url("/bigc"));
  // The head went out before the body showed it too large: it must not have promised `stored`.
  EXPECT_EQ(r1.header("Cache-Status").find("stored"), std::string::npos) << r1.header("Cache-Status");
  EXPECT_EQ(r1.body, big);
  EXPECT_EQ(r2.body, big);
  EXPECT_EQ(origin.requests(), 2);
}

TEST(FirstCache, DefaultPolicyKeepsFrequentlyUsedEntriesUnderAScan) {
  // S3-FIFO (the default): an entry requested repeatedly survives a scan of one-hit wonders that
  // would flush it out of an LRU of the same size (S3-FIFO promotes it to its main queue).
  TestOrigin origin([](const OriginRequest&) { return respond(std::string(4 * 1024, 's'), {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--max-bytes", "200KiB", "--max-object-size", "8KiB"});
  for (int i = 0; i < 3; ++i) proxy_get(proxy.proxy_url(), origin.url("/hot"));
  for (int i = 0; i < 120; ++i) proxy_get(proxy.proxy_url(), origin.url("/scan/" + std::to_string(i)));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/hot"));
  EXPECT_NE(r.header("Cache-Status").find("hit"), std::string::npos) << r.header("Cache-Status");
  EXPECT_EQ(origin.requests_for("/hot"), 1);
}

TEST(FirstCache, MaxBytesEvictsLeastRecentlyUsed) {
  TestOrigin origin([](const OriginRequest&) { return respond(std::string(40 * 1024, 'e'), {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--max-bytes", "100KiB", "--policy", "lru"});
  proxy_get(proxy.proxy_url(), origin.url("/1"));
  proxy_get(proxy.proxy_url(), origin.url("/2"));
  proxy_get(proxy.proxy_url(), origin.url("/1"));  // hit: /1 is now more recent than /2
  proxy_get(proxy.proxy_url(), origin.url("/3"));  // needs room: evicts /2
  EXPECT_EQ(origin.requests(), 3);
  proxy_get(proxy.proxy_url(), origin.url("/1"));
  EXPECT_EQ(origin.requests_for("/1"), 1);
  proxy_get(proxy.proxy_url(), origin.url("/2"));
  EXPECT_EQ(origin.requests_for("/2"), 2);
}

TEST(FirstCache, ErrorStatusesAreNotStoredByTtl) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("down", {});
    r.status = 503;
    return r;
  });
  ProxyProcess proxy({"--ttl", "60"});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/err")).status, 503);
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/err")).status, 503);
  EXPECT_EQ(origin.requests(), 2) << "a cached outage would hide recovery";
}

TEST(FirstCache, RequestNoCacheGoesToTheOrigin) {
  TestOrigin origin([](const OriginRequest&) { return respond("nc", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/nc"));
  proxy_get(proxy.proxy_url(), origin.url("/nc"), {"Cache-Control: no-cache"});
  proxy_get(proxy.proxy_url(), origin.url("/nc"), {"Pragma: no-cache"});
  EXPECT_EQ(origin.requests(), 3);
}

TEST(FirstCache, OnlyIfCachedWithNothingStoredIs504) {
  TestOrigin origin([](const OriginRequest&) { return respond("x", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/oic"), {"Cache-Control: only-if-cached"});
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(origin.requests(), 0);
}
