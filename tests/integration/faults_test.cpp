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
  std::vector<std::string> interim;  // heads of the 1xx responses before this one (RFC 9110 §15.2)
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
    while (true) {
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
        if (!more(deadline)) return r;
      r.head = buf_.substr(0, end + 2);
      buf_.erase(0, end + 4);
      r.status = r.head.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(r.head.c_str() + 9) : 0;
      // A client parses any number of interim responses before the final one (RFC 9110 §15.2).
      if (r.status < 100 || r.status > 199) break;
      r.interim.push_back(std::move(r.head));
    }
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
  // Stored, the second request would have been a hit (asked == 1). libcurl may resend a request
  // once on a reused connection it finds closed, so more than 2 is a retry, not a store.
  EXPECT_GE(asked.load(), 2) << "a refused response must not be stored";
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

// ---- The fault suite: misbehaving origins --------------------------------------------------------

namespace {
constexpr const char* kCacheable = "Cache-Control: max-age=600\r\n";

// What a client must never see: a whole-looking response whose body is short, or a claim that
// something was stored.
void expect_failure_visible(const ParsedResponse& r, const std::string& full_body, const std::string& what) {
  if (r.complete && r.status == 200) {
    EXPECT_EQ(r.body, full_body) << what << ": a short body was presented as whole";
  } else if (r.complete) {
    EXPECT_TRUE(r.status == 502 || r.status == 504) << what << ": " << r.head;
  }
  EXPECT_EQ(r.head.find("; stored"), std::string::npos) << what << ": " << r.head;
}

// The second request after a fault must reach the origin again (nothing partial was stored).
struct FaultCase {
  const char* name;
  std::function<void(OriginSocket&)> misbehave;
  int expect_status;  // 0: the head may have been sent, then the connection is cut
};
}  // namespace

TEST(UpstreamFaults, EachFaultIsVisibleAndNothingPartialIsStored) {
  const std::string body(1000, 'b');
  std::vector<FaultCase> cases = {
      {"reset mid-headers", [](OriginSocket& s) { s.send("HTTP/1.1 200 OK\r\nContent-Le"), s.reset(); }, 502},
      {"reset mid-body",
       [&](OriginSocket& s) {
         s.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n" + std::string(kCacheable) + "\r\n" +
                body.substr(0, 300));
         std::this_thread::sleep_for(std::chrono::milliseconds(50));
         s.reset();
       },
       0},
      {"short body then close",
       [&](OriginSocket& s) {
         s.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n" + std::string(kCacheable) + "\r\n" +
                body.substr(0, 300));
       },
       0},
      {"chunked body cut before the last chunk",
       [&](OriginSocket& s) {
         s.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + std::string(kCacheable) +
                "\r\n12c\r\n" + body.substr(0, 300) + "\r\n");
       },
       0},
      {"garbage instead of a response", [](OriginSocket& s) { s.send("SSH-2.0-OpenSSH_9.2\r\n\r\n"); }, 502},
      {"close without a byte", [](OriginSocket&) {}, 502},
      {"storm of 1xx",
       [](OriginSocket& s) {
         std::string storm;
         for (int i = 0; i < 4000; ++i)
           storm += "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n";
         s.send(storm + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
       },
       502},
  };
  for (auto& fc : cases) {
    std::atomic<int> asked{0};
    RawOrigin origin([&](OriginSocket& s, int) {
      while (true) {
        std::string head = s.read_head(3000);
        if (head.empty()) return;
        if (asked++ == 0) {
          fc.misbehave(s);
          return;
        }
        s.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + kCacheable +
               "\r\n" + body);
      }
    });
    ProxyProcess proxy({});
    {
      RawConnection c(proxy.port());
      ResponseReader reader(c);
      c.send(request_line(origin.url("/fault")));
      auto r = reader.next(3000);
      expect_failure_visible(r, body, fc.name);
      if (fc.expect_status) {
        EXPECT_EQ(r.status, fc.expect_status) << fc.name << ": " << r.head << r.body;
      } else {
        EXPECT_FALSE(r.complete && r.status == 200) << fc.name << ": the cut must be visible";
      }
    }
    // Nothing partial was stored: the next request goes upstream and gets the whole body.
    RawConnection c(proxy.port());
    ResponseReader reader(c);
    c.send(request_line(origin.url("/fault")));
    auto again = reader.next(3000);
    EXPECT_EQ(again.status, 200) << fc.name << ": " << again.head;
    EXPECT_EQ(again.body, body) << fc.name;
    EXPECT_EQ(asked.load(), 2) << fc.name << ": the failed response must not have been stored";
    EXPECT_TRUE(proxy.running()) << fc.name;
  }
}

