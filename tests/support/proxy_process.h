#pragma once
// Runs the real `cachefwd serve` binary for a test, on an ephemeral loopback port, and stops it
// (SIGTERM, then SIGKILL) when the test ends.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cachefwd::testing {

class ProxyProcess {
 public:
  // Extra flags after `serve --listen 127.0.0.1:0`.
  explicit ProxyProcess(std::vector<std::string> flags);
  ~ProxyProcess();
  std::uint16_t port() const { return port_; }
  std::string proxy_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Everything the process wrote to stderr so far.
  std::string log();
  bool running();
  // Sends SIGTERM and waits; returns the exit status (-1 on timeout).
  int terminate();
  void signal(int signum);
  // Waits for the process to exit by itself; returns its status, -1 on timeout.
  int wait_exit(int timeout_ms);
  // The admin API port from the startup log (--admin 127.0.0.1:0); 0 when none.
  std::uint16_t admin_port();
  // Waits until the log contains `text` (true) or the timeout passes (false).
  bool wait_for_log(const std::string& text, int timeout_ms);

 private:
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string log_;
};

// Runs `cachefwd ARGS...` to completion; returns the exit status and fills `output` with stdout+stderr.
int run_cachefwd(const std::vector<std::string>& args, std::string& output);

}  // namespace cachefwd::testing
