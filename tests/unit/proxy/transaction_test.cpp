// Transactions on a real loop with a real origin on loopback: one connection carries several
// requests, each answered and logged by a Transaction of its own (its route, key, flow outcome and
// response notes), in the order they were sent.
#include "proxy/transaction.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proxy/server.h"
#include "support/raw_origin.h"
#include "unit/proxy/loop_server.h"

namespace cachefwd::proxy {
namespace {
using test::connect_to;
using test::LoopServer;
using test::read_response;

// An origin that answers every request on a keep-alive connection with a cacheable body naming
// the path it was asked for, and counts the requests it served.
class NamingOrigin {
 public:
  NamingOrigin()
      : origin_([this](testing::OriginSocket& s, int) {
          for (;;) {
            std::string head = s.read_head();
            if (head.empty()) return;
            auto sp1 = head.find(' ');
            auto sp2 = head.find(' ', sp1 + 1);
            std::string body = "body of " + head.substr(sp1 + 1, sp2 - sp1 - 1);
            requests_++;
            if (!s.send("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body))
              return;
          }
        }) {}
  std::string url(const std::string& path) const { return origin_.url(path); }
  int requests() const { return requests_.load(); }

 private:
  std::atomic<int> requests_{0};
  testing::RawOrigin origin_;
};

class AccessLogFile {
 public:
  AccessLogFile()
      : path_(std::filesystem::temp_directory_path() /
              ("cachefwd-transaction-test-" + std::to_string(::getpid()) + ".log")) {
    std::filesystem::remove(path_);
  }
  ~AccessLogFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }
  std::vector<nlohmann::json> records() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
  }

 private:
  std::filesystem::path path_;
};

ProxyConfig logging_proxy(const AccessLogFile& log) {
  ProxyConfig cfg;
  cfg.listen = {ListenAddress{"127.0.0.1", 0}};
  cfg.allow = *parse_cidr_list("127.0.0.0/8");
  cfg.access_log = log.path();
  cfg.access_log_format = metrics::AccessLogFormat::json;
  return cfg;
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

// Reads `n` responses with Content-Length bodies that arrive back to back on one connection
// (one recv may carry the end of one and the start of the next).
std::vector<std::string> read_responses(int fd, std::size_t n) {
  std::vector<std::string> out;
  std::string in;
  char buf[4096];
  while (out.size() < n) {
    auto end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto cl = in.find("Content-Length: ");
      std::size_t length = cl == std::string::npos || cl > end ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= end + 4 + length) {
        out.push_back(in.substr(0, end + 4 + length));
        in.erase(0, end + 4 + length);
        continue;
      }
    }
    ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
    if (got <= 0) break;
    in.append(buf, static_cast<std::size_t>(got));
  }
  out.resize(n);
  return out;
}

std::string get(const std::string& url) { return "GET " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"; }

TEST(Transaction, PipelinedRequestsAreEachAnsweredAndLoggedByTheirOwnTransactionInOrder) {
  NamingOrigin origin;
  AccessLogFile log;
  LoopServer server(logging_proxy(log));
  ASSERT_NE(server.port(), 0);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  // One send: a miss that waits on the origin, the same URL again (a hit once the first is
  // stored), and another miss. Each is parsed only once the one before it is done.
  std::string pipeline = get(origin.url("/a")) + get(origin.url("/a")) + get(origin.url("/b"));
  ASSERT_EQ(::send(fd, pipeline.data(), pipeline.size(), 0), static_cast<ssize_t>(pipeline.size()));
  auto answers = read_responses(fd, 3);
  const std::string& first = answers[0];
  const std::string& second = answers[1];
  const std::string& third = answers[2];
  EXPECT_EQ(body_of(first), "body of /a") << first;
  EXPECT_EQ(body_of(second), "body of /a") << second;
  EXPECT_EQ(body_of(third), "body of /b") << third;
  EXPECT_NE(first.find("fwd=uri-miss"), std::string::npos) << first;
  EXPECT_NE(second.find("Cache-Status: cachefwd; hit"), std::string::npos) << second;
  EXPECT_NE(third.find("fwd=uri-miss"), std::string::npos) << third;
  EXPECT_EQ(origin.requests(), 2);
  EXPECT_EQ(server.stop(), 0);
  ::close(fd);

  auto records = log.records();
  ASSERT_EQ(records.size(), 3u);
  const char* targets[] = {"/a", "/a", "/b"};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i]["method"], "GET");
    EXPECT_EQ(records[i]["target"], origin.url(targets[i]));
    EXPECT_EQ(records[i]["status"], 200);
    EXPECT_EQ(records[i]["response_bytes"], std::string("body of ").size() + 2) << records[i].dump();
  }
  // The key is the request's own; only the fetches went upstream.
  EXPECT_EQ(records[0]["key"], records[1]["key"]);
  EXPECT_NE(records[0]["key"], records[2]["key"]);
  EXPECT_TRUE(records[0]["upstream_ms"].is_number()) << records[0].dump();
  EXPECT_TRUE(records[1]["upstream_ms"].is_null()) << records[1].dump();
  EXPECT_EQ(std::string(records[1]["cache_status"]).rfind("hit", 0), 0u) << records[1].dump();
}

TEST(Transaction, AMalformedRequestIsLoggedAsItselfNotAsTheRequestBeforeIt) {
  NamingOrigin origin;
  AccessLogFile log;
  LoopServer server(logging_proxy(log));
  ASSERT_NE(server.port(), 0);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  std::string good = get(origin.url("/a"));
  ASSERT_EQ(::send(fd, good.data(), good.size(), 0), static_cast<ssize_t>(good.size()));
  EXPECT_EQ(body_of(read_response(fd)), "body of /a");
  std::string bad = "NOT A REQUEST\r\n\r\n";
  ASSERT_EQ(::send(fd, bad.data(), bad.size(), 0), static_cast<ssize_t>(bad.size()));
  std::string answer = read_response(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_EQ(server.stop(), 0);
  ::close(fd);

  auto records = log.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["status"], 400);
  EXPECT_NE(records[1]["method"], "GET") << records[1].dump();
  EXPECT_NE(records[1]["target"], origin.url("/a")) << records[1].dump();
  EXPECT_FALSE(records[1].contains("key")) << records[1].dump();
}

}  // namespace
}  // namespace cachefwd::proxy
