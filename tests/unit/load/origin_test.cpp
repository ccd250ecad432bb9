#include "load/origin.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "unit/load/raw_http.h"

namespace cachefwd::load {
namespace {

using testing::RawClient;

class OriginTest : public ::testing::Test {
 protected:
  void SetUp() override { port_ = origin_.start(HostPort{"127.0.0.1", 0}); }
  OriginThread origin_;
  std::uint16_t port_ = 0;
};

TEST(OriginSpecParse, ReadsEveryParameter) {
  std::string err;
  const auto s = parse_origin_target(
      "/obj/9?size=4KiB&status=203&max-age=60&s-maxage=30&no-cache=1&private=1&swr=5&sie=7"
      "&cc=must-revalidate%2C%20x&expires=-10&etag=1&last-modified=1&ver=3&vary=Accept&delay_ms=2"
      "&close=1&unknown=zz",
      OriginOptions{}, &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->path, "/obj/9");
  EXPECT_EQ(s->size, 4096u);
  EXPECT_EQ(s->status, 203);
  EXPECT_EQ(s->cache_control(),
            "private, no-cache, max-age=60, s-maxage=30, stale-while-revalidate=5, stale-if-error=7, "
            "must-revalidate, x");
  EXPECT_EQ(s->expires, -10);
  EXPECT_TRUE(s->etag);
  EXPECT_EQ(s->last_modified, 1767225600);
  EXPECT_EQ(s->ver, 3u);
  EXPECT_EQ(s->vary, "Accept");
  EXPECT_EQ(s->delay_ms, 2);
  EXPECT_TRUE(s->close);
}

TEST(OriginSpecParse, RejectsMalformedValues) {
  std::string err;
  EXPECT_FALSE(parse_origin_target("/x?size=lots", OriginOptions{}, &err));
  EXPECT_NE(err.find("size"), std::string::npos);
  EXPECT_FALSE(parse_origin_target("/x?status=99", OriginOptions{}, &err));
  EXPECT_FALSE(parse_origin_target("/x?status=600", OriginOptions{}, &err));
  EXPECT_FALSE(parse_origin_target("/x?cc=a%0d%0aSet-Cookie:1", OriginOptions{}, &err));
  OriginOptions small;
  small.max_size = 100;
  EXPECT_FALSE(parse_origin_target("/x?size=101", small, &err));
  const auto d = parse_origin_target("http://h:1/x", OriginOptions{}, &err);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->path, "/x");
  EXPECT_EQ(d->size, 1024u);  // default
  EXPECT_EQ(d->cache_control(), "");
}

TEST_F(OriginTest, ServesSizeStatusAndCacheControlFromTheTarget) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  auto r = c.get("/obj/1?size=3000&max-age=60");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "3000");
  EXPECT_EQ(r->body.size(), 3000u);
  EXPECT_EQ(r->header("cache-control"), "max-age=60");
  EXPECT_EQ(r->header("x-origin-requests"), "1");
  // Date is an IMF-fixdate close to now (RFC 9110 §6.6.1).
  std::tm tm{};
  ASSERT_NE(strptime(r->header("date").c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm), nullptr)
      << r->header("date");
  EXPECT_LE(std::abs(timegm(&tm) - std::time(nullptr)), 2);

  r = c.get("/obj/2?status=503&no-store=1&size=10");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("cache-control"), "no-store");
  EXPECT_EQ(r->body.size(), 10u);
  EXPECT_EQ(r->header("x-origin-requests"), "2");

  r = c.get("/obj/3?size=0");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-length"), "0");
  EXPECT_TRUE(r->body.empty());
  EXPECT_FALSE(r->headers.count("cache-control"));

  r = c.get("/obj/4?size=bad");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(OriginTest, LargeBodyIsCompleteAndVersioned) {
  RawClient c(port_);
  auto a = c.get("/big?size=1MiB&ver=0");
  auto b = c.get("/big?size=1MiB&ver=1");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body.size(), 1u << 20);
  EXPECT_EQ(b->body.size(), 1u << 20);
  EXPECT_NE(a->body[0], b->body[0]);
  EXPECT_EQ(a->body.substr(1), b->body.substr(1));
}

