// Upstream misbehaviour end to end: the real binary between a client and a raw loopback origin
// that writes exactly the bytes (or the fault) each test needs. Whatever the origin does, the
// client must see a correctly framed response, a 502/504, or a cut connection; never a short or
// desynchronised body presented as whole, and nothing partial may be stored.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/raw_origin.h"

using namespace cachefwd::testing;

namespace {

struct ParsedResponse {
  int status = 0;
  std::string head;  // status line and fields
  std::string body;  // de-chunked
  bool complete = false;
  std::string field(const std::string& name) const {
    std::string lower_head;
    for (char c : head) lower_head += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\r\n";
    for (char c : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key += ":";
    auto p = lower_head.find(key);
    if (p == std::string::npos) return "";
    auto start = head.find_first_not_of(' ', p + key.size());
    return head.substr(start, head.find("\r\n", start) - start);
  }
  int count(const std::string& name) const {
    int n = 0;
    std::string lower_head, key = "\r\n";
    for (char c : head) lower_head += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char c : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key += ":";
    for (auto p = lower_head.find(key); p != std::string::npos; p = lower_head.find(key, p + 1)) ++n;
    return n;
  }
};

// Reads responses off one client connection exactly as a strict HTTP/1.1 client frames them, so a
// desynchronised stream shows up as a wrong body or a garbled next response.
class ResponseReader {
 public:
  explicit ResponseReader(RawConnection& c) : c_(c) {}
  ParsedResponse next(int timeout_ms = 5000, bool head_request = false) {
    ParsedResponse r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!more(deadline)) return r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    if (r.head.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(r.head.c_str() + 9);
    if (head_request || r.status == 304 || r.status == 204) {
      r.complete = true;
      return r;
    }
    if (r.field("Transfer-Encoding") == "chunked") {
      while (true) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos)
          if (!more(deadline)) return r;
        std::size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2)
          if (!more(deadline)) return r;
        r.body += buf_.substr(eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
      r.complete = true;
    } else if (std::string cl = r.field("Content-Length"); !cl.empty()) {
      std::size_t n = std::stoul(cl);
      while (buf_.size() < n)
        if (!more(deadline)) return r;
      r.body = buf_.substr(0, n);
      buf_.erase(0, n);
      r.complete = true;
    } else {
      while (more(deadline)) {
      }
      r.body = std::move(buf_);
      buf_.clear();
      r.complete = closed_;
    }
    return r;
  }
  // Bytes that arrived beyond the responses read so far.
  const std::string& leftover() const { return buf_; }

 private:
  bool more(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) return false;
    std::string got = c_.read(static_cast<int>(std::min<long>(left, 100)));
    if (got.empty()) {
      if (c_.closed_by_peer(0)) closed_ = true;
      return !closed_ && std::chrono::steady_clock::now() < deadline;
    }
    buf_ += got;
    return true;
  }
  RawConnection& c_;
  std::string buf_;
  bool closed_ = false;
};

std::string request_line(const std::string& url) {
  return "GET " + url + " HTTP/1.1\r\nHost: origin\r\n\r\n";
}

// Serves every request on a connection with `reply(target)` until the proxy closes it.
RawOrigin::Script serve_each(std::function<std::string(const std::string& target)> reply) {
  return [reply](OriginSocket& s, int) {
    while (true) {
      std::string head = s.read_head(3000);
      if (head.empty()) return;
      auto sp1 = head.find(' ');
      std::string target = head.substr(sp1 + 1, head.find(' ', sp1 + 1) - sp1 - 1);
      if (!s.send(reply(target))) return;
    }
  };
}

}  // namespace

