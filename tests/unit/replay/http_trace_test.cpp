// HAR and access-log readers on hand-written samples, the JSON reader under them, format sniffing,
// and the embedded-origin rewrite. Malformed input is counted with its line/entry number.
#include "replay/http_trace.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace cachefwd::replay {
namespace {

// A HAR 1.2 document as Chrome writes one (fields beyond what the reader needs included).
const char* kHar = R"({
  "log": {
    "version": "1.2",
    "creator": {"name": "WebInspector", "version": "537.36"},
    "pages": [],
    "entries": [
      {
        "startedDateTime": "2026-11-22T04:13:04.123Z",
        "time": 12.5,
        "request": {"method": "GET", "url": "http://example.com/app.js?v=2", "httpVersion": "HTTP/1.1",
          "headers": [{"name": ":authority", "value": "example.com"},
                      {"name": "Accept", "value": "*/*"},
                      {"name": "Cache-Control", "value": "no-cache"}],
          "queryString": [{"name": "v", "value": "2"}], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
          "headers": [{"name": "Cache-Control", "value": "public, max-age=600"},
                      {"name": "Content-Type", "value": "text/javascript"}],
          "cookies": [], "content": {"size": 5120, "mimeType": "text/javascript", "compression": 3000},
          "redirectURL": "", "headersSize": -1, "bodySize": 2120},
        "cache": {}, "timings": {"send": 0.1, "wait": 10, "receive": 2.4}
      },
      {
        "startedDateTime": "2026-11-22T05:13:05+01:00",
        "request": {"method": "HEAD", "url": "https://example.com/logo.png", "headers": []},
        "response": {"status": 304, "headers": [], "content": {"size": 0}, "bodySize": -1}
      },
      {
        "startedDateTime": "2026-11-22T04:13:06Z",
        "request": {"method": "GET", "url": "data:image/png;base64,AAAA", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"size": 4}}
      },
      {
        "startedDateTime": "2026-11-22T04:13:07Z",
        "request": {"method": "GET", "url": "http://example.com/blocked", "headers": []},
        "response": {"status": 0, "headers": [], "content": {"size": 0}}
      },
      {
        "startedDateTime": "not a date",
        "request": {"method": "GET", "url": "http://example.com/x", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"size": 1}}
      },
      {
        "startedDateTime": "2026-11-22T04:13:08Z",
        "request": {"url": "http://example.com/no-method"},
        "response": {"status": 200}
      },
      {
        "startedDateTime": "2026-11-22T04:13:09.5Z",
        "request": {"method": "GET", "url": "http://example.com/caf\u00e9", "headers": []},
        "response": {"status": 404, "headers": [{"name": "Expires", "value": "Sun, 22 Nov 2026 04:14:09 GMT"},
                                                 {"name": "Date", "value": "Sun, 22 Nov 2026 04:13:09 GMT"}],
                     "content": {"size": -1}, "bodySize": 77}
      }
    ]
  }
})";

std::vector<HttpRequest> read_all(HttpReader& r) {
  std::vector<HttpRequest> out;
  HttpRequest q;
  while (r.next(q)) out.push_back(q);
  return out;
}

std::vector<HttpRequest> read_har_text(const std::string& text, std::string* document_error) {
  std::istringstream in(text);
  auto r = make_http_reader(HttpFormat::kHar, in);
  std::vector<HttpRequest> out;
  HttpRequest q;
  while (r->next(q)) out.push_back(q);
  *document_error = r->document_error();
  return out;
}

TEST(HarReader, ReportsTheLineOfASyntaxError) {
  std::string err;
  EXPECT_TRUE(read_har_text("{\n\"log\": {\"entries\": [\n{\"b\": tru\n}]}}", &err).empty());
  EXPECT_EQ(err.rfind("invalid JSON at line 3: ", 0), 0u) << err;
  for (const char* broken : {"[1, 2", "{} x", "\"unterminated", "", "{\"log\": {\"entries\": [}}"}) {
    EXPECT_TRUE(read_har_text(broken, &err).empty()) << broken;
    EXPECT_EQ(err.rfind("invalid JSON at line 1: ", 0), 0u) << broken << ": " << err;
  }
  // Valid JSON that is not a HAR.
  EXPECT_TRUE(read_har_text("{\"log\": 1}", &err).empty());
  EXPECT_EQ(err, "not a HAR file: no log.entries array");
  // Deep nesting is refused, not a stack overflow.
  EXPECT_TRUE(read_har_text(std::string(100000, '['), &err).empty());
  EXPECT_FALSE(err.empty());
}

TEST(Iso8601, UtcOffsetsAndFractions) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_iso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_iso8601("1969-12-31T19:00:00.250-0500"), 250);
  EXPECT_EQ(parse_iso8601("2026-11-22T04:13:04.123Z"), 1795320784123);
  EXPECT_FALSE(parse_iso8601("2026-11-22T04:13:04"));  // no zone: ambiguous
  EXPECT_FALSE(parse_iso8601("2026-13-22T04:13:04Z"));
  EXPECT_FALSE(parse_iso8601("2026-11-22T04:13:04Zjunk"));
  EXPECT_FALSE(parse_iso8601(""));
}

