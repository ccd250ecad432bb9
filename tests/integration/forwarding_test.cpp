// The forwarding path of `cachefwd serve` end to end: the real binary, a real origin on loopback,
// libcurl or raw sockets as clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <thread>

#include "support/http_client.h"
#include "support/loopback.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {


// Echoes every byte back; stands in for the TLS server behind a CONNECT tunnel.
class EchoServer {
 public:
  EchoServer() {
    fd_ = listen_on_loopback(4, &port_);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(c, buf, sizeof(buf), 0)) > 0) ::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_;
  std::thread thread_;
};

int count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Forwarding, ForwardsAbsoluteFormGetAndReturnsOriginResponse) {
  TestOrigin origin([](const OriginRequest& r) { return respond("path=" + r.target, {{"X-Origin", "yes"}}); });
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/hello?a=1"));
  EXPECT_EQ(r.curl_code, 0);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/hello?a=1");
  EXPECT_EQ(r.header("X-Origin"), "yes");
  EXPECT_NE(r.header("Via").find("cachefwd"), std::string::npos);
  auto got = origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/hello?a=1");  // origin-form towards the origin
  EXPECT_EQ(got[0].header("Host"), "127.0.0.1:" + std::to_string(origin.port()));
  EXPECT_NE(got[0].header("Via").find("cachefwd"), std::string::npos);
}

TEST(Forwarding, HopByHopFieldsAreRemovedBothWaysAndCurlAddsNothing) {
  TestOrigin origin([](const OriginRequest&) {
    return respond("ok", {{"Connection", "X-Resp-Hop"}, {"X-Resp-Hop", "1"}, {"X-End", "2"}, {"Keep-Alive", "timeout=5"}});
  });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  c.send("GET " + origin.url("/h") +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: X-Req-Hop\r\nX-Req-Hop: secret\r\nX-End-To-End: kept\r\n"
         "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n\r\n");
  std::string resp = c.read(3000, "ok");
  auto got = origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].has_header("X-Req-Hop"));
  EXPECT_FALSE(got[0].has_header("Proxy-Authorization"));
  EXPECT_EQ(got[0].header("X-End-To-End"), "kept");
  // libcurl must not alter the exchange: no Accept, Expect or User-Agent of its own.
  EXPECT_FALSE(got[0].has_header("Accept"));
  EXPECT_FALSE(got[0].has_header("Expect"));
  EXPECT_FALSE(got[0].has_header("User-Agent"));
  EXPECT_EQ(resp.find("X-Resp-Hop"), std::string::npos) << resp;
  EXPECT_EQ(resp.find("Keep-Alive"), std::string::npos) << resp;
  EXPECT_NE(resp.find("X-End: 2"), std::string::npos) << resp;
}

TEST(Forwarding, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  TestOrigin origin([](const OriginRequest& r) { return respond("body-of-" + r.target, {{"Cache-Control", "no-store"}}); });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  std::string reqs;
  for (int i = 1; i <= 5; ++i)
    reqs += "GET " + origin.url("/p" + std::to_string(i)) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_TRUE(c.send(reqs));  // one write: the proxy sees them pipelined
  std::string out = c.read(5000, "body-of-/p5");
  std::vector<size_t> pos;
  for (int i = 1; i <= 5; ++i) pos.push_back(out.find("body-of-/p" + std::to_string(i)));
  for (int i = 0; i < 5; ++i) ASSERT_NE(pos[i], std::string::npos) << out;
  for (int i = 1; i < 5; ++i) EXPECT_LT(pos[i - 1], pos[i]) << "responses out of order";
  EXPECT_EQ(count(out, "HTTP/1.1 200"), 5);
  // The connection is still usable afterwards (keep-alive).
  ASSERT_TRUE(c.send("GET " + origin.url("/p6") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_NE(c.read(3000, "body-of-/p6").find("body-of-/p6"), std::string::npos);
}

TEST(Forwarding, ChunkedUpstreamBodyIsStreamedAndReframed) {
  std::string big(100000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + (i % 26));
  TestOrigin origin([&](const OriginRequest&) {
    auto r = respond(big, {{"Cache-Control", "no-store"}});
    r.chunked = true;
    return r;
  });
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/chunked"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, big);
  EXPECT_NE(r.header("Transfer-Encoding").find("chunked"), std::string::npos);
}

TEST(Forwarding, Http10ClientGetsCloseDelimitedBodyForUnknownLength) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("streamed-body", {{"Cache-Control", "no-store"}});
    r.chunked = true;
    return r;
  });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  c.send("GET " + origin.url("/ten") + " HTTP/1.0\r\n\r\n");
  std::string out = c.read(3000);
  EXPECT_NE(out.find("streamed-body"), std::string::npos) << out;
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos) << "HTTP/1.0 has no chunked coding";
  EXPECT_TRUE(c.closed_by_peer(2000));
}

