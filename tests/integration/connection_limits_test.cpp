// --max-connections and --max-connections-per-client against the real binary: connections over a
// limit are answered 503 and closed, others keep being served, and a freed slot is reused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

std::string get_request(const TestOrigin& origin, const std::string& path) {
  return "GET " + origin.url(path) + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(origin.port()) +
         "\r\n\r\n";
}

// One keep-alive request on `c`, proving the proxy admitted and is serving the connection.
bool served(RawConnection& c, const TestOrigin& origin) {
  c.send(get_request(origin, "/ok"));
  return c.read(3000, "origin").rfind("HTTP/1.1 200", 0) == 0;
}

// A connection from another loopback address (127.0.0.2), i.e. another client.
int connect_from(const char* source, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string exchange_fd(int fd, const std::string& bytes) {
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  while (out.find("origin") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

TEST(ConnectionLimits, OverTheTotalLimitIs503AndCloseAndAFreedSlotIsReused) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({"--max-connections", "2"});
  auto first = std::make_unique<RawConnection>(proxy.port());
  RawConnection second(proxy.port());
  ASSERT_TRUE(served(*first, origin));
  ASSERT_TRUE(served(second, origin));

  RawConnection third(proxy.port());
  third.send(get_request(origin, "/third"));
  std::string out = third.read(3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_TRUE(third.closed_by_peer(1000));
  EXPECT_EQ(origin.requests_for("/third"), 0);
  EXPECT_TRUE(served(second, origin)) << "admitted connections keep being served";

  first.reset();  // frees a slot once the proxy sees the close
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    RawConnection again(proxy.port());
    admitted = served(again, origin);
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(admitted);
}

TEST(ConnectionLimits, PerClientLimitLeavesOtherClientsAlone) {
  TestOrigin origin([](const OriginRequest&) { return respond("origin"); });
  ProxyProcess proxy({"--max-connections-per-client", "2", "--max-connections", "100"});
  RawConnection a(proxy.port()), b(proxy.port());
  ASSERT_TRUE(served(a, origin));
  ASSERT_TRUE(served(b, origin));
  RawConnection c(proxy.port());
  c.send(get_request(origin, "/c"));
  std::string out = c.read(3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  EXPECT_TRUE(c.closed_by_peer(1000));

  int other = connect_from("127.0.0.2", proxy.port());
  ASSERT_GE(other, 0);
  std::string reply = exchange_fd(other, get_request(origin, "/other-client"));
  ::close(other);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << "127.0.0.2 is another client: " << reply;
  EXPECT_EQ(origin.requests_for("/c"), 0);
}
