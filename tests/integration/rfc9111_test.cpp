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
#include "support/raw_origin.h"
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

namespace {
std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}
}  // namespace

TEST(Rfc9110Interim, InterimResponsesReachTheClientFirstAndAreNeverStored) {
  // RFC 9110 §15.2: 102 and 103 from the origin are forwarded before the final response; the
  // stored response (served on the second request) carries none of their fields.
  RawOrigin origin([](OriginSocket& s, int) {
    while (!s.read_head(3000).empty()) {
      s.send(
          "HTTP/1.1 102 Processing\r\n\r\n"
          "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
          "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 5\r\n\r\nfinal");
    }
  });
  ProxyProcess proxy({});
  const std::string get = "GET " + origin.url("/hints") + " HTTP/1.1\r\nHost: x\r\n\r\n";
  RawConnection c(proxy.port());
  c.send(get);
  std::string out = c.read(5000, "final");
  auto p102 = out.find("HTTP/1.1 102 Processing\r\n");
  auto p103 = out.find("HTTP/1.1 103 Early Hints\r\n");
  auto p200 = out.find("HTTP/1.1 200 OK\r\n");
  ASSERT_NE(p102, std::string::npos) << out;
  ASSERT_NE(p103, std::string::npos) << out;
  ASSERT_NE(p200, std::string::npos) << out;
  EXPECT_LT(p102, p103);
  EXPECT_LT(p103, p200);
  EXPECT_NE(out.find("Link: </style.css>; rel=preload", p103), std::string::npos);
  EXPECT_EQ(out.find("Link:", p200), std::string::npos) << "1xx fields must not reach the final response";
  // The second request is a hit: no interim response, no Link merged into the stored one.
  c.send(get);
  std::string again = c.read(5000, "final");
  EXPECT_EQ(again.find("HTTP/1.1 10"), std::string::npos) << again;
  EXPECT_EQ(again.find("Link:"), std::string::npos) << again;
  EXPECT_NE(again.find("hit"), std::string::npos) << again;
  EXPECT_EQ(origin.connections(), 1);
  // HTTP/1.0 clients never get a 1xx (§15.2).
  RawConnection old(proxy.port());
  old.send("GET " + origin.url("/hints10") + " HTTP/1.0\r\nHost: x\r\n\r\n");
  std::string out10 = old.read(5000, "final");
  EXPECT_NE(out10.find("200 OK"), std::string::npos) << out10;
  EXPECT_EQ(out10.find("HTTP/1.1 10"), std::string::npos) << out10;
}

TEST(Rfc9110Interim, OneHundredContinueIsSentOnceWhenTheProxyAlreadySentIt) {
  // The proxy answers Expect: 100-continue itself; the origin's own 100 must not be a second one.
  RawOrigin origin([](OriginSocket& s, int) {
    if (s.read_head(3000).empty()) return;
    s.send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
  });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  c.send("POST " + origin.url("/upload") +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  std::string cont = c.read(3000, "\r\n\r\n");
  EXPECT_NE(cont.find("HTTP/1.1 100 Continue"), std::string::npos) << cont;
  c.send("body");
  std::string out = cont + c.read(5000, "done");
  EXPECT_EQ(count_of(out, " 100 Continue"), 1u) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
}

TEST(Rfc9111, APostResponseWithContentLocationOfItsTargetAnswersALaterGet) {
  // RFC 9110 §9.3.3: explicit freshness and Content-Location equal to the target URI.
  TestOrigin origin([](const OriginRequest& r) {
    if (r.method == "POST") {
      return respond("posted " + r.body, {{"Cache-Control", "max-age=600"},
                                          {"Content-Location", r.target == "/same" ? "/same" : "/x"}});
    }
    return respond("from get", {{"Cache-Control", "max-age=600"}});
  });
  ProxyProcess proxy({});
  for (std::string path : {"/same", "/other"}) {
    ClientRequest post;
    post.method = "POST";
    post.url = origin.url(path);
    post.proxy = proxy.proxy_url();
    post.body = "data";
    EXPECT_EQ(curl_fetch(post).body, "posted data");
    auto get = proxy_get(proxy.proxy_url(), origin.url(path));
    EXPECT_EQ(get.body, path == "/same" ? "posted data" : "from get") << path;
    EXPECT_EQ(origin.requests_for(path), path == "/same" ? 1 : 2) << path;
  }
}