TEST_F(OriginTest, HeadHasLengthButNoBody) {
  RawClient c(port_);
  ASSERT_TRUE(c.send("HEAD /obj/1?size=500 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-length"), "500");
  // The next response on the connection must start right away: no stray body bytes.
  r = c.get("/obj/2?size=7");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 7u);
}

TEST_F(OriginTest, ConditionalRequestsAnswer304) {
  RawClient c(port_);
  auto r = c.get("/obj/5?etag=1&size=100");
  ASSERT_TRUE(r);
  const std::string etag = r->header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  r = c.get("/obj/5?etag=1&size=100", "If-None-Match: \"other\", " + etag + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->header("etag"), etag);
  // Weak comparison for If-None-Match (RFC 9110 §13.1.2).
  r = c.get("/obj/5?etag=1&size=100", "If-None-Match: W/" + etag + "\r\n");
  EXPECT_EQ(r->status, 304);
  r = c.get("/obj/5?etag=1&size=100&ver=2", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 100u);

  r = c.get("/obj/6?last-modified=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("last-modified"), "Thu, 01 Jan 2026 00:00:00 GMT");
  r = c.get("/obj/6?last-modified=1", "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n");
  EXPECT_EQ(r->status, 304);
  r = c.get("/obj/6?last-modified=1", "If-Modified-Since: Wed, 31 Dec 2025 23:59:59 GMT\r\n");
  EXPECT_EQ(r->status, 200);
}

TEST_F(OriginTest, PipelinedRequestsAnswerInOrderEvenWhenTheFirstIsDelayed) {
  RawClient c(port_);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      c.send("GET /a?delay_ms=150&size=11 HTTP/1.1\r\nHost: t\r\n\r\n"
             "GET /b?size=22 HTTP/1.1\r\nHost: t\r\n\r\n"
             "GET /c?size=33 HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (std::size_t want : {11u, 22u, 33u}) {
    auto r = c.read_response(false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body.size(), want);
  }
  // libuv timers count from the loop's millisecond clock, which may trail real time by < 1 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(149));
}

TEST_F(OriginTest, CloseParameterAndHttp10) {
  RawClient c(port_);
  auto r = c.get("/x?close=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());

  RawClient d(port_);
  ASSERT_TRUE(d.send("GET /y?size=3 HTTP/1.0\r\n\r\n"));
  r = d.read_response(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), 3u);
  EXPECT_TRUE(d.closed_by_peer());  // HTTP/1.0 without keep-alive
}

TEST_F(OriginTest, StatsCountRequestsAndReset) {
  {
    RawClient c(port_);
    c.get("/1?size=10");
    c.get("/2?status=404&size=5");
    c.get("/3?status=500&size=0");
    c.send("HEAD /4 HTTP/1.1\r\nHost: t\r\n\r\n");
    c.read_response(true);
  }
  RawClient c(port_);
  auto r = c.get("/__origin/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("content-type"), "application/json");
  const std::string& j = r->body;
  EXPECT_NE(j.find("\"requests\":4"), std::string::npos) << j;
  EXPECT_NE(j.find("\"status_2xx\":2"), std::string::npos) << j;
  EXPECT_NE(j.find("\"status_4xx\":1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"status_5xx\":1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"head\":1"), std::string::npos) << j;
  EXPECT_NE(j.find("\"body_bytes\":15"), std::string::npos) << j;
  EXPECT_EQ(origin_.stats().requests.load(), 4u);
  c.get("/__origin/reset");
  EXPECT_EQ(origin_.stats().requests.load(), 0u);
  r = c.get("/after");
  EXPECT_EQ(r->header("x-origin-requests"), "1");
}

TEST_F(OriginTest, MalformedRequestGets400AndClose) {
  RawClient c(port_);
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  auto r = c.read_response(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.closed_by_peer());
}

}  // namespace
}  // namespace cachefwd::load
