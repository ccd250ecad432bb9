// Access log lines: the combined log format (Apache mod_log_config `%h %l %u %t "%r" %>s %b
// "%{Referer}i" "%{User-agent}i"`) extended with cache= and upstream_ms=, the json format, and the
// parser that reads both plus plain nginx/Apache logs. Epoch values were computed with GNU date(1),
// e.g. `date -u -d "2000-10-10 20:55:36" +%s` = 971211336.
#include "metrics/access_log_reader.h"

#include <gtest/gtest.h>

namespace cachefwd::metrics {
namespace {

constexpr UnixMillis kRfcExample = 784111777LL * 1000;  // Sun, 06 Nov 1994 08:49:37 GMT

AccessRecord sample_record() {
  AccessRecord r;
  r.client_addr = "192.0.2.7";
  r.time = kRfcExample;
  r.method = "GET";
  r.target = "/v1/users?id=42&utm_source=x";
  r.http_version = "1.1";
  r.status = 200;
  r.response_bytes = 5120;
  r.referer = "https://example.com/start";
  r.user_agent = "curl/8.5.0";
  r.cache_status = "hit";
  r.upstream_ms = -1;
  return r;
}

TEST(AccessLogFormat, Names) {
  EXPECT_EQ(parse_access_log_format("combined"), AccessLogFormat::combined);
  EXPECT_EQ(parse_access_log_format("json"), AccessLogFormat::json);
  EXPECT_FALSE(parse_access_log_format("common").has_value());
}

TEST(AccessLogTime, ClfAndIsoFromUnixMillisInUtc) {
  EXPECT_EQ(format_clf_time(kRfcExample), "06/Nov/1994:08:49:37 +0000");
  EXPECT_EQ(format_clf_time(kRfcExample + 999), "06/Nov/1994:08:49:37 +0000");  // truncated
  EXPECT_EQ(format_clf_time(0), "01/Jan/1970:00:00:00 +0000");
  EXPECT_EQ(format_clf_time(-1), "31/Dec/1969:23:59:59 +0000");  // floor, not towards zero
  EXPECT_EQ(format_clf_time(1709251199LL * 1000), "29/Feb/2024:23:59:59 +0000");
  EXPECT_EQ(format_iso8601_utc(kRfcExample + 7), "1994-11-06T08:49:37.007Z");
  EXPECT_EQ(format_iso8601_utc(1709251199LL * 1000 + 999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
}

TEST(AccessLogCombined, ExactLine) {
  AccessRecord r = sample_record();
  EXPECT_EQ(
      format_access_log_line(r, AccessLogFormat::combined),
      "192.0.2.7 - - [06/Nov/1994:08:49:37 +0000] \"GET /v1/users?id=42&utm_source=x HTTP/1.1\" 200 5120 "
      "\"https://example.com/start\" \"curl/8.5.0\" cache=hit upstream_ms=-");
  r.cache_status = "fwd=uri-miss;stored";
  r.upstream_ms = 37;
  r.referer.clear();
  r.user_agent.clear();
  EXPECT_EQ(
      format_access_log_line(r, AccessLogFormat::combined),
      "192.0.2.7 - - [06/Nov/1994:08:49:37 +0000] \"GET /v1/users?id=42&utm_source=x HTTP/1.1\" 200 5120 "
      "\"-\" \"-\" cache=miss+stored upstream_ms=37");
}

TEST(AccessLogCombined, CacheIsOneReadableToken) {
  EXPECT_EQ(cache_status_token("hit; ttl=42"), "hit");
  EXPECT_EQ(cache_status_token("cachefwd; hit; ttl=-3"), "hit-stale");
  EXPECT_EQ(cache_status_token("fwd=uri-miss; stored"), "miss+stored");
  EXPECT_EQ(cache_status_token("fwd=uri-miss; stored; collapsed"), "miss+stored+collapsed");
  EXPECT_EQ(cache_status_token("fwd=bypass; detail=no-store"), "bypass:no-store");
  EXPECT_EQ(cache_status_token("fwd=uri-miss; detail=\"too-large\""), "miss:too-large");
  EXPECT_EQ(cache_status_token("fwd=stale; fwd-status=304; stored"), "stale+stored");
  EXPECT_EQ(cache_status_token(""), "");
  // Not a Cache-Status value: kept (and escaped by the line writer).
  EXPECT_EQ(cache_status_token("weird value"), "weird value");
}

TEST(AccessLogCombined, EscapesLikeNginx) {
  AccessRecord r = sample_record();
  r.target = "/q?\"x\"";
  r.user_agent = "Mozilla\\5.0 \"quoted\"\n\x01\xC3\xA9";
  r.cache_status = "cachefwd; hit";
  std::string line = format_access_log_line(r, AccessLogFormat::combined);
  EXPECT_NE(line.find("\"GET /q?\\x22x\\x22 HTTP/1.1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"Mozilla\\x5C5.0 \\x22quoted\\x22\\x0A\\x01\\xC3\\xA9\""), std::string::npos) << line;
  EXPECT_NE(line.find(" cache=hit "), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = parse_access_log_line(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->target, r.target);
  EXPECT_EQ(back->user_agent, r.user_agent);
  EXPECT_EQ(back->cache_status, "hit");  // the token
}

TEST(AccessLogCombined, RoundTripOfEverythingCombinedCarries) {
  AccessRecord r = sample_record();
  r.cache_status = "fwd=stale;fwd-status=304;stored";
  r.upstream_ms = 0;
  r.method = "POST";
  r.http_version = "1.0";
  r.client_addr = "2001:db8::1";
  auto back = parse_access_log_line(format_access_log_line(r, AccessLogFormat::combined));
  ASSERT_TRUE(back);
  // total_ms -1 and key absent: combined does not carry them; cache= is the readable token.
  r.cache_status = "stale+stored";
  EXPECT_EQ(*back, r);

  AccessRecord empty_fields = sample_record();
  empty_fields.referer.clear();
  empty_fields.user_agent.clear();
  empty_fields.cache_status.clear();
  empty_fields.response_bytes = 0;
  back = parse_access_log_line(format_access_log_line(empty_fields, AccessLogFormat::combined) + "\r\n");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, empty_fields);
}

TEST(AccessLogJson, KeysShowNoInternalSeparators) {
  AccessRecord r = sample_record();
  r.key = std::string("GET http://h:80/a") + '\x1f' + "accept=text/html";
  const std::string line = format_access_log_line(r, AccessLogFormat::json);
  EXPECT_NE(line.find(R"("key":"GET http://h:80/a accept=text/html")"), std::string::npos) << line;
  EXPECT_EQ(line.find("\\u001f"), std::string::npos) << line;
}

TEST(AccessLogJson, ExactLine) {
  AccessRecord r = sample_record();
  r.time += 123;
  r.upstream_ms = 12;
  r.total_ms = 15;
  r.key = "GET http://api.example.com:80/v1/users";
  EXPECT_EQ(
      format_access_log_line(r, AccessLogFormat::json),
      R"({"client_addr":"192.0.2.7","time":"1994-11-06T08:49:37.123Z","method":"GET",)"
      R"("target":"/v1/users?id=42&utm_source=x","http_version":"1.1","status":200,"response_bytes":5120,)"
      R"("referer":"https://example.com/start","user_agent":"curl/8.5.0","cache_status":"hit",)"
      R"("upstream_ms":12,"total_ms":15,"key":"GET http://api.example.com:80/v1/users"})");
  r.upstream_ms = -1;
  r.total_ms = -1;
  r.key.reset();
  std::string line = format_access_log_line(r, AccessLogFormat::json);
  EXPECT_NE(line.find(R"("upstream_ms":null,"total_ms":null})"), std::string::npos) << line;
  EXPECT_EQ(line.find("\"key\""), std::string::npos);
}

TEST(AccessLogJson, RoundTripOfEveryField) {
  AccessRecord r = sample_record();
  r.time += 456;
  r.user_agent = "Agent \"x\" \\ \t caf\xC3\xA9 \xF0\x9F\x98\x80";
  r.target = "/a\x01z";
  r.cache_status = "cachefwd; fwd=uri-miss; detail=\"too-large\"";
  r.upstream_ms = 250;
  r.total_ms = 251;
  r.key = "POST http://h:80/search#sha256=abc";
  auto back = parse_access_log_line(format_access_log_line(r, AccessLogFormat::json));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
}

TEST(AccessLogJson, ReadsOtherKeyOrdersUnknownMembersAndEscapes) {
  auto r = parse_access_log_line(
      R"(  {"status":404,"extra":{"nested":[1,{"a":null}],"s":"}"},"time":784111777000,)"
      R"("target":"\/caf\u00e9\ud83d\ude00","method":"GET","upstream_ms":null,"response_bytes":1e3} )");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->time, kRfcExample);
  EXPECT_EQ(r->target, "/caf\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->upstream_ms, -1);
  EXPECT_EQ(r->response_bytes, 1000u);
  EXPECT_EQ(r->http_version, "1.1");  // absent: the default
  auto offset = parse_access_log_line(R"({"time":"1994-11-06T09:49:37.5+01:00","status":200})");
  ASSERT_TRUE(offset);
  EXPECT_EQ(offset->time, kRfcExample + 500);
}

TEST(AccessLogJson, RejectsBrokenObjects) {
  for (const char* line : {
           R"({"status":200})",                                                  // no time
           R"({"time":"1994-11-06T08:49:37Z"})",                                 // no status
           R"({"time":"1994-11-06T08:49:37Z","status":"200"})",                  // status not a number
           R"({"time":"1994-02-30T08:49:37Z","status":200})",                    // no such day
           R"({"time":"1994-11-06T08:49:37","status":200})",                     // no zone
           R"({"time":"1994-11-06T08:49:37Z","status":200} x)",                  // trailing garbage
           R"({"time":"1994-11-06T08:49:37Z","status":200)",                     // unterminated
           R"({"time":"1994-11-06T08:49:37Z","status":200,"target":"a
b"})",                                                                           // raw control character
           R"({"time":"1994-11-06T08:49:37Z","status":200,"target":"\ud800"})",  // lone surrogate
           R"({"time":"1994-11-06T08:49:37Z","status":200,"upstream_ms":-5})",
       })
    EXPECT_FALSE(parse_access_log_line(line).has_value()) << line;
}

// Samples shaped like real logs. The first two are the examples of Apache's log-file docs.
TEST(AccessLogParse, ApacheCommonAndCombinedExamples) {
  auto common = parse_access_log_line(
      R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)");
  ASSERT_TRUE(common);
  EXPECT_EQ(common->client_addr, "127.0.0.1");
  EXPECT_EQ(common->time, 971211336LL * 1000);  // -0700: 20:55:36 UTC
  EXPECT_EQ(common->method, "GET");
  EXPECT_EQ(common->target, "/apache_pb.gif");
  EXPECT_EQ(common->http_version, "1.0");
  EXPECT_EQ(common->status, 200);
  EXPECT_EQ(common->response_bytes, 2326u);
  EXPECT_EQ(common->referer, "");
  EXPECT_EQ(common->cache_status, "");
  EXPECT_EQ(common->upstream_ms, -1);
  EXPECT_EQ(common->total_ms, -1);

  auto combined = parse_access_log_line(
      R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 )"
      R"L("http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")L");
  ASSERT_TRUE(combined);
  EXPECT_EQ(combined->referer, "http://www.example.com/start.html");
  EXPECT_EQ(combined->user_agent, "Mozilla/4.08 [en] (Win98; I ;Nav)");
  EXPECT_EQ(combined->time, 971211336LL * 1000);
}

TEST(AccessLogParse, NginxCombinedWithExtraFieldsAndEscapes) {
  auto r = parse_access_log_line(
      R"(203.0.113.9 - - [22/Nov/2025:04:13:04 +0000] "POST /api/v1/items?x=1 HTTP/1.1" 201 0 "-" )"
      R"("python-requests/2.31.0" "10.0.0.1, 10.0.0.2" rt=0.005 uct="0.000" uht="0.004")");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->time, 1763784784LL * 1000);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/api/v1/items?x=1");
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->response_bytes, 0u);
  EXPECT_EQ(r->referer, "");
  EXPECT_EQ(r->user_agent, "python-requests/2.31.0");
  EXPECT_EQ(r->cache_status, "");

  auto esc = parse_access_log_line(
      R"(::1 - - [22/Nov/2025:04:13:04 +0000] "GET /search?q=\x22hi\x22 HTTP/1.1" 404 153 "-" "Agent\x5C1 \xC3\xA9")");
  ASSERT_TRUE(esc);
  EXPECT_EQ(esc->client_addr, "::1");
  EXPECT_EQ(esc->target, "/search?q=\"hi\"");
  EXPECT_EQ(esc->user_agent, "Agent\\1 \xC3\xA9");
}

TEST(AccessLogParse, ApacheBackslashEscapesAndDashBytes) {
  auto r = parse_access_log_line(
      R"(10.1.2.3 - - [01/Jan/2024:00:00:00 +0000] "GET /a\"b HTTP/1.1" 304 - "-" "say \"hi\"\\")");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, "/a\"b");
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->response_bytes, 0u);  // Apache %b writes "-" for no body
  EXPECT_EQ(r->user_agent, "say \"hi\"\\");
}

TEST(AccessLogParse, GarbageRequestLinesStillYieldTheStatus) {
  // What nginx logs when a TLS client talks to a plain HTTP port.
  auto tls = parse_access_log_line(
      R"(198.51.100.4 - - [22/Nov/2025:04:13:04 +0000] "\x16\x03\x01\x00\xF1\x01" 400 157 "-" "-")");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->status, 400);
  EXPECT_EQ(tls->method, std::string("\x16\x03\x01\x00\xF1\x01", 6));  // embedded NUL kept
  EXPECT_EQ(tls->target, "");
  auto dash = parse_access_log_line(R"(198.51.100.4 - - [22/Nov/2025:04:13:04 +0000] "-" 408 0 "-" "-")");
  ASSERT_TRUE(dash);
  EXPECT_EQ(dash->method, "");
  EXPECT_EQ(dash->status, 408);
  auto http09 = parse_access_log_line(R"(198.51.100.4 - - [22/Nov/2025:04:13:04 +0000] "GET /" 200 10)");
  ASSERT_TRUE(http09);
  EXPECT_EQ(http09->target, "/");
  EXPECT_EQ(http09->http_version, "");
}

