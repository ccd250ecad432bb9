// CONNECT tunnels end to end: what happens around them when things fail.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/raw_origin.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

// A host name whose lookup fails inside the resolver library: a 64-byte label cannot be encoded
// in a DNS query, so no packet leaves the machine, yet curl's threaded resolver runs (and opens
// and closes its socketpair) exactly as for a name that does not exist.
std::string unresolvable_host() { return std::string(64, 'a') + ".invalid"; }

std::string connect_head(RawConnection& c, const std::string& authority, int timeout_ms = 3000) {
  c.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
  return c.read(timeout_ms, "\r\n\r\n");
}

}  // namespace

TEST(Tunnels, ConnectAfterAFailedLookupIsAnswered) {
  // A failed lookup used to leave a poll on curl's closed resolver socket; the tunnel's socket
  // took the same fd number and the loop spun on it without ever answering the CONNECT.
  RawOrigin origin([](OriginSocket& s, int) { s.wait_closed(5000); });
  std::string port = std::to_string(origin.port());
  ProxyProcess proxy({"--connect-ports", port});
  for (int i = 0; i < 5; ++i) {
    std::string out = raw_exchange(proxy.port(),
                                   "GET http://" + unresolvable_host() + ":" + port +
                                       "/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                   3000);
    ASSERT_EQ(out.rfind("HTTP/1.1 502", 0), 0u) << out;
    RawConnection c(proxy.port());
    std::string head = connect_head(c, "127.0.0.1:" + port, 2000);
    ASSERT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << "try " << i << ": " << head;
  }
}