TEST(Forwarding, ChunkedRequestBodyReachesOriginWhole) {
  TestOrigin origin([](const OriginRequest& r) { return respond("got:" + r.body); });
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  c.send("POST " + origin.url("/upload") +
         " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  std::string out = c.read(3000, "got:hello world");
  EXPECT_NE(out.find("got:hello world"), std::string::npos) << out;
  auto got = origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].body, "hello world");
  EXPECT_EQ(got[0].header("Content-Length"), "11");
  EXPECT_EQ(got[0].header("Content-Type"), "text/plain");
  EXPECT_FALSE(got[0].has_header("Transfer-Encoding"));
}

TEST(Forwarding, PutAndDeleteAreForwardedWithBodies) {
  TestOrigin origin([](const OriginRequest& r) { return respond(r.method + ":" + r.body); });
  ProxyProcess proxy({});
  ClientRequest put;
  put.method = "PUT";
  put.url = origin.url("/thing");
  put.proxy = proxy.proxy_url();
  put.body = "payload";
  put.headers = {"Content-Type: application/json"};
  auto r = curl_fetch(put);
  EXPECT_EQ(r.body, "PUT:payload");
  ClientRequest del = put;
  del.method = "DELETE";
  del.body.clear();
  del.headers.clear();
  r = curl_fetch(del);
  EXPECT_EQ(r.body, "DELETE:");
  auto got = origin.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header("Content-Type"), "application/json");
  EXPECT_FALSE(got[1].has_header("Content-Type")) << "curl must not invent a Content-Type";
}

TEST(Forwarding, ConnectOpensATunnel) {
  EchoServer echo;
  ProxyProcess proxy({"--connect-ports", std::to_string(echo.port())});
  RawConnection c(proxy.port());
  std::string target = "127.0.0.1:" + std::to_string(echo.port());
  c.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
  std::string head = c.read(3000, "\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  c.send("ping through the tunnel");
  EXPECT_EQ(c.read(3000, "tunnel"), "ping through the tunnel");
  std::string bin(3000, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i * 31);
  c.send(bin);
  std::string back;
  for (int i = 0; i < 20 && back.size() < bin.size(); ++i) back += c.read(200);
  EXPECT_EQ(back, bin);
}

TEST(Forwarding, ConnectToAPortNotAllowedIsRefused) {
  ProxyProcess proxy({});
  std::string out = raw_exchange(proxy.port(), "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n", 2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 403", 0), 0u) << out;
}

TEST(Forwarding, MalformedRequestGets400AndTheProxyKeepsServing) {
  TestOrigin origin([](const OriginRequest&) { return respond("fine"); });
  ProxyProcess proxy({});
  std::string out = raw_exchange(proxy.port(), "THIS IS NOT HTTP\r\n\r\n", 2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  out = raw_exchange(proxy.port(), "GET http://127.0.0.1/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n", 2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << "conflicting Content-Length must be refused: " << out;
  auto r = proxy_get(proxy.proxy_url(), origin.url("/after"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "fine");
}

TEST(Forwarding, OversizedHeadersGet431) {
  ProxyProcess proxy({"--max-header-size", "4KiB"});
  std::string big(8000, 'a');
  std::string out = raw_exchange(proxy.port(), "GET http://127.0.0.1/ HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n", 2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
}

TEST(Forwarding, OversizedBodyGets413) {
  TestOrigin origin([](const OriginRequest&) { return respond("never"); });
  ProxyProcess proxy({"--max-body-size", "1KiB"});
  ClientRequest req;
  req.method = "POST";
  req.url = origin.url("/big");
  req.proxy = proxy.proxy_url();
  req.body = std::string(5000, 'b');
  auto r = curl_fetch(req);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(origin.requests(), 0);
}

TEST(Forwarding, OriginFormWithoutUpstreamIsRefusedClearly) {
  ProxyProcess proxy({});
  std::string out = raw_exchange(proxy.port(), "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2000);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("absolute-form"), std::string::npos) << out;
}

TEST(Forwarding, UnreachableUpstreamGets502) {
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), "http://127.0.0.1:" + std::to_string(unused_loopback_port()) + "/x");
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(proxy.running());
}

TEST(Forwarding, SlowUpstreamGets504) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("late");
    r.delay_ms = 2500;
    return r;
  });
  ProxyProcess proxy({"--upstream-timeout", "500ms"});
  auto start = std::chrono::steady_clock::now();
  auto r = proxy_get(proxy.proxy_url(), origin.url("/slow"));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 504);
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_TRUE(proxy.running());
}

TEST(Forwarding, UpstreamFailingMidBodyClosesTheClientConnection) {
  // Headers promise 100000 bytes, then the origin stalls: the client must see a short read and a
  // closed connection, never a response that looks complete.
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("partial");
    r.headers = {{"Content-Length", "100000"}};
    r.no_content_length = true;  // we set the (lying) length ourselves
    r.body_delay_ms = 3000;
    return r;
  });
  ProxyProcess proxy({"--upstream-timeout", "500ms", "--ttl", "60"});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/stall"));
  EXPECT_NE(r.curl_code, 0) << "a truncated body must be visible to the client";
  // And it was not stored: the next request goes to the origin again.
  origin.set_handler([](const OriginRequest&) { return respond("whole"); });
  auto r2 = proxy_get(proxy.proxy_url(), origin.url("/stall"));
  EXPECT_EQ(r2.body, "whole");
}

