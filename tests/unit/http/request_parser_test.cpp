#include "http/request_parser.h"

#include <gtest/gtest.h>

#include "http/hop_by_hop.h"
#include "http/request.h"

using namespace cachefwd::http;

namespace {
// Feeds `bytes` whole; returns the parser's state and how much it consumed.
std::size_t feed_all(RequestParser& p, const std::string& bytes) { return p.feed(bytes.data(), bytes.size()); }
}  // namespace

TEST(RequestParser, ParsesAnAbsoluteFormGet) {
  RequestParser p;
  std::string req = "GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n\r\n";
  EXPECT_EQ(feed_all(p, req), req.size());
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  Request r = p.take();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "http://example.com:8080/a/b?x=1");
  EXPECT_EQ(r.version_major, 1);
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_NE(r.headers.find("accept"), nullptr);
  EXPECT_EQ(*r.headers.find("ACCEPT"), "*/*");
  EXPECT_EQ(p.state(), RequestParser::State::need_more);
}

TEST(RequestParser, StopsAfterEachPipelinedRequest) {
  RequestParser p;
  std::string two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t n = feed_all(p, two);
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(n, two.size() / 2) << "the second request stays unconsumed";
  EXPECT_EQ(p.take().target, "/1");
  std::size_t m = p.feed(two.data() + n, two.size() - n);
  EXPECT_EQ(m, two.size() - n);
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(p.take().target, "/2");
}

TEST(RequestParser, AcceptsBytesOneAtATime) {
  RequestParser p;
  std::string req = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  for (char c : req) {
    ASSERT_NE(p.state(), RequestParser::State::error);
    p.feed(&c, 1);
  }
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(p.take().body, "hello");
}

TEST(RequestParser, DechunksAChunkedBody) {
  RequestParser p;
  feed_all(p, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(p.take().body, "abcde");
}

TEST(RequestParser, Http10DefaultsToCloseAndKeepAliveIsHonoured) {
  RequestParser p;
  feed_all(p, "GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_FALSE(p.take().keep_alive);
  feed_all(p, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p.take().keep_alive);
  feed_all(p, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(p.take().keep_alive);
}

TEST(RequestParser, MalformedRequestIs400) {
  RequestParser p;
  feed_all(p, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(p.state(), RequestParser::State::error);
  EXPECT_EQ(p.error_status(), 400);
}

TEST(RequestParser, BothTransferEncodingAndContentLengthIsRefused) {
  // RFC 9112 §6.3: the framing ambiguity request smuggling and cache poisoning rely on.
  RequestParser p;
  feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(p.state(), RequestParser::State::error);
  EXPECT_EQ(p.error_status(), 400);
}

TEST(RequestParser, OversizedHeaderSectionIs431) {
  ParserLimits limits;
  limits.max_header_bytes = 1024;
  RequestParser p(limits);
  feed_all(p, "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_EQ(p.state(), RequestParser::State::error);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(RequestParser, OversizedBodyIs413BeforeItArrives) {
  ParserLimits limits;
  limits.max_body_bytes = 100;
  RequestParser p(limits);
  feed_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(p.state(), RequestParser::State::error);
  EXPECT_EQ(p.error_status(), 413);
  RequestParser chunked(limits);
  feed_all(chunked, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + std::string(512, 'x') + "\r\n");
  EXPECT_EQ(chunked.state(), RequestParser::State::error);
  EXPECT_EQ(chunked.error_status(), 413);
}

TEST(RequestParser, ConnectStopsAfterTheHeadAndLeavesTunnelBytes) {
  RequestParser p;
  std::string req = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  std::string all = req + "\x16\x03\x01tls";
  std::size_t n = feed_all(p, all);
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(n, req.size());
  Request r = p.take();
  EXPECT_TRUE(r.is_connect);
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_authority(r.target, host, port));
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, 443);
}

TEST(TargetUri, AbsoluteFormIsSplitAndNormalised) {
  TargetUri t;
  ASSERT_TRUE(parse_absolute_target("HTTP://Example.COM/p?q=1", t));
  EXPECT_EQ(t.scheme, "http");
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.path, "/p");
  EXPECT_EQ(t.query, "q=1");
  EXPECT_EQ(t.url(), "http://example.com/p?q=1");
  ASSERT_TRUE(parse_absolute_target("http://[::1]:8080", t));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.path, "/");
  EXPECT_EQ(t.authority(), "[::1]:8080");
  EXPECT_FALSE(parse_absolute_target("/origin-form", t));
  EXPECT_FALSE(parse_absolute_target("https://example.com/", t)) << "https goes through CONNECT";
  EXPECT_FALSE(parse_absolute_target("http://user:pw@example.com/", t)) << "credentials are never forwarded";
}

TEST(HopByHop, ConnectionListedAndFixedFieldsAreRemoved) {
  Headers h{{"Connection", "keep-alive, X-Private"},
            {"X-Private", "1"},
            {"Keep-Alive", "timeout=5"},
            {"Transfer-Encoding", "chunked"},
            {"Upgrade", "h2c"},
            {"Proxy-Authorization", "Basic x"},
            {"X-End", "kept"}};
  EXPECT_TRUE(connection_has(h, "x-private"));
  remove_hop_by_hop(h);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.fields()[0].name, "X-End");
}
