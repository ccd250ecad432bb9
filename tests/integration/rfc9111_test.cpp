// RFC 9111 to the letter (issue 11), end to end: the real binary between libcurl and a real origin
// on loopback. Each test counts what reached the origin, because that is where a strict cache and
// a sloppy one differ. Nothing here sleeps past a lifetime: responses are stale on arrival
// (Age, max-age=0) or never fresh (no-cache); the timing itself is tested in tests/unit/cache_flow.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "http/http_date.h"
#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

TEST(Rfc9111, ListBasedAgeCountsByItsFirstMember) {
  // §5.1: Age "7200, 0" (one line) or 7200 then 0 (two lines) is 7200 s, past max-age=3600: the
  // stored response is stale and the next request goes to the origin again.
  for (bool two_lines : {false, true}) {
    TestOrigin origin([&](const OriginRequest&) {
      FieldList f{{"Cache-Control", "max-age=3600"}};
      if (two_lines) {
        f.push_back({"Age", "7200"});
        f.push_back({"Age", "0"});
      } else {
        f.push_back({"Age", "7200, 0"});
      }
      return respond("aged", f);
    });
    ProxyProcess proxy({});
    EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/age")).body, "aged");
    auto second = proxy_get(proxy.proxy_url(), origin.url("/age"));
    EXPECT_EQ(second.body, "aged");
    EXPECT_EQ(second.header("Cache-Status").find("hit"), std::string::npos) << second.header("Cache-Status");
    EXPECT_EQ(origin.requests(), 2) << "two_lines=" << two_lines;
  }
}

TEST(Rfc9111, A304WithoutValidatorsToOurConditionalRefreshesWithoutASecondRequest) {
  // §4.3.4: the 304 answers the conditional we sent with the stored ETag (or Last-Modified); it
  // repeats no validator, yet it is about the response we validated. One conditional request,
  // never a second, unconditional one. max-age=0 makes the stored response stale on arrival.
  const std::string lm = "Sat, 29 Oct 1994 19:43:31 GMT";
  for (const char* validator : {"ETag", "Last-Modified"}) {
    std::atomic<int> full{0}, conditional{0};
    TestOrigin origin([&](const OriginRequest& r) {
      if (r.has_header("If-None-Match") || r.has_header("If-Modified-Since")) {
        conditional++;
        return not_modified({{"Cache-Control", "max-age=0, must-revalidate"}, {"X-Seen", "304"}});
      }
      full++;
      FieldList f{{"Cache-Control", "max-age=0, must-revalidate"}};
      f.push_back({validator, std::string(validator) == "ETag" ? "\"v1\"" : lm});
      return respond("validated body", f);
    });
    ProxyProcess proxy({});
    EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/v")).body, "validated body");
    auto r = proxy_get(proxy.proxy_url(), origin.url("/v"));
    EXPECT_EQ(r.status, 200) << validator;
    EXPECT_EQ(r.body, "validated body") << validator;
    EXPECT_EQ(r.header("X-Seen"), "304") << validator;
    EXPECT_NE(r.header("Cache-Status").find("detail=revalidated"), std::string::npos)
        << r.header("Cache-Status");
    EXPECT_EQ(full.load(), 1) << validator;
    EXPECT_EQ(conditional.load(), 1) << validator;
    EXPECT_EQ(origin.requests(), 2) << validator;
  }
}

TEST(Rfc9111, AnyFinalStatusWithExplicitFreshnessIsStored) {
  // §3, §4.2.1: a redirect, an error or an unknown status the origin gave max-age (or Expires) is
  // served from the cache; the same status without it, even under --ttl, is not.
  TestOrigin origin([](const OriginRequest& r) {
    int status = std::stoi(r.target.substr(r.target.rfind('/') + 1));
    bool fresh = r.target.find("/fresh/") != std::string::npos;
    FieldList f;
    if (fresh) f.push_back({"Cache-Control", "max-age=60"});
    if (status >= 300 && status < 400) f.push_back({"Location", "/elsewhere"});
    return respond("status " + std::to_string(status), f, status);
  });
  ProxyProcess proxy({"--ttl", "60"});
  for (int status : {302, 307, 404, 500, 503, 299, 599}) {
    std::string fresh = origin.url("/fresh/" + std::to_string(status));
    auto first = proxy_get(proxy.proxy_url(), fresh);
    EXPECT_EQ(first.status, status);
    auto second = proxy_get(proxy.proxy_url(), fresh);
    EXPECT_EQ(second.status, status);
    EXPECT_EQ(second.body, "status " + std::to_string(status));
    EXPECT_NE(second.header("Cache-Status").find("hit"), std::string::npos)
        << status << " " << second.header("Cache-Status");
    EXPECT_EQ(origin.requests_for("/fresh/" + std::to_string(status)), 1) << status;
    if (status == 404) continue;  // explicit-only status: never stored without freshness (unchanged)
    std::string plain = origin.url("/plain/" + std::to_string(status));
    proxy_get(proxy.proxy_url(), plain);
    proxy_get(proxy.proxy_url(), plain);
    EXPECT_EQ(origin.requests_for("/plain/" + std::to_string(status)), 2)
        << status << ": --ttl must not store it";
  }
}