TEST(UpstreamFaults, RefusedConnectionGets502) {
  int refused_port;
  {
    RawOrigin gone([](OriginSocket&, int) {});
    refused_port = gone.port();
  }
  ProxyProcess proxy({});
  auto r = proxy_get(proxy.proxy_url(), "http://127.0.0.1:" + std::to_string(refused_port) + "/x");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.header("Cache-Status").find("stored"), std::string::npos) << r.header("Cache-Status");
}

TEST(UpstreamFaults, StallBeforeTheHeadGets504) {
  RawOrigin origin([](OriginSocket& s, int) {
    s.read_head();
    s.wait_closed(3000);  // never answers
  });
  ProxyProcess proxy({"--upstream-timeout", "300ms"});
  auto start = std::chrono::steady_clock::now();
  auto r = proxy_get(proxy.proxy_url(), origin.url("/stall"));
  EXPECT_EQ(r.status, 504);
  EXPECT_LT(elapsed_ms(start), 2000);
}

TEST(UpstreamFaults, StallMidBodyCutsTheClientConnection) {
  std::atomic<int> asked{0};
  RawOrigin origin([&](OriginSocket& s, int) {
    while (!s.read_head(3000).empty()) {
      if (asked++ == 0) {
        s.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nCache-Control: max-age=600\r\n\r\nfirst half");
        s.wait_closed(3000);
        return;
      }
      s.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: max-age=600\r\n\r\nwhole");
    }
  });
  ProxyProcess proxy({"--upstream-timeout", "300ms"});
  RawConnection c(proxy.port());
  ResponseReader reader(c);
  c.send(request_line(origin.url("/stall-body")));
  auto r = reader.next(3000);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a stalled body must end in a cut connection";
  EXPECT_EQ(r.head.find("; stored"), std::string::npos) << r.head;
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/stall-body")).body, "whole");
  EXPECT_EQ(asked.load(), 2);
}

TEST(UpstreamFaults, AFewInterimResponsesAreForwardedBeforeTheFinalOne) {
  // RFC 9110 §15.2 (issue 11 item 3): the 103 reaches the client; the upstream's 100 does not (the
  // proxy answers Expect itself and never sends Expect upstream, so it answers nothing asked).
  RawOrigin origin(serve_each([](const std::string&) -> std::string {
    return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal";
  }));
  ProxyProcess proxy({});
  RawConnection c(proxy.port());
  ResponseReader reader(c);
  c.send(request_line(origin.url("/hints")));
  auto r = reader.next();
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body, "final");
  ASSERT_EQ(r.interim.size(), 1u);
  EXPECT_EQ(r.interim[0].rfind("HTTP/1.1 103 Early Hints\r\n", 0), 0u) << r.interim[0];
  EXPECT_EQ(r.field("Link"), "") << "1xx fields are not merged into the final response";
}