TEST(Forwarding, ClientDisconnectMidResponseDoesNotDisturbOthers) {
  TestOrigin origin([](const OriginRequest& r) {
    if (r.target == "/slowbody") {
      auto resp = respond(std::string(1 << 20, 'z'), {{"Cache-Control", "no-store"}});
      resp.body_delay_ms = 300;
      return resp;
    }
    return respond("other");
  });
  ProxyProcess proxy({});
  {
    RawConnection c(proxy.port());
    c.send("GET " + origin.url("/slowbody") + " HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read(200);
  }  // gone before the body arrives
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto r = proxy_get(proxy.proxy_url(), origin.url("/other"));
  EXPECT_EQ(r.body, "other");
  EXPECT_TRUE(proxy.running());
}

TEST(Forwarding, GatewayModeMapsOriginFormToTheUpstream) {
  TestOrigin origin([](const OriginRequest& r) { return respond("gw:" + r.target); });
  ProxyProcess proxy({"--upstream", origin.url("/api")});
  ClientRequest req;
  req.url = proxy.proxy_url() + "/users/7?full=1";
  auto r = curl_fetch(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "gw:/api/users/7?full=1");
  auto got = origin.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header("Host"), "127.0.0.1:" + std::to_string(origin.port()));
}

TEST(Forwarding, ClientsOutsideAllowGet403) {
  TestOrigin origin([](const OriginRequest&) { return respond("secret"); });
  ProxyProcess proxy({"--allow", "10.0.0.0/8"});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/x"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(origin.requests(), 0);
  EXPECT_NE(proxy.log().find("refused client 127.0.0.1"), std::string::npos);
}

TEST(Forwarding, RequestLoopingThroughTheProxyIsStopped) {
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), proxy.proxy_url() + "/loop");
  EXPECT_EQ(r.status, 508);
}

TEST(Forwarding, ListensOnIpv6Loopback) {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool has_v6 = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  if (fd >= 0) ::close(fd);
  if (!has_v6) GTEST_SKIP() << "no IPv6 loopback on this machine";
  TestOrigin origin([](const OriginRequest&) { return respond("v6"); });
  ProxyProcess proxy({"--listen", "[::1]:0"});
  // The first --listen (127.0.0.1:0) is what ProxyProcess found; the v6 one is in the log.
  std::smatch m;
  std::string log = proxy.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("\\[::1\\]:(\\d+)"))) << log;
  auto r = proxy_get("http://[::1]:" + m[1].str(), origin.url("/six"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "v6");
}

TEST(Forwarding, BadFlagsFailWithOneClearLine) {
  std::string out;
  EXPECT_NE(run_cachefwd({"serve", "--listen", "nonsense"}, out), 0);
  EXPECT_NE(out.find("--listen"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(run_cachefwd({"serve", "--ttl", "soon"}, out), 0);
  EXPECT_NE(out.find("--ttl"), std::string::npos) << out;
}

TEST(Forwarding, PortInUseFailsToStart) {
  ProxyProcess first({});
  std::string out;
  EXPECT_EQ(run_cachefwd({"serve", "--listen", "127.0.0.1:" + std::to_string(first.port())}, out), 1);
  EXPECT_NE(out.find("cannot listen"), std::string::npos) << out;
}

TEST(Forwarding, TwoChainedProxiesAreNotALoop) {
  TestOrigin origin([](const OriginRequest& r) { return respond("via:" + r.header("Via")); });
  ProxyProcess gateway({"--upstream", origin.url("/")});
  ProxyProcess forward({});
  auto r = proxy_get(forward.proxy_url(), gateway.proxy_url() + "/chain");
  EXPECT_EQ(r.status, 200);
  // Both hops are recorded, in order (RFC 9110 §7.6.3).
  EXPECT_TRUE(std::regex_search(r.body, std::regex("cachefwd-[0-9a-f]{6}, 1\\.1 cachefwd-[0-9a-f]{6}"))) << r.body;
}
