// Requests an attacker sends to smuggle a second request past the proxy or to confuse the origin
// about framing (issue 9): the real binary must refuse them, close the connection, and never
// forward any of their bytes to the (real, recording) origin.
#include <gtest/gtest.h>

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
