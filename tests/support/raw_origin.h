#pragma once
// A misbehaving origin on 127.0.0.1: each accepted connection is handed to a test-written script
// that reads and writes raw bytes, so a test can send exactly the framing (or the fault) it needs.
// Scripts run on their own threads with every socket call bounded in time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachefwd::testing {

// One upstream connection as the script sees it.
class OriginSocket {
 public:
  explicit OriginSocket(int fd) : fd_(fd) {}
  // Reads until a whole request head (up to CRLF CRLF) has arrived; returns it without the final
  // blank line, or "" when the peer closed or nothing came within timeout_ms.
  std::string read_head(int timeout_ms = 5000);
  bool send(const std::string& bytes);
  // Waits until the peer closes (or resets) the connection: true if it did within timeout_ms.
  bool wait_closed(int timeout_ms);
  // Closes with a TCP reset instead of a FIN.
  void reset();
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string pending_;  // bytes read past the last head
};

class RawOrigin {
 public:
  // `script(socket, n)` serves the n-th accepted connection (0-based); the connection is closed
  // when it returns (unless it called reset()).
  using Script = std::function<void(OriginSocket&, int)>;
  explicit RawOrigin(Script script);
  ~RawOrigin();
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  int connections() const { return connections_.load(); }

 private:
  Script script_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace cachefwd::testing
