// The differential framing corpus (issue 9): request framings an attacker uses to make two HTTP
// parsers disagree on where a message ends, sent as raw bytes through the real proxy to a real
// loopback origin that records the exact bytes it receives. Each case states the verdict: refused
// (which status, and whether the connection closes; nothing reaches the origin) or forwarded
// (the exact bytes the origin receives, which is libcurl's re-framing of what we parsed).
//
// The families: whitespace around field names, CL.TE / TE.CL, TE.TE with obfuscated values,
// Content-Length syntax, chunk sizes and extensions, chunk data terminators, trailers,
// obs-fold, bare CR / bare LF, NUL and other controls, request-target and Host tricks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

struct FramingCase {
  const char* name;
  // Raw request bytes. "{T}" is replaced by the origin's base URL (http://127.0.0.1:PORT) and
  // "{A}" by its authority (127.0.0.1:PORT).
  std::string request;
  int status;   // the status of the proxy's first response; 0: no response at all
  bool closed;  // the proxy closes the connection after it
  // What the origin receives, one string per request, exactly (with {A} replaced). Empty: nothing.
  std::vector<std::string> forwarded;
};

const std::string kPost = "POST {T}/p HTTP/1.1\r\nHost: {A}\r\n";
const std::string kGet = "GET {T}/g HTTP/1.1\r\nHost: {A}\r\n";
const std::string kChunked = kPost + "Transfer-Encoding: chunked\r\n\r\n";
// The smuggled request some cases try to hide; it must never reach the origin.
const std::string kSmuggled = "GET {T}/smuggled HTTP/1.1\r\nHost: {A}\r\n\r\n";