TEST(Rfc9111, NoCacheResponsesAreStoredAndRevalidatedOnEveryUse) {
  // §5.2.2.4: each use is validated with the stored ETag; the 304 lets the stored body be served.
  std::atomic<int> full{0}, conditional{0};
  TestOrigin origin([&](const OriginRequest& r) {
    if (r.header("If-None-Match") == "\"nc1\"") {
      conditional++;
      return not_modified({{"ETag", "\"nc1\""}, {"Cache-Control", "no-cache"}});
    }
    full++;
    return respond("no-cache body", {{"ETag", "\"nc1\""}, {"Cache-Control", "no-cache"}});
  });
  ProxyProcess proxy({});
  for (int i = 0; i < 3; ++i) {
    auto r = proxy_get(proxy.proxy_url(), origin.url("/nc"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "no-cache body");
    EXPECT_EQ(r.header("Cache-Status").find("hit"), std::string::npos) << r.header("Cache-Status");
  }
  EXPECT_EQ(full.load(), 1);
  EXPECT_EQ(conditional.load(), 2);
}

TEST(Rfc9111, IfModifiedSinceIsComparedWithTheStoredDateWithoutLastModified) {
  // RFC 9111 §4.3.2, RFC 9110 §13.1.3: a fresh stored response without Last-Modified is judged by
  // its Date. Answered by the proxy itself: the origin sees only the first request.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string date = cachefwd::http::format_http_date(now_ms - 5'000);
  const std::string earlier = cachefwd::http::format_http_date(now_ms - 86'400'000);
  TestOrigin origin([&](const OriginRequest&) {
    return respond("dated body", {{"Date", date}, {"Cache-Control", "max-age=600"}});
  });
  ProxyProcess proxy({});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/ims")).body, "dated body");
  auto same = proxy_get(proxy.proxy_url(), origin.url("/ims"), {"If-Modified-Since: " + date});
  EXPECT_EQ(same.status, 304) << same.header("Cache-Status");
  EXPECT_EQ(same.body, "");
  auto older = proxy_get(proxy.proxy_url(), origin.url("/ims"), {"If-Modified-Since: " + earlier});
  EXPECT_EQ(older.status, 200);
  EXPECT_EQ(older.body, "dated body");
  EXPECT_EQ(origin.requests(), 1);
}

TEST(Rfc9111, VaryOnAcceptEncodingAndLanguageComparesTokenSets) {
  // §4.1: the same encodings and languages in another order, case or spacing select the stored
  // variant; another language does not.
  TestOrigin origin([](const OriginRequest& r) {
    return respond("variant for " + r.header("Accept-Language"),
                   {{"Cache-Control", "max-age=600"}, {"Vary", "Accept-Encoding, Accept-Language"}});
  });
  ProxyProcess proxy({});
  auto first = proxy_get(proxy.proxy_url(), origin.url("/tok"),
                         {"Accept-Encoding: gzip, br", "Accept-Language: en-US, fr;q=0.5"});
  EXPECT_EQ(first.body, "variant for en-US, fr;q=0.5");
  auto same = proxy_get(proxy.proxy_url(), origin.url("/tok"),
                        {"Accept-Encoding: BR,gzip", "Accept-Language: fr; q=0.5 ,en-us"});
  EXPECT_EQ(same.body, "variant for en-US, fr;q=0.5");
  EXPECT_NE(same.header("Cache-Status").find("hit"), std::string::npos) << same.header("Cache-Status");
  EXPECT_EQ(origin.requests(), 1);
  auto other =
      proxy_get(proxy.proxy_url(), origin.url("/tok"), {"Accept-Encoding: gzip, br", "Accept-Language: de"});
  EXPECT_EQ(other.body, "variant for de");
  EXPECT_EQ(origin.requests(), 2);
}
