// CONNECT tunnels end to end: what happens around them when things fail.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/loopback.h"
#include "support/proxy_process.h"
#include "support/raw_origin.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

// A host name whose lookup fails inside the resolver library: a 64-byte label cannot be encoded
// in a DNS query, so no packet leaves the machine, yet curl's threaded resolver runs (and opens
// and closes its socketpair) exactly as for a name that does not exist.
std::string unresolvable_host() { return std::string(64, 'a') + ".invalid"; }

std::string connect_head(RawConnection& c, const std::string& authority, int timeout_ms = 3000) {
  c.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
  return c.read(timeout_ms, "\r\n\r\n");
}

}  // namespace

TEST(Tunnels, ConnectAfterAFailedLookupIsAnswered) {
  // A failed lookup used to leave a poll on curl's closed resolver socket; the tunnel's socket
  // took the same fd number and the loop spun on it without ever answering the CONNECT.
  RawOrigin origin([](OriginSocket& s, int) { s.wait_closed(5000); });
  std::string port = std::to_string(origin.port());
  ProxyProcess proxy({"--connect-ports", port});
  for (int i = 0; i < 5; ++i) {
    std::string out = raw_exchange(proxy.port(),
                                   "GET http://" + unresolvable_host() + ":" + port +
                                       "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                   3000);
    ASSERT_EQ(out.rfind("HTTP/1.1 502", 0), 0u) << out;
    RawConnection c(proxy.port());
    std::string head = connect_head(c, "127.0.0.1:" + port, 2000);
    ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << "try " << i << ": " << head;
  }
}

namespace {
// Echoes what it receives until the peer closes; records whether the proxy closed it.
RawOrigin::Script echo(std::atomic<int>* closed_by_proxy) {
  return [closed_by_proxy](OriginSocket& s, int) {
    char buf[4096];
    while (true) {
      pollfd p{s.fd(), POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
      ssize_t n = ::recv(s.fd(), buf, sizeof(buf), 0);
      if (n <= 0) {
        ++*closed_by_proxy;
        return;
      }
      s.send(std::string(buf, static_cast<std::size_t>(n)));
    }
  };
}
}  // namespace

TEST(Tunnels, AFailedConnectLeavesTheConnectionServingRequests) {
  TestOrigin origin([](const OriginRequest&) { return respond("after", {{"Cache-Control", "no-store"}}); });
  std::uint16_t refused = unused_loopback_port();
  ProxyProcess proxy({"--connect-ports", std::to_string(refused) + ",443"});
  RawConnection c(proxy.port());
  for (std::string target : {"127.0.0.1:" + std::to_string(refused), unresolvable_host() + ":443"}) {
    std::string out = connect_head(c, target);
    ASSERT_EQ(out.rfind("HTTP/1.1 502", 0), 0u) << target << ": " << out;
    // Read the whole error response, so what follows is the next response.
    auto cl = out.find("Content-Length: ");
    ASSERT_NE(cl, std::string::npos) << out;
    std::size_t total = out.find("\r\n\r\n") + 4 + std::stoul(out.substr(cl + 16));
    for (int i = 0; i < 20 && out.size() < total; ++i) out += c.read(50);
    ASSERT_EQ(out.size(), total) << out;
    c.send("GET " + origin.url("/next") + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string next = c.read(3000, "after");
    EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u) << "after CONNECT " << target << ": " << next;
    EXPECT_NE(next.find("after"), std::string::npos);
  }
}

TEST(Tunnels, AnIdleTunnelIsClosedAndABusyOneIsNot) {
  std::atomic<int> closed{0};
  RawOrigin origin(echo(&closed));
  std::string authority = "127.0.0.1:" + std::to_string(origin.port());
  ProxyProcess proxy({"--connect-ports", std::to_string(origin.port()), "--tunnel-idle-timeout", "400ms"});
  RawConnection busy(proxy.port());
  ASSERT_EQ(connect_head(busy, authority).rfind("HTTP/1.1 200", 0), 0u);
  RawConnection idle(proxy.port());
  ASSERT_EQ(connect_head(idle, authority).rfind("HTTP/1.1 200", 0), 0u);
  auto start = std::chrono::steady_clock::now();
  // Traffic every 100 ms for twice the timeout keeps one tunnel open.
  for (int i = 0; i < 8; ++i) {
    std::string ping = "ping" + std::to_string(i);
    busy.send(ping);
    EXPECT_EQ(busy.read(1000, ping), ping);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(idle.closed_by_peer(1500)) << "the idle tunnel is still open";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  busy.send("still there");
  EXPECT_EQ(busy.read(1000, "there"), "still there");
  for (int i = 0; i < 20 && closed.load() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(closed.load(), 1) << "the origin side of the idle tunnel is closed too";
}

TEST(Tunnels, ConnectThatCannotBeEstablishedInTimeGets504) {
  // A listener whose accept queue is full drops further SYNs: the connect hangs.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(fd, 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::uint16_t port = ntohs(a.sin_port);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(f, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    fillers.push_back(f);
  }
  ProxyProcess proxy({"--connect-ports", std::to_string(port), "--connect-timeout", "300ms"});
  RawConnection c(proxy.port());
  auto start = std::chrono::steady_clock::now();
  std::string out = connect_head(c, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(out.rfind("HTTP/1.1 504", 0), 0u) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
  for (int f : fillers) ::close(f);
  ::close(fd);
}

TEST(Tunnels, AClosedTunnelDoesNotHoldTheDrain) {
  std::atomic<int> closed{0};
  RawOrigin origin(echo(&closed));
  ProxyProcess proxy({"--connect-ports", std::to_string(origin.port())});
  {
    RawConnection c(proxy.port());
    ASSERT_EQ(connect_head(c, "127.0.0.1:" + std::to_string(origin.port())).rfind("HTTP/1.1 200", 0), 0u);
    c.send("ping");
    EXPECT_EQ(c.read(1000, "ping"), "ping");
  }  // the client half-closes; the origin closes in turn
  for (int i = 0; i < 40 && closed.load() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_EQ(closed.load(), 1);
  auto start = std::chrono::steady_clock::now();
  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait_exit(5000), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000))
      << "a tunnel both sides have closed must not linger";
}