// What the origin sees for a forwarded POST of `body` and a forwarded GET.
std::string post_forwarded(const std::string& body) {
  return "POST /p HTTP/1.1\r\nHost: {A}\r\nVia: 1.1 cachefwd\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}
std::string get_forwarded(const std::string& extra_fields = "") {
  return "GET /g HTTP/1.1\r\nHost: {A}\r\n" + extra_fields + "Via: 1.1 cachefwd\r\n\r\n";
}

std::vector<FramingCase> corpus() {
  using namespace std::string_literals;
  const std::string hello = "5\r\nhello\r\n0\r\n\r\n";
  return {
      // RFC 9112 §5.1: no whitespace between a field name and the colon, for any field.
      {"ws-before-colon-te", kPost + "Transfer-Encoding : chunked\r\n\r\n" + hello, 400, true, {}},
      {"ws-before-colon-cl", kPost + "Content-Length : 5\r\n\r\nhello", 400, true, {}},
      {"ws-before-colon-host", kGet + "Host : evil.example\r\n\r\n", 400, true, {}},
      {"ws-before-colon-connection", kGet + "Connection : close\r\n\r\n", 400, true, {}},
      {"tab-before-colon", kGet + "X-A\t: 1\r\n\r\n", 400, true, {}},
      {"space-inside-name", kGet + "X Forwarded: 1\r\n\r\n", 400, true, {}},
      {"leading-space-name-te", kPost + " Transfer-Encoding: chunked\r\n\r\n" + hello, 400, true, {}},
      {"empty-field-name", kGet + ": x\r\n\r\n", 400, true, {}},
      {"no-colon", kGet + "X-A 1\r\n\r\n", 400, true, {}},
      // Chunk data must be followed by exactly CRLF (RFC 9112 §7.1).
      {"chunk-crlf-any-two-bytes", kChunked + "5\r\nhelloAB0\r\n\r\n" + kSmuggled, 400, true, {}},
      {"chunk-crlf-bare-lf", kChunked + "5\r\nhello\n0\r\n\r\n" + kSmuggled, 400, true, {}},
      {"chunk-crlf-bare-cr", kChunked + "5\r\nhello\r0\r\n\r\n", 400, true, {}},
      {"chunk-data-longer-than-size", kChunked + "3\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      // CL.TE and TE.CL: both framings at once (RFC 9112 §6.3).
      {"cl-te", kPost + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400, true, {}},
      {"te-cl",
       kPost + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
       400,
       true,
       {}},
      {"cl-te-case-variant",
       kPost + "content-length: 4\r\nTRANSFER-ENCODING: Chunked\r\n\r\n" + hello,
       400,
       true,
       {}},
      // TE.TE: obfuscated Transfer-Encoding values.
      {"te-xchunked", kPost + "Transfer-Encoding: xchunked\r\n\r\n" + hello, 400, true, {}},
      {"te-chunked-identity", kPost + "Transfer-Encoding: chunked, identity\r\n\r\n" + hello, 400, true, {}},
      {"te-duplicated-fields",
       kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + hello,
       400,
       true,
       {}},
      {"te-chunked-then-identity-field",
       kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + hello,
       400,
       true,
       {}},
      {"te-chunked-chunked", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n" + hello, 400, true, {}},
      {"te-empty", kPost + "Transfer-Encoding: \r\n\r\n" + hello, 400, true, {}},
      {"te-quoted", kPost + "Transfer-Encoding: \"chunked\"\r\n\r\n" + hello, 400, true, {}},
      {"te-with-parameter", kPost + "Transfer-Encoding: chunked;q=1\r\n\r\n" + hello, 400, true, {}},
      {"te-obs-fold", kPost + "Transfer-Encoding:\r\n chunked\r\n\r\n" + hello, 400, true, {}},
      {"te-vertical-tab", kPost + "Transfer-Encoding:\vchunked\r\n\r\n" + hello, 400, true, {}},
      {"te-in-http10", "POST {T}/p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + hello, 400, true, {}},
      {"te-gzip-chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n" + hello, 501, true, {}},
      {"te-tab-before-value",
       kPost + "Transfer-Encoding:\tchunked\r\n\r\n" + hello,
       200,
       false,
       {post_forwarded("hello")}},
      {"te-upper-case",
       kPost + "TRANSFER-ENCODING: CHUNKED\r\n\r\n" + hello,
       200,
       false,
       {post_forwarded("hello")}},
      {"te-trailing-ows",
       kPost + "Transfer-Encoding: chunked \t\r\n\r\n" + hello,
       200,
       false,
       {post_forwarded("hello")}},
      // Content-Length syntax: 1*DIGIT, one value.
      {"cl-plus-sign", kPost + "Content-Length: +5\r\n\r\nhello", 400, true, {}},
      {"cl-minus-sign", kPost + "Content-Length: -5\r\n\r\nhello", 400, true, {}},
      {"cl-comma-list-same", kPost + "Content-Length: 5, 5\r\n\r\nhello", 400, true, {}},
      {"cl-two-fields-same", kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, true, {}},
      {"cl-two-fields-differ", kPost + "Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello", 400, true, {}},
      {"cl-space-inside", kPost + "Content-Length: 5 5\r\n\r\nhello", 400, true, {}},
      {"cl-hex", kPost + "Content-Length: 0x5\r\n\r\nhello", 400, true, {}},
      {"cl-empty", kPost + "Content-Length: \r\n\r\nhello", 400, true, {}},
      {"cl-overflow", kPost + "Content-Length: 99999999999999999999999\r\n\r\nhello", 400, true, {}},
      {"cl-over-body-limit", kPost + "Content-Length: 2000000\r\n\r\nhello", 413, true, {}},
      {"cl-leading-zeros", kPost + "Content-Length: 005\r\n\r\nhello", 200, false, {post_forwarded("hello")}},
      {"cl-obs-fold", kPost + "Content-Length:\r\n 5\r\n\r\nhello", 400, true, {}},
      // Chunk sizes.
      {"chunk-size-overflow", kChunked + "10000000000000005\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-over-body-limit", kChunked + "FFFFFFFF\r\nhello\r\n0\r\n\r\n", 413, true, {}},
      {"chunk-size-negative", kChunked + "-5\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-0x-prefix", kChunked + "0x5\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-leading-space", kChunked + " 5\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-trailing-space", kChunked + "5 \r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-bare-lf", kChunked + "5\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-cr-then-any", kChunked + "5\rXhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-size-leading-zeros",
       kChunked + "0005\r\nhello\r\n0\r\n\r\n",
       200,
       false,
       {post_forwarded("hello")}},
      {"chunk-size-upper-hex",
       kChunked + "A\r\nhellohello\r\n0\r\n\r\n",
       200,
       false,
       {post_forwarded("hellohello")}},
      // Chunk extensions: ignored, but only when they follow the grammar (RFC 9112 §7.1.1).
      {"chunk-ext-token",
       kChunked + "5;name=value\r\nhello\r\n0\r\n\r\n",
       200,
       false,
       {post_forwarded("hello")}},
      {"chunk-ext-quoted",
       kChunked + "5 ; a=\"x;y\\\"z\"\r\nhello\r\n0;end\r\n\r\n",
       200,
       false,
       {post_forwarded("hello")}},
      {"chunk-ext-bare-lf", kChunked + "5;a\nGET {T}/smuggled HTTP/1.1\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-ext-bare-cr", kChunked + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-ext-nul", kChunked + "5;a\0b\r\nhello\r\n0\r\n\r\n"s, 400, true, {}},
      {"chunk-ext-no-semicolon", kChunked + "5 x\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-ext-unclosed-quote", kChunked + "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      {"chunk-ext-flood", kChunked + "5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n", 400, true, {}},
      // Trailers are checked and dropped: never merged into the forwarded header section.
      {"trailer-host-dropped",
       kChunked + "5\r\nhello\r\n0\r\nHost: evil.example\r\nX-T: 1\r\n\r\n",
       200,
       false,
       {post_forwarded("hello")}},
      {"trailer-ws-before-colon", kChunked + "5\r\nhello\r\n0\r\nX-T : 1\r\n\r\n", 400, true, {}},
      {"trailer-obs-fold", kChunked + "5\r\nhello\r\n0\r\nX-T: 1\r\n 2\r\n\r\n", 400, true, {}},
      // obs-fold, bare CR, bare LF, NUL and other controls in the head.
      {"obs-fold-any-field", kGet + "X-A: 1\r\n 2\r\n\r\n", 400, true, {}},
      {"obs-fold-tab", kGet + "X-A: 1\r\n\t2\r\n\r\n", 400, true, {}},
      {"bare-cr-in-value", kGet + "X-A: 1\r2\r\n\r\n", 400, true, {}},
      {"bare-cr-line-end", kGet + "X-A: 1\rX-B: 2\r\n\r\n", 400, true, {}},
      {"bare-cr-head-end", kGet + "\rX", 400, true, {}},
      {"bare-lf-line-end", kGet + "X-A: 1\nX-B: 2\r\n\r\n", 400, true, {}},
      {"bare-lf-request-line", "GET {T}/g HTTP/1.1\nHost: {A}\r\n\r\n", 400, true, {}},
      {"bare-lf-head-end", kGet + "\n", 400, true, {}},
      {"nul-in-name", kGet + "X-A\0B: 1\r\n\r\n"s, 400, true, {}},
      {"nul-in-value",
       kGet + "X-A: 1\0"
              "2\r\n\r\n"s,
       400,
       true,
       {}},
      {"del-in-value",
       kGet + "X-A: 1\x7f"
              "2\r\n\r\n",
       400,
       true,
       {}},
      {"escape-in-value", kGet + "X-A: \x1b[31m\r\n\r\n", 400, true, {}},
      {"obs-text-in-value",
       kGet + "X-A: caf\xc3\xa9\r\n\r\n",
       200,
       false,
       {get_forwarded("X-A: caf\xc3\xa9\r\n")}},
      // Request line and target.
      {"tab-in-target", "GET {T}/a\tb HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"space-in-target", "GET {T}/a b HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"nul-in-target", "GET {T}/a\0b HTTP/1.1\r\nHost: {A}\r\n\r\n"s, 400, true, {}},
      {"two-spaces-after-method", "GET  {T}/g HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"lowercase-version", "GET {T}/g http/1.1\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"version-two-digits", "GET {T}/g HTTP/1.10\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"http09-request-line", "GET {T}/g\r\n\r\n", 400, true, {}},
      {"method-not-a-token", "G(T {T}/g HTTP/1.1\r\nHost: {A}\r\n\r\n", 400, true, {}},
      {"leading-empty-line", "\r\n" + kGet + "\r\n", 200, false, {get_forwarded()}},
      // Host (RFC 9112 §3.2).
      {"host-missing-http11", "GET {T}/g HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, true, {}},
      {"host-twice", kGet + "Host: {A}\r\n\r\n", 400, true, {}},
      {"host-twice-different", kGet + "Host: evil.example\r\n\r\n", 400, true, {}},
      {"host-with-space", "GET {T}/g HTTP/1.1\r\nHost: evil example\r\n\r\n", 400, true, {}},
      {"host-with-userinfo", "GET {T}/g HTTP/1.1\r\nHost: user@evil.example\r\n\r\n", 400, true, {}},
      {"host-mismatch-absolute-form",
       "GET {T}/g HTTP/1.1\r\nHost: evil.example\r\n\r\n",
       200,
       false,
       {get_forwarded()}},
      {"host-missing-http10",
       "GET {T}/g HTTP/1.0\r\n\r\n",
       200,
       true,
       {"GET /g HTTP/1.1\r\nHost: {A}\r\nVia: 1.0 cachefwd\r\n\r\n"}},
      // Well-framed requests are forwarded, re-framed with Content-Length.
      {"chunked-two-chunks",
       kChunked + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
       200,
       false,
       {post_forwarded("abcde")}},
      {"content-length-body",
       kPost + "Content-Length: 5\r\n\r\nhello",
       200,
       false,
       {post_forwarded("hello")}},
      {"pipelined-two-gets", kGet + "\r\n" + kGet + "\r\n", 200, false, {get_forwarded(), get_forwarded()}},
      {"expect-unknown", kGet + "Expect: x-teleport\r\n\r\n", 417, false, {}},
      {"header-section-too-large", kGet + "X-Big: " + std::string(70000, 'a') + "\r\n\r\n", 431, true, {}},
  };
}

std::string substitute(std::string s, const TestOrigin& origin) {
  const std::string authority = "127.0.0.1:" + std::to_string(origin.port());
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"{T}", "http://" + authority}, {"{A}", authority}})
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  return s;
}

// How many complete Content-Length-framed responses `s` holds (every response of the proxy is).
std::size_t complete_responses(const std::string& s) {
  std::size_t n = 0, pos = 0;
  while (true) {
    auto end = s.find("\r\n\r\n", pos);
    if (end == std::string::npos) return n;
    std::size_t length = 0;
    auto cl = s.find("Content-Length: ", pos);
    if (cl != std::string::npos && cl < end) length = std::stoul(s.substr(cl + 16));
    if (s.size() < end + 4 + length) return n;
    pos = end + 4 + length;
    ++n;
  }
}

// The proxy's Via pseudonym has a random suffix per process (loop detection); the corpus names it
// without.
std::string without_via_suffix(std::string raw) {
  auto p = raw.find(" cachefwd-");
  if (p != std::string::npos) raw.erase(p + 9, 7);
  return raw;
}

// Printable form of raw bytes for failure messages.
std::string visible(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n\n";
    else if (c < 0x20 || c >= 0x7f)
      out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else
      out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

TEST(FramingCorpus, EveryCaseGetsItsVerdict) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({"--max-body-size", "1MiB", "--no-cache"});
  auto cases = corpus();
  int passed = 0;
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    std::size_t before = origin.received().size();
    RawConnection c(proxy.port());
    c.send(substitute(k.request, origin));
    // Read until the proxy closes, or until the expected responses are in while it stays open.
    std::string answer;
    if (k.closed) {
      answer = c.read(3000);
    } else {
      std::size_t expected = k.forwarded.empty() ? 1 : k.forwarded.size();
      for (int i = 0; i < 60 && complete_responses(answer) < expected; ++i) answer += c.read(50);
    }
    bool closed = c.closed_by_peer(k.closed ? 1000 : 50);
    auto received = origin.received();
    std::vector<std::string> got;
    for (std::size_t i = before; i < received.size(); ++i) got.push_back(without_via_suffix(received[i].raw));
    std::vector<std::string> want;
    for (auto& f : k.forwarded) want.push_back(substitute(f, origin));

    bool ok = true;
    std::string status_prefix = k.status ? "HTTP/1.1 " + std::to_string(k.status) : "";
    if (k.status ? answer.rfind(status_prefix, 0) != 0 : !answer.empty()) {
      ADD_FAILURE() << k.name << ": wanted " << (k.status ? status_prefix : "no response") << ", got\n"
                    << visible(answer);
      ok = false;
    }
    if (closed != k.closed) {
      ADD_FAILURE() << k.name << ": connection " << (closed ? "closed" : "left open");
      ok = false;
    }
    if (got != want) {
      std::string shown;
      for (auto& g : got) shown += "---\n" + visible(g) + "\n";
      ADD_FAILURE() << k.name << ": the origin received " << got.size() << " request(s), wanted "
                    << want.size() << ":\n"
                    << shown;
      ok = false;
    }
    passed += ok;
  }
  for (auto& r : origin.received()) EXPECT_EQ(r.raw.find("smuggled"), std::string::npos) << visible(r.raw);
  std::printf("framing corpus: %d of %zu cases pass\n", passed, cases.size());
  EXPECT_EQ(passed, static_cast<int>(cases.size()));
}
