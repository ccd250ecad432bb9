// The live replay's driver against a loopback server that answers with a chunk size too large
// for 64 bits: a parse error, not a wrapped count that would make it skip a few bytes and go on.
#include "load/replay_driver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace cachefwd::load {
namespace {

TEST(ReplayDriver, AChunkSizeBeyond64BitsIsAParseError) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::uint16_t port = ntohs(a.sin_port);
  std::thread server([lfd] {
    const int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) return;
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    // 2^64 + 2: wraps to 2 without the overflow check, and "ab" would then look like the data.
    const std::string resp =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Status: cachefwd; hit\r\n\r\n"
        "10000000000000002\r\nab\r\n0\r\n\r\n";
    (void)!::write(fd, resp.data(), resp.size());
    ::shutdown(fd, SHUT_WR);
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    ::close(fd);
  });
  ReplayRequest rq;
  rq.method = "GET";
  rq.report_url = "http://a.example/x";
  rq.target = HttpUrl{HostPort{"127.0.0.1", port}, "/x"};
  ReplayOptions opts;
  opts.connect_to = HostPort{"127.0.0.1", port};
  opts.timeout_s = 5;
  const auto res = run_replay({rq}, opts);
  server.join();
  ::close(lfd);
  EXPECT_EQ(res.load.err_parse, 1u);
  EXPECT_EQ(res.load.hits, 0u);
  EXPECT_EQ(res.load.responses, 0u);
}

}  // namespace
}  // namespace cachefwd::load