TEST(UpstreamFaults, StaleIfErrorServesTheStoredCopyWhenTheOriginFails) {
  std::atomic<int> asked{0};
  RawOrigin origin([&](OriginSocket& s, int) {
    while (!s.read_head(3000).empty()) {
      if (asked++ == 0) {
        // Stale at once but storable (it has a validator): the next request revalidates.
        s.send(
            "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nCache-Control: max-age=0\r\nETag: \"v1\"\r\n\r\nstale "
            "ok");
        continue;
      }
      s.reset();  // the origin breaks
      return;
    }
  });
  ProxyProcess proxy({"--stale-if-error", "60s"});
  auto first = proxy_get(proxy.proxy_url(), origin.url("/sie"));
  ASSERT_EQ(first.body, "stale ok");
  auto r = proxy_get(proxy.proxy_url(), origin.url("/sie"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "stale ok");
  EXPECT_NE(r.header("Cache-Status").find("stale-if-error"), std::string::npos) << r.header("Cache-Status");
  // curl retries once on a fresh connection when a reused one dies before any response byte.
  EXPECT_GE(asked.load(), 2);
}

// ---- Client faults ------------------------------------------------------------------------------

TEST(ClientFaults, ClientLeavingMidRequestSendsNothingUpstream) {
  std::atomic<int> asked{0};
  RawOrigin origin(serve_each([&](const std::string&) -> std::string {
    ++asked;
    return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  }));
  ProxyProcess proxy({});
  {
    RawConnection c(proxy.port());
    c.send("POST " + origin.url("/upload") + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
           std::string(100, 'p'));
    c.read(200);
  }
  {
    RawConnection c(proxy.port());
    c.send("GET " + origin.url("/half-head") + " HTTP/1.1\r\nHost: x\r\nX-Part");
    c.read(100);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(origin.connections(), 0) << "an incomplete request must never be forwarded";
  EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/after")).body, "ok");
  EXPECT_EQ(asked.load(), 1);
}

namespace {
// Sends a head and a large body slowly; records whether the proxy closed the connection before
// the whole body went out.
RawOrigin::Script slow_body(std::atomic<int>* cancelled, std::atomic<int>* completed,
                            const std::string& cache_control) {
  return [=](OriginSocket& s, int) {
    if (s.read_head(3000).empty()) return;
    const std::size_t total = 2 << 20;
    if (!s.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) +
                "\r\nCache-Control: " + cache_control + "\r\n\r\n")) {
      ++*cancelled;
      return;
    }
    std::string piece(64 * 1024, 'z');
    for (std::size_t sent = 0; sent < total; sent += piece.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!s.send(piece)) {
        ++*cancelled;
        return;
      }
    }
    ++*completed;
    if (s.wait_closed(300)) return;
  };
}
}  // namespace

TEST(ClientFaults, ClientLeavingMidResponseCancelsTheUpstreamTransfer) {
  for (std::string cache_control : {"no-store", "max-age=600"}) {
    std::atomic<int> cancelled{0}, completed{0};
    RawOrigin origin(slow_body(&cancelled, &completed, cache_control));
    ProxyProcess proxy({});
    {
      RawConnection c(proxy.port());
      c.send(request_line(origin.url("/big")));
      EXPECT_NE(c.read(2000, "\r\n\r\n").find("HTTP/1.1 200"), std::string::npos);
    }
    for (int i = 0; i < 60 && cancelled.load() + completed.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(cancelled.load(), 1) << cache_control << ": the origin should see its connection closed";
    EXPECT_EQ(completed.load(), 0) << cache_control;
  }
}

TEST(ClientFaults, ATransferOthersStillWaitForIsNotCancelled) {
  std::atomic<int> cancelled{0}, completed{0};
  RawOrigin origin(slow_body(&cancelled, &completed, "max-age=600"));
  ProxyProcess proxy({});
  RawConnection stays(proxy.port());
  ResponseReader reader(stays);
  {
    RawConnection leaves(proxy.port());
    leaves.send(request_line(origin.url("/shared")));
    EXPECT_NE(leaves.read(2000, "\r\n\r\n").find("HTTP/1.1 200"), std::string::npos);
    stays.send(request_line(origin.url("/shared")));  // joins the fetch in flight
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }  // the client that started the fetch leaves
  auto r = reader.next(10000);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.field("Cache-Status").find("collapsed"), std::string::npos) << r.head;
  EXPECT_EQ(r.body.size(), std::size_t{2} << 20);
  for (int i = 0; i < 40 && cancelled.load() + completed.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(cancelled.load(), 0) << "the joined client still needed the transfer";
  EXPECT_EQ(completed.load(), 1);
  auto hit = proxy_get(proxy.proxy_url(), origin.url("/shared"));
  EXPECT_EQ(hit.body.size(), std::size_t{2} << 20);
  EXPECT_NE(hit.header("Cache-Status").find("hit"), std::string::npos) << hit.header("Cache-Status");
}
