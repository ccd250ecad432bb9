// Per-route rules, key options, TTL modes, negative caching, POST caching, invalidation (issue #3),
// end to end through the real binary.
#include <gtest/gtest.h>

#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {
ClientResponse post(const std::string& proxy, const std::string& url, const std::string& body) {
  ClientRequest req;
  req.method = "POST";
  req.url = url;
  req.proxy = proxy;
  req.body = body;
  req.headers = {"Content-Type: application/json"};
  return curl_fetch(req);
}
bool hit(const ClientResponse& r) { return r.header("Cache-Status").find("hit") != std::string::npos; }
}  // namespace

TEST(KeyPolicy, SortedQueryAndIgnoredParametersShareOneEntry) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--key-query", "sorted", "--key-ignore-query", "utm_*,fbclid"});
  proxy_get(proxy.proxy_url(), origin.url("/q?b=2&a=1"));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/q?a=1&b=2"))));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/q?a=1&utm_source=x&b=2&fbclid=9"))));
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/q?a=1&b=3"))));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(KeyPolicy, ByDefaultTheQueryIsPartOfTheKeyAsSent) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/q?b=2&a=1"));
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/q?a=1&b=2"))));
}

TEST(KeyPolicy, NamedHeadersAndCookiesSplitTheKey) {
  TestOrigin origin([](const OriginRequest& r) {
    return respond(r.header("X-Tenant") + "|" + r.header("Cookie"), {{"Cache-Control", "max-age=60"}});
  });
  ProxyProcess proxy({"--key-headers", "X-Tenant", "--key-cookies", "lang"});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k"), {"X-Tenant: a", "Cookie: lang=en; sid=1"}).body, "a|lang=en; sid=1");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k"), {"X-Tenant: b", "Cookie: lang=en; sid=1"}).body, "b|lang=en; sid=1");
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/k"), {"X-Tenant: a", "Cookie: lang=fr"}).body, "a|lang=fr");
  // Another session id, same tenant and lang: the same entry (sid is not in the key).
  auto r = proxy_get(proxy.proxy_url(), origin.url("/k"), {"X-Tenant: a", "Cookie: sid=2; lang=en"});
  EXPECT_TRUE(hit(r));
  EXPECT_EQ(r.body, "a|lang=en; sid=1");
  EXPECT_EQ(origin.requests(), 3);
}

TEST(PostCaching, OffByDefaultAndKeyedOnTheBodyWhenEnabled) {
  TestOrigin origin([](const OriginRequest& r) { return respond("answer to " + r.body, {{"Cache-Control", "max-age=60"}}); });
  {
    ProxyProcess proxy({});
    post(proxy.proxy_url(), origin.url("/graphql"), "{q:1}");
    post(proxy.proxy_url(), origin.url("/graphql"), "{q:1}");
    EXPECT_EQ(origin.requests(), 2) << "POST is never served from cache unless a rule says so";
  }
  ProxyProcess proxy({"--rule", "path=/graphql,cache-methods=GET|HEAD|POST"});
  EXPECT_EQ(post(proxy.proxy_url(), origin.url("/graphql"), "{q:1}").body, "answer to {q:1}");
  auto same = post(proxy.proxy_url(), origin.url("/graphql"), "{q:1}");
  EXPECT_TRUE(hit(same));
  EXPECT_EQ(same.body, "answer to {q:1}");
  auto other = post(proxy.proxy_url(), origin.url("/graphql"), "{q:2}");
  EXPECT_EQ(other.body, "answer to {q:2}") << "another body is another key";
  EXPECT_EQ(origin.requests(), 4);
}

TEST(TtlPolicy, OverrideReplacesTheOriginsLifetime) {
  TestOrigin origin([](const OriginRequest&) { return respond("o", {{"Cache-Control", "max-age=0"}}); });
  ProxyProcess proxy({"--ttl", "60", "--ttl-mode", "override"});
  proxy_get(proxy.proxy_url(), origin.url("/o"));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/o"))));
  EXPECT_EQ(origin.requests(), 1);
}

TEST(TtlPolicy, OverrideNeverStoresNoStoreOrPrivate) {
  TestOrigin origin([](const OriginRequest&) { return respond("p", {{"Cache-Control", "private"}}); });
  ProxyProcess proxy({"--ttl", "60", "--ttl-mode", "override"});
  proxy_get(proxy.proxy_url(), origin.url("/p"));
  proxy_get(proxy.proxy_url(), origin.url("/p"));
  EXPECT_EQ(origin.requests(), 2);
}

// --ttl-mode clamp: tests/unit/cache_flow CacheFlow.ClampBoundsTheOriginsLifetime.

