#pragma once
// Small blocking helpers for bench's setup and teardown (never on the measured path): a child
// process (the embedded proxy), a free loopback port, and a one-shot HTTP GET for /stats.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "load/address.h"

namespace cachefwd::load {

// A port the kernel considers free right now on 127.0.0.1 (racy by nature; fine for loopback).
std::uint16_t pick_free_port();

class ChildProcess;
// Connects within timeout_ms; true when something accepts on `where`. Gives up early when
// `watch` (if given) exits.
bool wait_until_listening(const HostPort& where, int timeout_ms, ChildProcess* watch = nullptr);

// GET url (http://numeric-host:port/path), returns the body of a 2xx answer, nullopt otherwise.
std::optional<std::string> http_get(const std::string& url, int timeout_ms = 2000);

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // terminates the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with argv, stdout and stderr to log_path. Returns false when fork/exec fails.
  bool start(const std::vector<std::string>& argv, const std::string& log_path);
  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, then SIGKILL after grace_ms; returns the exit status as waitpid reports it.
  int terminate(int grace_ms = 3000);
  // "exited with status N" / "killed by signal N" once it has ended; "running" before.
  std::string describe_exit();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace cachefwd::load
