// Requests an attacker sends to smuggle a second request past the proxy or to confuse the origin
// about framing (issue 9): the real binary must refuse them, close the connection, and never
// forward any of their bytes to the (real, recording) origin.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

struct Answer {
  std::string bytes;
  bool closed = false;
};

// Sends `bytes` on a fresh connection; returns what the proxy answered and whether it then closed.
Answer exchange(std::uint16_t port, const std::string& bytes) {
  RawConnection c(port);
  c.send(bytes);
  Answer a;
  a.bytes = c.read(3000);
  a.closed = c.closed_by_peer(500);
  return a;
}

int count_status_lines(const std::string& s) {
  int n = 0;
  for (std::size_t p = s.find("HTTP/1.1 "); p != std::string::npos; p = s.find("HTTP/1.1 ", p + 1)) ++n;
  return n;
}

}  // namespace

TEST(RequestHardening, WhitespaceBeforeTheColonIsRefusedAndNeverForwarded) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({});
  const std::string target = origin.url("/ws");
  const std::string host = "Host: 127.0.0.1:" + std::to_string(origin.port()) + "\r\n";
  const std::vector<std::string> attacks = {
      "POST " + target + " HTTP/1.1\r\n" + host +
          "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "POST " + target + " HTTP/1.1\r\n" + host + "Content-Length : 5\r\n\r\nhello",
      "GET " + target + " HTTP/1.1\r\n" + host + "Host : evil.example\r\n\r\n",
      "GET " + target + " HTTP/1.1\r\n" + host + "Connection : close\r\n\r\n",
      "GET " + target + " HTTP/1.1\r\n" + host + "X Forwarded: 1\r\n\r\n",
  };
  for (const auto& attack : attacks) {
    Answer a = exchange(proxy.port(), attack);
    EXPECT_EQ(a.bytes.rfind("HTTP/1.1 400", 0), 0u) << attack << "\n-> " << a.bytes;
    EXPECT_TRUE(a.closed) << attack;
  }
  EXPECT_EQ(origin.requests(), 0) << "none of these may reach the origin";
  auto ok = proxy_get(proxy.proxy_url(), origin.url("/after"));
  EXPECT_EQ(ok.status, 200) << "the proxy keeps serving";
}

TEST(RequestHardening, BadCrlfAfterChunkDataSmugglesNothing) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({});
  const std::string host = "Host: 127.0.0.1:" + std::to_string(origin.port()) + "\r\n";
  std::string attack = "POST " + origin.url("/outer") + " HTTP/1.1\r\n" + host +
                       "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloAB0\r\n\r\n" + "GET " +
                       origin.url("/smug") + " HTTP/1.1\r\n" + host + "\r\n";
  Answer a = exchange(proxy.port(), attack);
  EXPECT_EQ(a.bytes.rfind("HTTP/1.1 400", 0), 0u) << a.bytes;
  EXPECT_EQ(count_status_lines(a.bytes), 1) << "no second response for the smuggled bytes: " << a.bytes;
  EXPECT_TRUE(a.closed);
  EXPECT_EQ(origin.requests(), 0);
}

TEST(RequestHardening, HostMissingOrDuplicatedAndTabInTargetAre400AndClose) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({});
  const std::string host = "Host: 127.0.0.1:" + std::to_string(origin.port()) + "\r\n";
  const std::vector<std::string> bad = {
      "GET " + origin.url("/nohost") + " HTTP/1.1\r\nAccept: */*\r\n\r\n",
      "GET " + origin.url("/twohosts") + " HTTP/1.1\r\n" + host + host + "\r\n",
      "GET " + origin.url("/a\tb") + " HTTP/1.1\r\n" + host + "\r\n",
  };
  for (const auto& req : bad) {
    Answer a = exchange(proxy.port(), req);
    EXPECT_EQ(a.bytes.rfind("HTTP/1.1 400", 0), 0u) << req << "\n-> " << a.bytes;
    EXPECT_TRUE(a.closed) << req;
  }
  EXPECT_EQ(origin.requests(), 0);
}

TEST(RequestHardening, ExpectContinueGets100ThenTheBodyIsForwarded) {
  TestOrigin origin([](const OriginRequest& r) { return respond("got " + r.body); });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  c.send("POST " + origin.url("/upload") + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(origin.port()) +
         "\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = c.read(3000, "\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hello");
  std::string final_response = c.read(3000, "got hello");
  EXPECT_EQ(final_response.rfind("HTTP/1.1 200", 0), 0u) << final_response;
  ASSERT_EQ(origin.requests(), 1);
  EXPECT_EQ(origin.received()[0].body, "hello");
  EXPECT_FALSE(origin.received()[0].has_header("expect")) << "we already answered the expectation";
}

TEST(RequestHardening, ExpectContinueThatWillBeRefusedGetsTheFinalStatusAtOnce) {
  TestOrigin origin([](const OriginRequest&) { return respond("never"); });
  ProxyProcess proxy({"--deny-dest", "127.0.0.0/8", "--max-body-size", "1KiB"});
  const std::string host = "Host: 127.0.0.1:" + std::to_string(origin.port()) + "\r\n";
  struct Case {
    std::string head;
    const char* status;
  };
  const std::vector<Case> cases = {
      {"POST " + origin.url("/denied") + " HTTP/1.1\r\n" + host +
           "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
       "HTTP/1.1 403"},
      {"POST " + origin.url("/big") + " HTTP/1.1\r\n" + host +
           "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
       "HTTP/1.1 413"},
      {"POST " + origin.url("/odd") + " HTTP/1.1\r\n" + host +
           "Content-Length: 5\r\nExpect: x-teleport\r\n\r\n",
       "HTTP/1.1 417"},
      {"GET " + origin.url("/odd") + " HTTP/1.1\r\n" + host + "Expect: x-teleport\r\n\r\n", "HTTP/1.1 417"},
  };
  for (const auto& k : cases) {
    RawConnection c(proxy.port());
    c.send(k.head);  // and no body: the client waits, as curl does
    std::string out = c.read(3000, "\r\n\r\n");
    EXPECT_EQ(out.rfind(k.status, 0), 0u) << k.head << "\n-> " << out;
    EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
  }
  EXPECT_EQ(origin.requests(), 0);
}

TEST(RequestHardening, AHeadDribbledByteByByteHitsTheHeaderTimeout) {
  ProxyProcess proxy({"--header-timeout", "300ms", "--client-timeout", "60s"});
  RawConnection c(proxy.port());
  const std::string head =
      "GET http://127.0.0.1:9/slow HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-Pad: " + std::string(200, 'a');
  auto start = std::chrono::steady_clock::now();
  std::string out;
  // One byte every 20 ms would take 5 s for the whole head; the deadline is on the head, not the byte.
  for (char ch : head) {
    if (!c.send(std::string(1, ch))) break;
    out += c.read(20);
    if (!out.empty()) break;
  }
  out += c.read(1000, "\r\n\r\n");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_TRUE(c.closed_by_peer(1000));
}

TEST(RequestHardening, AStalledBodyHitsTheBodyTimeout) {
  TestOrigin origin([](const OriginRequest&) { return respond("never"); });
  ProxyProcess proxy({"--body-timeout", "300ms"});
  RawConnection c(proxy.port());
  c.send("POST " + origin.url("/stall") + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(origin.port()) +
         "\r\nContent-Length: 10\r\n\r\nab");
  std::string out = c.read(3000, "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_TRUE(c.closed_by_peer(1000));
  EXPECT_EQ(origin.requests(), 0);
}
