#pragma once
// Test support for lib/proxy's unit tests: a Server on a real loop in a thread of its own, and a
// raw loopback client (blocking sockets, every read bounded by a 5 s timeout).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "proxy/server.h"

namespace cachefwd::proxy::test {

// A Server on its own loop thread; stop() ends it and returns uv_loop_close()'s result.
class LoopServer {
 public:
  explicit LoopServer(ProxyConfig cfg) {
    std::promise<std::uint16_t> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, cfg, &ready] {
      uv_loop_init(&loop_);
      server_ = std::make_unique<Server>(&loop_, cfg);
      auto err = server_->start();
      uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
        static_cast<LoopServer*>(a->data)->server_->stop();
        uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
      });
      stop_.data = this;
      ready.set_value(err ? 0 : server_->bound_ports().at(0));
      uv_run(&loop_, UV_RUN_DEFAULT);
      server_.reset();
      uv_run(&loop_, UV_RUN_DEFAULT);
      close_rc_ = uv_loop_close(&loop_);
    });
    port_ = port.get();
  }
  ~LoopServer() {
    if (thread_.joinable()) stop();
  }
  std::uint16_t port() const { return port_; }
  int stop() {
    uv_async_send(&stop_);
    thread_.join();
    return close_rc_;
  }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  int close_rc_ = -1;
};

inline int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `until` has been seen (or the peer closes, or 5 s pass).
inline std::string read_until(int fd, const std::string& until) {
  std::string out;
  char buf[4096];
  while (out.find(until) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// One response with a Content-Length body: head and body.
inline std::string read_response(int fd) {
  std::string out = read_until(fd, "\r\n\r\n");
  auto end = out.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  auto cl = out.find("Content-Length: ");
  std::size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
  char buf[4096];
  while (out.size() < end + 4 + length) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

inline std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace cachefwd::proxy::test