TEST(UpstreamFraming, ChunkedWithContentLengthIsReframedAndTheNextResponseIsIntact) {
  RawOrigin origin(serve_each([](const std::string& target) -> std::string {
    if (target == "/both")
      return "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nCache-Control: "
             "no-store\r\n\r\n"
             "5\r\nhello\r\n0\r\n\r\n";
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: no-store\r\n\r\nworld";
  }));
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  ResponseReader reader(c);
  c.send(request_line(origin.url("/both")));
  auto first = reader.next();
  ASSERT_TRUE(first.complete) << first.head;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello");
  EXPECT_EQ(first.count("Content-Length") + first.count("Transfer-Encoding"), 1)
      << "exactly one framing field must reach the client:\n"
      << first.head;
  c.send(request_line(origin.url("/next")));
  auto second = reader.next();
  ASSERT_TRUE(second.complete) << second.head;
  EXPECT_EQ(second.status, 200) << second.head;
  EXPECT_EQ(second.body, "world");
  EXPECT_EQ(reader.leftover(), "");
}

TEST(UpstreamFraming, DifferentContentLengthsGet502AndAreNeverStored) {
  std::atomic<int> asked{0};
  RawOrigin origin(serve_each([&](const std::string& target) -> std::string {
    ++asked;
    if (target == "/conflict")
      return "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\nCache-Control: "
             "max-age=600\r\n\r\nhello";
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  }));
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  ResponseReader reader(c);
  for (int i = 0; i < 2; ++i) {
    c.send(request_line(origin.url("/conflict")));
    auto r = reader.next();
    ASSERT_TRUE(r.complete) << r.head;
    EXPECT_EQ(r.status, 502) << r.head << r.body;
    EXPECT_NE(r.body.find("Content-Length"), std::string::npos) << r.body;
    EXPECT_EQ(r.field("Cache-Status").find("stored"), std::string::npos) << r.head;
  }
  EXPECT_EQ(asked.load(), 2) << "a refused response must not be stored";
  // The client connection is still in step.
  c.send(request_line(origin.url("/after")));
  auto after = reader.next();
  EXPECT_EQ(after.status, 200) << after.head;
  EXPECT_EQ(after.body, "ok");
}

TEST(UpstreamFraming, InvalidContentLengthGets502) {
  for (std::string value : {"abc", "-5", "5 5", ""}) {
    RawOrigin origin(serve_each([&](const std::string&) -> std::string {
      return "HTTP/1.1 200 OK\r\nContent-Length: " + value + "\r\n\r\nhello";
    }));
    ProxyProcess proxy({});
    auto r = proxy_get(proxy.proxy_url(), origin.url("/bad"));
    EXPECT_EQ(r.status, 502) << "'" << value << "': " << r.body;
  }
}

TEST(UpstreamFraming, IdenticalContentLengthsAreCollapsed) {
  RawOrigin origin(serve_each([](const std::string&) -> std::string {
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\nCache-Control: "
           "max-age=600\r\n\r\nhello";
  }));
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  ResponseReader reader(c);
  for (int i = 0; i < 2; ++i) {
    c.send(request_line(origin.url("/same")));
    auto r = reader.next();
    ASSERT_TRUE(r.complete) << r.head;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.count("Content-Length"), 1) << r.head;
  }
  EXPECT_EQ(origin.connections(), 1);
}

TEST(UpstreamFraming, UnsupportedTransferCodingGets502) {
  RawOrigin origin(serve_each([](const std::string&) -> std::string {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  }));
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/gz"));
  EXPECT_EQ(r.status, 502) << r.body;
}

namespace {
std::string many_header_lines(std::size_t total) {
  std::string out;
  for (int i = 0; out.size() < total; ++i)
    out += "X-Filler-" + std::to_string(i) + ": " + std::string(480, 'h') + "\r\n";
  return out;
}
}  // namespace

