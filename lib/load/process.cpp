#include "load/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace cachefwd::load {

namespace {
using Clock = std::chrono::steady_clock;

int connect_with_timeout(const HostPort& where, int timeout_ms) {
  sockaddr_storage addr{};
  if (!to_sockaddr(where, addr)) return -1;
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t elen = sizeof err;
  if (::poll(&p, 1, timeout_ms) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
      err != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}
}  // namespace

std::uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool wait_until_listening(const HostPort& where, int timeout_ms, ChildProcess* watch) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (watch != nullptr && !watch->running()) return false;
    const int fd = connect_with_timeout(where, 200);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::optional<std::string> http_get(const std::string& url, int timeout_ms) {
  const auto u = parse_http_url(url);
  if (!u) return std::nullopt;
  const int fd = connect_with_timeout(u->where, timeout_ms);
  if (fd < 0) return std::nullopt;
  const std::string req = "GET " + u->target + " HTTP/1.1\r\nHost: " + u->where.authority() +
                          "\r\nConnection: close\r\nUser-Agent: cachefwd-bench\r\n\r\n";
  std::string resp;
  bool ok = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (ok) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1) {
      ok = false;
      break;
    }
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) ok = false;
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  // Connection: close, so the body runs to EOF; a chunked answer is not expected from /stats.
  const auto end = resp.find("\r\n\r\n");
  if (!ok || end == std::string::npos || resp.compare(0, 9, "HTTP/1.1 ") != 0 || resp[9] != '2')
    return std::nullopt;
  return resp.substr(end + 4);
}

bool ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (log >= 0) ::close(log);
    return false;
  }
  if (pid == 0) {
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    ::execv(args[0], args.data());
    _exit(127);
  }
  if (log >= 0) ::close(log);
  pid_ = pid;
  return true;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::terminate(int grace_ms) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
  while (Clock::now() < deadline) {
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  pid_ = -1;
  return status_;
}

std::string ChildProcess::describe_exit() {
  if (running()) return "running";
  if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
  if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
  return "ended";
}

ChildProcess::~ChildProcess() { terminate(); }

}  // namespace cachefwd::load