TEST(AccessLogParse, CachefwdFieldsAmongOtherTrailingFields) {
  auto r = parse_access_log_line(
      R"(127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.1" 200 1 "-" "-" x=1 cache=hit "q r" upstream_ms=15)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cache_status, "hit");
  EXPECT_EQ(r->upstream_ms, 15);
  EXPECT_EQ(r->time, kRfcExample);
}

TEST(AccessLogParse, RejectsLinesThatAreNotAccessLogs) {
  for (const char* line : {
           "",
           "   ",
           "hello world",
           R"(127.0.0.1 - - 10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 1)",    // no brackets
           R"(127.0.0.1 - - [10/Foo/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1)",  // month
           R"(127.0.0.1 - - [30/Feb/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1)",  // no such day
           R"(127.0.0.1 - - [10/Oct/2000:25:55:36 -0700] "GET / HTTP/1.0" 200 1)",  // hour
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36] "GET / HTTP/1.0" 200 1)",        // no zone
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.0 200 1)",    // request unquoted
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0 200 1)",   // unterminated
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 1)",   // status
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200)",    // no bytes
           R"(127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 12k)",
           R"(127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "GET / HTTP/1.1" 200 1 "-" "-" upstream_ms=abc)",
       })
    EXPECT_FALSE(parse_access_log_line(line).has_value()) << line;
}

}  // namespace
}  // namespace cachefwd::metrics