TEST(UpstreamLimits, HugeHeaderSectionGets502WithAClearMessage) {
  RawOrigin origin(serve_each([](const std::string& target) -> std::string {
    std::string fields = target == "/one-line" ? "X-Big: " + std::string(200 * 1024, 'a') + "\r\n"
                                               : many_header_lines(200 * 1024);
    return "HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 2\r\n\r\nok";
  }));
  ProxyProcess proxy({});
  for (const char* path : {"/one-line", "/many-lines"}) {
    auto r = proxy_get(proxy.proxy_url(), origin.url(path));
    EXPECT_EQ(r.status, 502) << path;
    EXPECT_EQ(r.body.find("Out of memory"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("upstream response head"), std::string::npos) << r.body;
  }
  EXPECT_TRUE(proxy.running());
}

TEST(UpstreamLimits, MaxUpstreamHeaderSizeIsConfigurable) {
  RawOrigin origin(serve_each([](const std::string&) -> std::string {
    return "HTTP/1.1 200 OK\r\n" + many_header_lines(20 * 1024) + "Content-Length: 2\r\n\r\nok";
  }));
  {
    ProxyProcess proxy({});  // 64 KiB by default
    EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/20k")).status, 200);
  }
  ProxyProcess proxy({"--max-upstream-header-size", "16KiB"});
  auto r = proxy_get(proxy.proxy_url(), origin.url("/20k"));
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("--max-upstream-header-size"), std::string::npos) << r.body;
}

namespace {
// Starts the proxy with the slow resolver preloaded: names under .slow-dns.test hang for `ms`.
struct SlowDnsProxy {
  explicit SlowDnsProxy(int ms, std::vector<std::string> flags) : proxy((set_env(ms), std::move(flags))) {
    unsetenv("LD_PRELOAD");
    unsetenv("SLOW_RESOLVER_MS");
    if (had_asan)
      setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
    else
      unsetenv("ASAN_OPTIONS");
  }
  void set_env(int ms) {
    const char* asan = std::getenv("ASAN_OPTIONS");
    had_asan = asan != nullptr;
    asan_options = asan ? asan : "";
    setenv("LD_PRELOAD", CACHEFWD_SLOW_RESOLVER, 1);
    setenv("SLOW_RESOLVER_MS", std::to_string(ms).c_str(), 1);
    // ASan wants its runtime first in the library list; the shim is not a sanitizer runtime.
    setenv("ASAN_OPTIONS", (asan_options + (had_asan ? ":" : "") + "verify_asan_link_order=0").c_str(), 1);
  }
  bool had_asan = false;
  std::string asan_options;
  ProxyProcess proxy;
};

long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since)
          .count());
}
}  // namespace

TEST(SlowDns, ClientLeavingDuringALookupDoesNotStallTheProxy) {
  RawOrigin origin(serve_each([](const std::string&) -> std::string {
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: no-store\r\n\r\nok";
  }));
  SlowDnsProxy p(3000, {});
  {
    RawConnection gone(p.proxy.port());
    gone.send("GET http://origin.slow-dns.test/ HTTP/1.1\r\nHost: origin.slow-dns.test\r\n\r\n");
    gone.read(300);
  }  // cancels the fetch while its lookup is still running
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  auto r = proxy_get(p.proxy.proxy_url(), origin.url("/other"));
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(elapsed_ms(start), 1000) << "the loop waited for the abandoned lookup";
}

TEST(SlowDns, SigtermExitsWithinTheDrainTimeoutWhileLookupsHang) {
  SlowDnsProxy p(6000, {"--drain-timeout", "1s", "--connect-ports", "443"});
  RawConnection get(p.proxy.port());
  get.send("GET http://origin.slow-dns.test/ HTTP/1.1\r\nHost: origin.slow-dns.test\r\n\r\n");
  RawConnection tunnel(p.proxy.port());
  tunnel.send("CONNECT tls.slow-dns.test:443 HTTP/1.1\r\nHost: tls.slow-dns.test:443\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  p.proxy.signal(SIGTERM);
  EXPECT_EQ(p.proxy.wait_exit(8000), 0);
  EXPECT_LT(elapsed_ms(start), 1800) << "--drain-timeout 1s";
}
