// Cache semantics beyond the first cache, end to end: coalescing, revalidation, stale serving,
// Vary. Each test would fail without the behaviour it names.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {
std::string status_of(const ClientResponse& r) { return r.header("Cache-Status"); }
}  // namespace

TEST(Coalescing, ConcurrentMissesMakeOneUpstreamRequest) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond(std::string(20000, 'c'), {{"Cache-Control", "max-age=60"}});
    r.delay_ms = 400;
    return r;
  });
  ProxyProcess proxy({});
  std::vector<std::future<ClientResponse>> results;
  for (int i = 0; i < 8; ++i)
    results.push_back(std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/co")); }));
  int collapsed = 0;
  for (auto& f : results) {
    auto r = f.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 20000u);
    if (status_of(r).find("collapsed") != std::string::npos) ++collapsed;
  }
  EXPECT_EQ(origin.requests(), 1);
  EXPECT_EQ(collapsed, 7);
}

TEST(Coalescing, JoinersStreamTheBodyBeforeItEnds) {
  // The origin sends the head, then the body 1.5 s later; a joiner must get the head as soon as
  // it is known, not after the whole body.
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("late body", {{"Cache-Control", "max-age=60"}});
    r.body_delay_ms = 1500;
    return r;
  });
  ProxyProcess proxy({});
  auto first = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/stream")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RawConnection joiner(proxy.port());
  joiner.send("GET " + origin.url("/stream") + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = joiner.read(1000, "\r\n\r\n");
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << "head should arrive before the body: " << head;
  EXPECT_NE(head.find("collapsed"), std::string::npos) << head;
  std::string rest = joiner.read(3000, "late body");
  EXPECT_NE((head + rest).find("late body"), std::string::npos);
  EXPECT_EQ(first.get().body, "late body");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(Coalescing, UncacheableResponseReleasesWaitersAndIsRemembered) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("private stuff", {{"Cache-Control", "private"}});
    r.delay_ms = 300;
    return r;
  });
  ProxyProcess proxy({});
  std::vector<std::future<ClientResponse>> results;
  for (int i = 0; i < 4; ++i)
    results.push_back(std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/u")); }));
  for (auto& f : results) EXPECT_EQ(f.get().body, "private stuff");
  // Every client got its own upstream response: a private response is never shared.
  EXPECT_EQ(origin.requests(), 4);
  // Hit-for-miss: now known uncacheable, concurrent requests do not queue behind each other.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<ClientResponse>> again;
  for (int i = 0; i < 3; ++i)
    again.push_back(std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/u")); }));
  for (auto& f : again) EXPECT_EQ(f.get().status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(850));
  EXPECT_EQ(origin.requests(), 7);
}

TEST(Coalescing, CanBeTurnedOff) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("x", {{"Cache-Control", "max-age=60"}});
    r.delay_ms = 300;
    return r;
  });
  ProxyProcess proxy({"--no-coalesce"});
  auto a = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/nc")); });
  auto b = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/nc")); });
  a.get();
  b.get();
  EXPECT_EQ(origin.requests(), 2);
}