TEST(HarReader, ReadsRequestsAndRecordedResponses) {
  std::istringstream in(kHar);
  auto reader = make_http_reader(HttpFormat::kHar, in);
  const auto reqs = read_all(*reader);
  ASSERT_EQ(reqs.size(), 3u);
  const auto& a = reqs[0];
  EXPECT_EQ(a.method, "GET");
  EXPECT_EQ(a.url, "http://example.com/app.js?v=2");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.time, 1795320784123);
  EXPECT_EQ(a.size, 5120u);  // content.size (decoded), not bodySize (compressed on the wire)
  EXPECT_TRUE(a.has_response_headers);
  ASSERT_NE(a.response_headers.find("cache-control"), nullptr);
  EXPECT_EQ(*a.response_headers.find("cache-control"), "public, max-age=600");
  EXPECT_EQ(*a.request_headers.find("Cache-Control"), "no-cache");
  EXPECT_FALSE(a.request_headers.has(":authority"));  // an HTTP/2 pseudo-header is not a field
  EXPECT_EQ(a.line, 1u);
  EXPECT_EQ(reqs[1].method, "HEAD");
  EXPECT_EQ(reqs[1].status, 304);
  EXPECT_EQ(reqs[1].time, 1795320785000);  // +01:00 offset
  EXPECT_EQ(reqs[1].size, 0u);
  EXPECT_EQ(reqs[2].url, "http://example.com/caf\xC3\xA9");
  EXPECT_EQ(reqs[2].size, 77u);  // content.size -1: bodySize
  EXPECT_EQ(reqs[2].line, 7u);
  // data: URL and status 0 are filtered; the bad date and the missing method are malformed.
  EXPECT_EQ(reader->filtered(), 2u);
  EXPECT_EQ(reader->errors().bad, 2u);
  EXPECT_EQ(reader->errors().first_bad, (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(reader->position(), 7u);
}

TEST(HarReader, InvalidDocumentIsOneCountedErrorNotACrash) {
  for (const char* text : {"", "{", "{\"log\": {\"entries\": 3}}", "[1,2]",
                           "{\"log\":\n{\"entries\": [\n{,]}}", "\xEF\xBB\xBF{\"log\": {\"entries\": [}}"}) {
    std::istringstream in(text);
    auto reader = make_http_reader(HttpFormat::kHar, in);
    HttpRequest r;
    EXPECT_FALSE(reader->next(r)) << text;
    EXPECT_EQ(reader->errors().bad, 1u) << text;
    EXPECT_FALSE(reader->document_error().empty()) << text;
  }
  std::istringstream in("{\"log\":\n{\"entries\": [\n{,]}}");
  auto reader = make_http_reader(HttpFormat::kHar, in);
  ASSERT_EQ(reader->errors().first_bad.size(), 1u);
  EXPECT_EQ(reader->errors().first_bad[0], 3u);  // the line of the syntax error
}

TEST(HarReader, ByteOrderMarkAndEmptyEntries) {
  std::istringstream in("\xEF\xBB\xBF{\"log\": {\"version\": \"1.2\", \"entries\": []}}");
  auto reader = make_http_reader(HttpFormat::kHar, in);
  HttpRequest r;
  EXPECT_FALSE(reader->next(r));
  EXPECT_EQ(reader->errors().bad, 0u);
}

// One line of each access-log dialect parse_access_log_line reads, plus junk.
const char* kLog =
    "127.0.0.1 - - [22/Nov/2026:04:13:04 +0000] \"GET http://example.com/a?b=1 HTTP/1.1\" 200 1234 \"-\" "
    "\"curl/8.5.0\" cache=hit upstream_ms=-\n"
    "{\"client_addr\":\"127.0.0.1\",\"time\":\"2026-11-22T04:13:05.250Z\",\"method\":\"GET\",\"target\":\"/"
    "j\","
    "\"http_version\":\"1.1\",\"status\":404,\"response_bytes\":10,\"referer\":\"\",\"user_agent\":\"\","
    "\"cache_status\":\"fwd=uri-miss\",\"upstream_ms\":3,\"total_ms\":4}\n"
    "\n"
    "10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n"
    "this is not a log line\n"
    "192.168.1.2 - - [22/Nov/2026:04:13:06 +0000] \"POST /form HTTP/1.1\" 302 - \"http://r/\" "
    "\"Mozilla/5.0\"\r\n"
    "127.0.0.1 - - [22/Nov/2026:04:13:07 +0000] \"CONNECT example.com:443 HTTP/1.1\" 200 0 \"-\" \"-\"\n"
    "127.0.0.1 - - [99/Nov/2026:04:13:07 +0000] \"GET / HTTP/1.1\" 200 0\n";

TEST(LogReader, EveryDialectStreamedWithBadLinesCounted) {
  std::istringstream in(kLog);
  auto reader = make_http_reader(HttpFormat::kLog, in);
  const auto reqs = read_all(*reader);
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].url, "http://example.com/a?b=1");
  EXPECT_EQ(reqs[0].size, 1234u);
  EXPECT_EQ(reqs[0].recorded_cache_status, "hit");
  EXPECT_EQ(reqs[0].time, 1795320784000);
  EXPECT_FALSE(reqs[0].has_response_headers);
  EXPECT_EQ(reqs[1].url, "/j");
  EXPECT_EQ(reqs[1].status, 404);
  EXPECT_EQ(reqs[1].time, 1795320785250);
  EXPECT_EQ(reqs[1].line, 2u);
  EXPECT_EQ(reqs[2].url, "/apache_pb.gif");
  EXPECT_EQ(reqs[2].time, 971211336000);  // 13:55:36 -0700 = 20:55:36 UTC
  EXPECT_EQ(reqs[3].method, "POST");
  EXPECT_EQ(reqs[3].size, 0u);        // "-"
  EXPECT_EQ(reader->filtered(), 1u);  // CONNECT
  EXPECT_EQ(reader->errors().bad, 2u);
  EXPECT_EQ(reader->errors().first_bad, (std::vector<std::uint64_t>{5, 8}));
}

