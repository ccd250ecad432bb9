#include "support/proxy_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <thread>

namespace cachefwd::testing {

namespace {
pid_t spawn(const std::vector<std::string>& args, int& out_fd, bool merge_stdout) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  // Everything the child needs is built before fork: between fork and exec a child of a
  // multithreaded process may only make async-signal-safe calls (an allocation can deadlock on a
  // lock another thread held at the fork, as it did under ASan).
  std::string bin = CACHEFWD_BINARY;
  // Runs the same end-to-end tests against another build (e.g. the previous release, to show a
  // regression test fails there).
  if (const char* other = std::getenv("CACHEFWD_TEST_BINARY"); other && *other) bin = other;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.push_back(bin.data());
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 2);
    if (merge_stdout) dup2(pipefd[1], 1);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  out_fd = pipefd[0];
  return pid;
}
}  // namespace

ProxyProcess::ProxyProcess(std::vector<std::string> flags) {
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  pid_ = spawn(args, stderr_fd_, false);
  fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::regex re("listening on \\[?[0-9a-f.:]+\\]?:(\\d+)");
  while (std::chrono::steady_clock::now() < deadline) {
    log();
    std::smatch m;
    if (std::regex_search(log_, m, re)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
      return;
    }
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("cachefwd serve did not start: " + log_);
}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0) {
    int rc = terminate();
    EXPECT_EQ(rc, 0) << "cachefwd serve did not exit cleanly on SIGTERM";
  }
  // Under the sanitizer build, a report from the proxy process fails the test that ran it.
  for (const char* marker : {"AddressSanitizer", "LeakSanitizer", "runtime error:"})
    EXPECT_EQ(log_.find(marker), std::string::npos) << "sanitizer report from cachefwd serve:\n" << log_;
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

std::string ProxyProcess::log() {
  char buf[4096];
  ssize_t n;
  while ((n = read(stderr_fd_, buf, sizeof(buf))) > 0) log_.append(buf, static_cast<size_t>(n));
  return log_;
}

bool ProxyProcess::running() {
  if (pid_ <= 0) return false;
  int status;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

int ProxyProcess::terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      log();
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

void ProxyProcess::signal(int signum) {
  if (pid_ > 0) kill(pid_, signum);
}

int ProxyProcess::wait_exit(int timeout_ms) {
  for (int waited = 0; pid_ > 0 && waited < timeout_ms; waited += 10) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      log();
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::uint16_t ProxyProcess::admin_port() {
  if (!wait_for_log("admin API on", 5000)) return 0;
  std::smatch m;
  std::string l = log();
  if (std::regex_search(l, m, std::regex("admin API on [0-9a-f.:\\[\\]]+:(\\d+)"))) return static_cast<std::uint16_t>(std::stoi(m[1]));
  return 0;
}

bool ProxyProcess::wait_for_log(const std::string& text, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int run_cachefwd(const std::vector<std::string>& args, std::string& output) {
  int fd;
  pid_t pid = spawn(args, fd, true);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) output.append(buf, static_cast<size_t>(n));
  close(fd);
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace cachefwd::testing