TEST(Revalidation, StaleEntryWithEtagIsRevalidatedAnd304Refreshes) {
  std::atomic<int> full{0}, conditional{0};
  TestOrigin origin([&](const OriginRequest& r) {
    if (r.header("If-None-Match") == "\"v1\"") {
      conditional++;
      return not_modified({{"ETag", "\"v1\""}, {"Cache-Control", "max-age=60"}, {"X-Refreshed", "yes"}});
    }
    full++;
    return respond("version one", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=1"}});
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/r"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/r"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "version one");
  EXPECT_EQ(r.header("X-Refreshed"), "yes") << "RFC 9111 §3.2: the 304's fields update the stored ones";
  EXPECT_NE(status_of(r).find("fwd-status=304"), std::string::npos) << status_of(r);
  EXPECT_EQ(full.load(), 1);
  EXPECT_EQ(conditional.load(), 1);
  // Fresh again after the 304: the next request is a hit.
  auto hit = proxy_get(proxy.proxy_url(), origin.url("/r"));
  EXPECT_NE(status_of(hit).find("hit"), std::string::npos) << status_of(hit);
  EXPECT_EQ(origin.requests(), 2);
}

// Revalidation with Last-Modified: tests/unit/proxy UpstreamRequest (the request we send) and
// tests/unit/cache_flow (the 304 merge), with an injected clock instead of a 2.1 s sleep.

TEST(Revalidation, A304ThatSelectsNothingIsFollowedByAnUnconditionalRequest) {
  // RFC 9111 §4.3.4: the 304 carries another ETag than the stored one, so it freshens nothing; the
  // client must still get the full response, never an empty 304 it did not ask for.
  TestOrigin origin([](const OriginRequest& r) {
    if (r.has_header("If-None-Match")) {
      return not_modified({{"ETag", "\"other\""}, {"Cache-Control", "max-age=60"}});
    }
    return respond("full body", {{"ETag", "\"mine\""}, {"Cache-Control", "max-age=1"}});
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/sel"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/sel"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "full body");
  auto got = origin.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[1].has_header("If-None-Match"));
  EXPECT_FALSE(got[2].has_header("If-None-Match"));
}

TEST(Revalidation, ClientConditionalIsAnsweredWith304FromAFreshEntry) {
  TestOrigin origin([](const OriginRequest&) { return respond("etagged", {{"ETag", "\"e1\""}, {"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/inm"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/inm"), {"If-None-Match: W/\"e1\""});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("ETag"), "\"e1\"");
  auto other = proxy_get(proxy.proxy_url(), origin.url("/inm"), {"If-None-Match: \"e2\""});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "etagged");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(RangeRequests, ServedFromTheStoredFullResponse) {
  TestOrigin origin([](const OriginRequest&) { return respond("0123456789", {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/rg"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/rg"), {"Range: bytes=2-5"});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "2345");
  EXPECT_EQ(r.header("Content-Range"), "bytes 2-5/10");
  auto suffix = proxy_get(proxy.proxy_url(), origin.url("/rg"), {"Range: bytes=-3"});
  EXPECT_EQ(suffix.body, "789");
  auto bad = proxy_get(proxy.proxy_url(), origin.url("/rg"), {"Range: bytes=50-60"});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.header("Content-Range"), "bytes */10");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(RangeRequests, ARangeMissNeverReplacesOrEvictsTheFullEntry) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.has_header("Range")) {
      OriginResponse p;
      p.status = 206;
      p.body = "23";
      p.headers = {{"Content-Range", "bytes 2-3/10"}, {"Cache-Control", "max-age=60"}};
      return p;
    }
    return respond("0123456789", {{"Cache-Control", "max-age=60"}});
  });
  ProxyProcess proxy({});
  // Range first, on a miss: forwarded, and the 206 is not stored as the object.
  auto part = proxy_get(proxy.proxy_url(), origin.url("/rm"), {"Range: bytes=2-3"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "23");
  auto full = proxy_get(proxy.proxy_url(), origin.url("/rm"));
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.body, "0123456789");
  auto again = proxy_get(proxy.proxy_url(), origin.url("/rm"));
  EXPECT_NE(again.header("Cache-Status").find("hit"), std::string::npos);
  EXPECT_EQ(origin.requests(), 2);
}

// A changed resource replacing the stale entry: tests/unit/cache_flow
// CacheFlow.AChangedResourceReplacesTheEntry.

TEST(StaleServing, StaleWhileRevalidateAnswersAtOnceAndRefreshesInTheBackground) {
  std::atomic<int> version{1};
  TestOrigin origin([&](const OriginRequest&) {
    // The refreshed copy lives longer: Date has one-second resolution, so a max-age=1 copy can be
    // stale on arrival and would (rightly) trigger another background refresh.
    bool first = version.load() == 1;
    auto r = respond("v" + std::to_string(version.load()),
                     {{"Cache-Control", first ? "max-age=1, stale-while-revalidate=30" : "max-age=60"}});
    if (!first) r.delay_ms = 500;
    return r;
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/swr"));
  version = 2;
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto start = std::chrono::steady_clock::now();
  auto stale = proxy_get(proxy.proxy_url(), origin.url("/swr"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400)) << "must not wait for the origin";
  EXPECT_EQ(stale.body, "v1");
  EXPECT_NE(status_of(stale).find("stale-while-revalidate"), std::string::npos) << status_of(stale);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  auto fresh = proxy_get(proxy.proxy_url(), origin.url("/swr"));
  EXPECT_EQ(fresh.body, "v2");
  EXPECT_NE(status_of(fresh).find("hit"), std::string::npos) << status_of(fresh);
  EXPECT_EQ(origin.requests(), 2);
}

// The origin's stale-if-error on a 5xx and must-revalidate forbidding it: tests/unit/cache_flow
// (CacheFlow.StaleIfErrorOn5xx..., CacheFlow.MustRevalidateForbidsStaleIfErrorEvenTheOperators).
// The test below keeps the one path that needs the real I/O: a refused connection.

TEST(StaleServing, OperatorStaleIfErrorCoversAnUnreachableOrigin) {
  auto origin = std::make_unique<TestOrigin>([](const OriginRequest&) { return respond("kept", {{"Cache-Control", "max-age=1"}}); });
  std::string url = origin->url("/gone");
  ProxyProcess proxy({"--stale-if-error", "1m"});
  proxy_get(proxy.proxy_url(), url);
  origin.reset();  // the origin is gone: connections are refused
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto r = proxy_get(proxy.proxy_url(), url);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "kept");
}


TEST(Vary, VariantsAreStoredAndSelectedByTheRequestFields) {
  TestOrigin origin([](const OriginRequest& r) {
    return respond("lang=" + r.header("Accept-Language"), {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Language"}});
  });
  ProxyProcess proxy({});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/v"), {"Accept-Language: en"}).body, "lang=en");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/v"), {"Accept-Language: fr"}).body, "lang=fr");
  auto en = proxy_get(proxy.proxy_url(), origin.url("/v"), {"Accept-Language: en"});
  auto fr = proxy_get(proxy.proxy_url(), origin.url("/v"), {"Accept-Language: fr"});
  EXPECT_EQ(en.body, "lang=en");
  EXPECT_EQ(fr.body, "lang=fr");
  EXPECT_NE(status_of(en).find("hit"), std::string::npos);
  EXPECT_NE(status_of(fr).find("hit"), std::string::npos);
  // Absent is a variant of its own, not the same as any value.
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/v")).body, "lang=");
  EXPECT_EQ(origin.requests(), 3);
}

TEST(Vary, VaryStarIsNeverServedFromCache) {
  TestOrigin origin([](const OriginRequest&) { return respond("*", {{"Cache-Control", "max-age=60"}, {"Vary", "*"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/star"));
  proxy_get(proxy.proxy_url(), origin.url("/star"));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(Vary, CoalescedRequestsForOtherVariantsAreNotGivenTheWrongOne) {
  TestOrigin origin([](const OriginRequest& r) {
    auto resp = respond("enc=" + r.header("Accept-Encoding"), {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding"}});
    resp.delay_ms = 300;
    return resp;
  });
  ProxyProcess proxy({});
  auto a = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/ve"), {"Accept-Encoding: gzip"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto b = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/ve"), {"Accept-Encoding: br"}); });
  EXPECT_EQ(a.get().body, "enc=gzip");
  EXPECT_EQ(b.get().body, "enc=br");
}