TEST(NegativeCaching, ListedErrorStatusesAreStoredForTheirOwnShortTtl) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("missing", {});
    r.status = 404;
    return r;
  });
  ProxyProcess proxy({"--ttl", "600", "--cache-status", "404=1s"});
  proxy_get(proxy.proxy_url(), origin.url("/nf"));
  auto again = proxy_get(proxy.proxy_url(), origin.url("/nf"));
  EXPECT_EQ(again.status, 404);
  EXPECT_TRUE(hit(again));
  EXPECT_EQ(origin.requests(), 1);
  // Its expiry after 1 s (not --ttl's 600): CacheFlow.ListedErrorStatusesAreStoredForTheirOwnShortTtl.
}

TEST(Invalidation, SuccessfulUnsafeRequestInvalidatesTheTargetAndLocation) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.method == "POST") {
      auto resp = respond("created", {{"Location", "/items/7"}});
      resp.status = 201;
      return resp;
    }
    return respond("item " + r.target, {{"Cache-Control", "max-age=300"}});
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/items"));
  proxy_get(proxy.proxy_url(), origin.url("/items/7"));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/items"))));
  post(proxy.proxy_url(), origin.url("/items"), "{}");
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/items"))));
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/items/7")))) << "same-origin Location";
  EXPECT_EQ(origin.requests_for("/items"), 3);  // GET, POST, GET
}

TEST(Invalidation, FailedUnsafeRequestInvalidatesNothing) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.method == "DELETE") {
      auto resp = respond("nope", {});
      resp.status = 500;
      return resp;
    }
    return respond("kept", {{"Cache-Control", "max-age=300"}});
  });
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), origin.url("/keep"));
  ClientRequest del;
  del.method = "DELETE";
  del.url = origin.url("/keep");
  del.proxy = proxy.proxy_url();
  EXPECT_EQ(curl_fetch(del).status, 500);
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/keep"))));
}

TEST(Rules, FirstMatchWinsAndCacheOffBypasses) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--rule", "path=/live/*,cache=off", "--rule", "path=/live/forced,ttl=60s,ttl-mode=override"});
  proxy_get(proxy.proxy_url(), origin.url("/live/forced"));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/live/forced"));
  EXPECT_FALSE(hit(r)) << "the first rule (cache=off) matched first";
  EXPECT_NE(r.header("Cache-Status").find("fwd=bypass"), std::string::npos) << r.header("Cache-Status");
  proxy_get(proxy.proxy_url(), origin.url("/other"));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/other"))));
}

TEST(Rules, PrivatePartitionsNeverShareButNamedOnesDo) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  // Two rules over the same paths, selected by method... both GET: use hosts instead.
  ProxyProcess proxy({"--rule", "name=a,host=127.0.0.1,path=/a/", "--rule", "name=b,host=localhost,path=/a/"});
  std::string port = std::to_string(origin.port());
  proxy_get(proxy.proxy_url(), "http://127.0.0.1:" + port + "/a/x");
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), "http://localhost:" + port + "/a/x")));
  EXPECT_EQ(origin.requests(), 2);
}

TEST(Rules, PerRuleEntryLimitEvictsOnlyItsOwnEntries) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.target, {{"Cache-Control", "max-age=60"}}); });
  ProxyProcess proxy({"--rule", "name=small,path=/small/,max-entries=2"});
  proxy_get(proxy.proxy_url(), origin.url("/big/1"));
  for (int i = 1; i <= 3; ++i) proxy_get(proxy.proxy_url(), origin.url("/small/" + std::to_string(i)));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/big/1")))) << "other rules' entries stay";
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/small/1")))) << "the rule keeps 2 entries";
}

TEST(Rules, SetCookieResponsesAreStoredOnlyWhereARuleSaysSo) {
  TestOrigin origin([](const OriginRequest&) { return respond("c", {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=1"}}); });
  ProxyProcess proxy({"--rule", "path=/shared-cookie/,set-cookie=store"});
  proxy_get(proxy.proxy_url(), origin.url("/shared-cookie/x"));
  EXPECT_TRUE(hit(proxy_get(proxy.proxy_url(), origin.url("/shared-cookie/x"))));
  proxy_get(proxy.proxy_url(), origin.url("/other"));
  EXPECT_FALSE(hit(proxy_get(proxy.proxy_url(), origin.url("/other"))));
}

TEST(Rules, BadRuleIsAClearStartupError) {
  std::string out;
  EXPECT_EQ(run_cachefwd({"serve", "--rule", "path=/x,ttl=soon"}, out), 2);
  EXPECT_NE(out.find("ttl"), std::string::npos) << out;
}