TEST(LogReader, BinaryGarbageIsCountedNotFatal) {
  std::string junk;
  for (int i = 0; i < 2000; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xff));
  std::istringstream in(junk);
  auto reader = make_http_reader(HttpFormat::kLog, in);
  HttpRequest r;
  while (reader->next(r)) {
  }
  EXPECT_GT(reader->errors().bad, 0u);
  EXPECT_LE(reader->errors().first_bad.size(), ReadErrors::kKeptLines);
}

TEST(Sniff, TellsHarFromEachLogDialect) {
  EXPECT_EQ(sniff_http_format(kHar), HttpFormat::kHar);
  EXPECT_EQ(sniff_http_format("\xEF\xBB\xBF  {\"log\":{\"entries\":[]}}"), HttpFormat::kHar);
  EXPECT_EQ(sniff_http_format(kLog), HttpFormat::kLog);
  EXPECT_EQ(sniff_http_format(std::string_view(kLog).substr(std::string_view(kLog).find('{'))),
            HttpFormat::kLog);
  EXPECT_EQ(sniff_http_format("10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n"),
            HttpFormat::kLog);
  EXPECT_FALSE(sniff_http_format("timestamp,key,size\n1,2,3\n"));
  EXPECT_FALSE(sniff_http_format("{\"a\": 1}\n"));
  EXPECT_FALSE(sniff_http_format(""));
  EXPECT_EQ(parse_http_format("combined"), HttpFormat::kLog);
  EXPECT_EQ(parse_http_format("har"), HttpFormat::kHar);
  EXPECT_FALSE(parse_http_format("apache"));  // the sizes-only trace reader keeps that name
}

TEST(EmbeddedOriginTarget, EncodesTheRecordedResponse) {
  HttpRequest r;
  r.method = "GET";
  r.url = "http://example.com:8080/a b/c.js?x=1&y=2#frag";
  r.status = 200;
  r.size = 4096;
  r.has_response_headers = true;
  r.response_headers.add("Cache-Control", "public, max-age=60");
  r.response_headers.add("Date", "Sun, 22 Nov 2026 04:13:09 GMT");
  r.response_headers.add("Expires", "Sun, 22 Nov 2026 04:14:09 GMT");
  const auto t = embedded_origin_target(r);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rfind("/r/example.com_8080/a%20b/c.js?q=", 0), 0u) << *t;
  EXPECT_NE(t->find("&size=4096&status=200"), std::string::npos) << *t;
  EXPECT_NE(t->find("&cc=public%2C%20max-age%3D60"), std::string::npos) << *t;
  EXPECT_NE(t->find("&expires=60"), std::string::npos) << *t;
  EXPECT_EQ(t->find('#'), std::string::npos);
  // Another query gives another target (another cache key); the same URL the same target.
  HttpRequest r2 = r;
  r2.url = "http://example.com:8080/a b/c.js?x=1&y=3";
  EXPECT_NE(embedded_origin_target(r2), t);
  EXPECT_EQ(embedded_origin_target(r), t);
  // A recorded 304 is replayed as the object itself; unreplayable statuses are refused.
  r.status = 304;
  EXPECT_NE(embedded_origin_target(r)->find("&status=200"), std::string::npos);
  r.status = 101;
  EXPECT_FALSE(embedded_origin_target(r));
  // An invalid Expires means already expired (RFC 9111 §5.3).
  r.status = 200;
  r.response_headers.set("Expires", "0");
  EXPECT_NE(embedded_origin_target(r)->find("&expires=-1"), std::string::npos);
  // Origin-form log targets keep their path.
  HttpRequest l;
  l.method = "GET";
  l.url = "/img/x.png?s=1";
  l.status = 200;
  l.size = 10;
  EXPECT_EQ(embedded_origin_target(l)->rfind("/r/_/img/x.png?q=", 0), 0u) << *embedded_origin_target(l);
}

}  // namespace
}  // namespace cachefwd::replay
