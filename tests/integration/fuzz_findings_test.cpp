// Regression tests for what fuzzing (tests/fuzz, scripts/fuzz.sh) found, end to end: the real
// binary, a loopback origin that answers with exactly the bytes the fuzzer had used.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/raw_origin.h"

using namespace cachefwd::testing;

namespace {

// Answers every connection with `response` once the request head has arrived, then closes.
RawOrigin::Script answer_with(std::string response) {
  return [response = std::move(response)](OriginSocket& s, int) {
    s.read_head();
    s.send(response);
    ::shutdown(s.fd(), SHUT_WR);
    s.wait_closed(5000);
  };
}

}  // namespace

// Found by fuzz_client_connection: a final status line whose code is not a number (or below 100)
// made our libcurl header callback refuse the head, and the refusal was reported as "aborted", the
// kind a cancelled fetch gets: the client received nothing and, its request being in progress, was
// not even timed out. It must get a 502 at once, and the proxy must keep serving.
TEST(FuzzFindings, UnparsableUpstreamStatusLineGets502) {
  for (std::string status_line : {"HTTP/bytes */Created", "HTTP/1.1 abc Bad", "HTTP/1.1 099 Low"}) {
    SCOPED_TRACE(status_line);
    RawOrigin origin(answer_with(status_line + "\r\nContent-Length: 0\r\n\r\n"));
    ProxyProcess proxy({"--upstream", origin.url("")});
    for (int i = 0; i < 2; ++i) {
      std::string out =
          raw_exchange(proxy.port(), "GET /p HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 3000);
      EXPECT_EQ(out.rfind("HTTP/1.1 502 ", 0), 0u) << out;
    }
    EXPECT_TRUE(proxy.running());
  }
}
