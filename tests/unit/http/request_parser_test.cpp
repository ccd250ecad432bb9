#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <vector>

#include "http/hop_by_hop.h"
#include "http/request.h"

using namespace cachefwd::http;
using namespace std::string_literals;

namespace {
// Feeds `bytes` whole; returns the parser's state and how much it consumed.
std::size_t feed_all(RequestParser& p, const std::string& bytes) {
  return p.feed(bytes.data(), bytes.size());
}
}  // namespace

TEST(RequestParser, ParsesAnAbsoluteFormGet) {
  RequestParser p;
  std::string req =
      "GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n\r\n";
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
  feed_all(
      p, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
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
  feed_all(p, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
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
  feed_all(p,
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
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
  feed_all(chunked, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" +
                        std::string(512, 'x') + "\r\n");
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

namespace {
// Feeds `bytes` and expects the parser to refuse them with `status`.
void expect_refused(const std::string& bytes, int status = 400) {
  RequestParser p;
  feed_all(p, bytes);
  EXPECT_EQ(p.state(), RequestParser::State::error) << bytes;
  EXPECT_EQ(p.error_status(), status) << bytes << " -> " << p.error_reason();
}
}  // namespace

TEST(RequestParser, WhitespaceBeforeTheColonIsRefusedForEveryField) {
  // RFC 9112 §5.1: a server MUST reject with 400. libhttp-parser took "Transfer-Encoding :" as
  // the framing header and forwarded it as is.
  const std::string head = "POST http://h/ HTTP/1.1\r\nHost: h\r\n";
  expect_refused(head + "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  expect_refused(head + "Content-Length : 5\r\n\r\nhello");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nHost : evil.example\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nConnection : close\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nX-Anything\t: 1\r\n\r\n");
}

TEST(RequestParser, SpaceInsideAFieldNameIsRefused) {
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nX Forwarded: 1\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n");
  expect_refused(
      "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-A\x00"
      "b: 1\r\n\r\n"s);
}

TEST(RequestParser, ChunkDataMustBeFollowedByExactlyCrlf) {
  // "5\r\nhelloAB0\r\n\r\nGET ..." was read as a body plus a second, smuggled request.
  std::string smuggle =
      "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloAB0\r\n\r\n"
      "GET http://h/smug HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser p;
  feed_all(p, smuggle);
  EXPECT_EQ(p.state(), RequestParser::State::error);
  EXPECT_EQ(p.error_status(), 400);
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\n", 16), 0u) << "a refused parser reads nothing more";
  // Only CR, only LF, or LF first are wrong too; and a split CRLF across feeds is right.
  const std::string head =
      "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello";
  expect_refused(head + "\n0\r\n\r\n");
  expect_refused(head + "\r0\r\n\r\n");
  expect_refused(head + "\n\r0\r\n\r\n");
  RequestParser split;
  for (std::string part : {head + "\r", std::string("\n0\r\n\r\n")}) feed_all(split, part);
  ASSERT_EQ(split.state(), RequestParser::State::complete);
  EXPECT_EQ(split.take().body, "hello");
}

TEST(RequestParser, ChunkSizeLinesAreStrict) {
  const std::string head = "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_refused(head + "5\nhello\r\n0\r\n\r\n");                      // bare LF after the size
  expect_refused(head + "5\rXhello\r\n0\r\n\r\n");                     // CR + any byte
  expect_refused(head + "+5\r\nhello\r\n0\r\n\r\n");                   // sign
  expect_refused(head + "5 \r\nhello\r\n0\r\n\r\n");                   // trailing space, no extension
  expect_refused(head + "5;a=\"x\r\nhello\r\n0\r\n\r\n");              // unclosed quoted extension
  expect_refused(head + "5;\nGET /x HTTP/1.1\r\nhello\r\n0\r\n\r\n");  // LF hidden in an extension
  expect_refused(head + "10000000000000000\r\n\r\n");                  // 2^64: overflow
  expect_refused(head + "FFFFFFFFFFFFFFFF\r\n\r\n", 413);              // fits, but over the body limit
  expect_refused(head + "5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n");  // extension flood
  RequestParser ok;
  feed_all(ok, head + "005;name=tok ; q=\"a b\\\"c\"\r\nhello\r\n0;last\r\nX-Trailer: 1\r\n\r\n");
  ASSERT_EQ(ok.state(), RequestParser::State::complete) << ok.error_reason();
  Request r = ok.take();
  EXPECT_EQ(r.body, "hello");
  EXPECT_FALSE(r.headers.has("x-trailer")) << "trailer fields never join the header section";
}

TEST(RequestParser, HostMustAppearExactlyOnceInHttp11) {
  expect_refused("GET http://h/ HTTP/1.1\r\nAccept: */*\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n");
  RequestParser p;
  feed_all(p, "GET http://h/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(p.state(), RequestParser::State::complete) << "HTTP/1.0 may omit Host";
}

TEST(RequestParser, WhitespaceOrControlInTheTargetIsRefused) {
  expect_refused("GET http://h/a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_refused(
      "GET http://h/a\x01"
      "b HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_refused("GET http://h/a b HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_refused("GET  http://h/ HTTP/1.1\r\nHost: h\r\n\r\n");
  expect_refused("GET http://h/\r\nHost: h\r\n\r\n");
}

TEST(RequestParser, LineEndingsAreCrlfOnly) {
  expect_refused("GET http://h/ HTTP/1.1\nHost: h\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\n\rX");
  expect_refused("GET http://h/ HTTP/1.1\r\nHost: h\r\nX: 1\r\n folded\r\n\r\n");
}

TEST(RequestParser, TransferEncodingObfuscationsAreRefused) {
  const std::string head = "POST http://h/ HTTP/1.1\r\nHost: h\r\n";
  const std::string body = "\r\n5\r\nhello\r\n0\r\n\r\n";
  expect_refused(head + "Transfer-Encoding: xchunked\r\n" + body);
  expect_refused(head + "Transfer-Encoding: chunked, identity\r\n" + body);
  expect_refused(head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n" + body);
  expect_refused(head + "Transfer-Encoding: \r\n" + body);
  expect_refused(head + "Transfer-Encoding: gzip, chunked\r\n" + body, 501);
  expect_refused("POST http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n" + body);
  // Case and OWS variants are still the chunked coding (RFC 9112 §7: case-insensitive).
  for (std::string te : {"Transfer-Encoding: CHUNKED\r\n", "transfer-encoding:\tchunked\r\n",
                         "TRANSFER-ENCODING:chunked \r\n"}) {
    RequestParser p;
    feed_all(p, head + te + body);
    ASSERT_EQ(p.state(), RequestParser::State::complete) << te;
    EXPECT_EQ(p.take().body, "hello");
  }
}

TEST(RequestParser, ContentLengthMustBeOneDecimalNumber) {
  const std::string head = "POST http://h/ HTTP/1.1\r\nHost: h\r\n";
  for (std::string cl : {"+5", "-5", "5,5", "5, 5", "0x5", "5 5", "", "99999999999999999999"})
    expect_refused(head + "Content-Length: " + cl + "\r\n\r\nhello");
  expect_refused(head + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
  RequestParser p;
  feed_all(p, head + "Content-Length: 005\r\n\r\nhello");
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  EXPECT_EQ(p.take().body, "hello");
}

TEST(RequestParser, PhaseFollowsTheRequest) {
  RequestParser p;
  EXPECT_EQ(p.phase(), RequestParser::Phase::idle);
  feed_all(p, "POST http://h/ HTTP/1.1\r\nHost: h\r\n");
  EXPECT_EQ(p.phase(), RequestParser::Phase::head);
  EXPECT_FALSE(p.head_complete());
  feed_all(p, "Content-Length: 4\r\nExpect: 100-continue\r\n\r\nab");
  EXPECT_EQ(p.phase(), RequestParser::Phase::body);
  EXPECT_TRUE(p.head_complete());
  EXPECT_TRUE(p.body_expected());
  EXPECT_EQ(p.head().method, "POST");
  feed_all(p, "cd");
  ASSERT_EQ(p.state(), RequestParser::State::complete);
  p.take();
  EXPECT_EQ(p.phase(), RequestParser::Phase::idle);
}

TEST(RequestParser, EverySplitPointGivesTheSameVerdictAsOneFeed) {
  // The parser is incremental: where TCP happens to cut the bytes must never change the outcome
  // (a CR at the end of one read and its LF at the start of the next, a split chunk size...).
  const std::string chunked = "POST http://h/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::string> inputs = {
      "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n",
      "\r\nPOST http://h/ HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
      chunked + "5;a=\"b\"\r\nhello\r\n1A\r\n" + std::string(26, 'z') + "\r\n0\r\nX-T: 1\r\n\r\n",
      chunked + "5\r\nhelloAB0\r\n\r\n",
      chunked + "5\r\nhello\r0\r\n\r\n",
      chunked + "5\rXhello\r\n0\r\n\r\n",
      "GET http://h/ HTTP/1.1\r\nHost: h\r\nX-A: 1\rX-B: 2\r\n\r\n",
      "GET http://h/ HTTP/1.1\r\nHost: h\r\n\rX",
      "GET http://h/ HTTP/1.1\r\nHost : h\r\n\r\n",
      "GET http://h/ HTTP/1.1\nHost: h\r\n\r\n",
  };
  auto verdict = [](RequestParser& p) {
    std::string v = std::to_string(static_cast<int>(p.state())) + "/" + std::to_string(p.error_status());
    if (p.state() == RequestParser::State::complete) v += "/" + p.take().body;
    return v;
  };
  for (const auto& in : inputs) {
    RequestParser whole;
    feed_all(whole, in);
    std::string want = verdict(whole);
    for (std::size_t cut = 1; cut < in.size(); ++cut) {
      RequestParser p;
      std::size_t n = p.feed(in.data(), cut);
      if (p.state() == RequestParser::State::need_more) p.feed(in.data() + n, in.size() - n);
      ASSERT_EQ(verdict(p), want) << "cut at " << cut << " of:\n" << in;
    }
  }
}

TEST(RequestExpectation, OnlyHundredContinueIsSupportedAndHttp10IsIgnored) {
  Request r;
  EXPECT_EQ(request_expectation(r), Expectation::none);
  r.headers.add("Expect", "100-Continue");
  EXPECT_EQ(request_expectation(r), Expectation::continue_100);
  r.headers.add("Expect", "x-magic");
  EXPECT_EQ(request_expectation(r), Expectation::unsupported);
  r.version_minor = 0;
  EXPECT_EQ(request_expectation(r), Expectation::none) << "RFC 9110 §10.1.1: ignored in HTTP/1.0";
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
