// Regression tests for what fuzzing (tests/fuzz, scripts/fuzz.sh) found, end to end: the real
// binary, a loopback origin that answers with exactly the bytes the fuzzer had used.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"

using namespace cachefwd::testing;

namespace {

// Answers every connection with `response` once the request head has arrived, then closes.
class RawOrigin {
 public:
  explicit RawOrigin(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 8);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string head;
        char buf[4096];
        ssize_t n;
        while (head.find("\r\n\r\n") == std::string::npos && (n = ::recv(c, buf, sizeof(buf), 0)) > 0)
          head.append(buf, static_cast<size_t>(n));
        ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
        ::shutdown(c, SHUT_WR);
        while (::recv(c, buf, sizeof(buf), 0) > 0) {
        }
        ::close(c);
        accepted_++;
      }
    });
  }
  ~RawOrigin() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string response_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace

// Found by fuzz_client_connection: a final status line whose code is not a number (or below 100)
// made our libcurl header callback refuse the head, and the refusal was reported as "aborted", the
// kind a cancelled fetch gets: the client received nothing and, its request being in progress, was
// not even timed out. It must get a 502 at once, and the proxy must keep serving.
TEST(FuzzFindings, UnparsableUpstreamStatusLineGets502) {
  for (std::string status_line : {"HTTP/bytes */Created", "HTTP/1.1 abc Bad", "HTTP/1.1 099 Low"}) {
    SCOPED_TRACE(status_line);
    RawOrigin origin(status_line + "\r\nContent-Length: 0\r\n\r\n");
    ProxyProcess proxy({"--upstream", origin.url()});
    for (int i = 0; i < 2; ++i) {
      std::string out =
          raw_exchange(proxy.port(), "GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 3000);
      EXPECT_EQ(out.rfind("HTTP/1.1 502 ", 0), 0u) << out;
    }
    EXPECT_TRUE(proxy.running());
  }
}
