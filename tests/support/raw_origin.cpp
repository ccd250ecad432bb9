#include "support/raw_origin.h"

#include "support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace cachefwd::testing {

namespace {
int ms_left(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}
}  // namespace

std::string OriginSocket::read_head(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16384];
  while (true) {
    if (auto end = pending_.find("\r\n\r\n"); end != std::string::npos) {
      std::string head = pending_.substr(0, end + 2);
      pending_.erase(0, end + 4);
      return head;
    }
    int left = ms_left(deadline);
    pollfd p{fd_, POLLIN, 0};
    if (left == 0 || ::poll(&p, 1, left) <= 0) return "";
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

bool OriginSocket::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool OriginSocket::wait_closed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (true) {
    int left = ms_left(deadline);
    pollfd p{fd_, POLLIN, 0};
    if (left == 0 || ::poll(&p, 1, left) <= 0) return false;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;
  }
}

void OriginSocket::reset() {
  linger l{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::shutdown(fd_, SHUT_RD);
  ::close(fd_);
  fd_ = -1;
}

RawOrigin::RawOrigin(Script script) : script_(std::move(script)) {
  listen_fd_ = listen_on_loopback(64, &port_);
  acceptor_ = std::thread([this] {
    while (!stopping_) {
      int fd = accept_within(listen_fd_, 50);
      if (fd < 0) continue;
      int n = connections_++;
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd, n] {
        OriginSocket s(fd);
        script_(s, n);
        if (s.fd() >= 0) ::close(s.fd());
      });
    }
  });
}

RawOrigin::~RawOrigin() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : workers_) t.join();
}

std::string RawOrigin::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace cachefwd::testing
