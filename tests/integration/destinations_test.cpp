// --deny-dest against every spelling of the proxy's own host, end to end, for GET (name check and
// the resolved address curl connects to) and CONNECT (name check and the address it resolves).
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

std::string get(std::uint16_t proxy_port, const std::string& host, std::uint16_t port) {
  std::string authority = host + ":" + std::to_string(port);
  return raw_exchange(
      proxy_port,
      "GET http://" + authority + "/x HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n",
      3000);
}

std::string connect(std::uint16_t proxy_port, const std::string& host, std::uint16_t port) {
  std::string authority = host + ":" + std::to_string(port);
  RawConnection c(proxy_port);
  c.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
  return c.read(3000, "\r\n\r\n");
}

// Spellings of the local host that reach an origin listening on 127.0.0.1: literal ones are
// refused by the name check, "0" only once resolved.
const char* const kLocalSpellings[] = {"0.0.0.0", "[::ffff:0.0.0.0]", "[::ffff:127.0.0.1]", "0"};

}  // namespace

TEST(Destinations, UnspecifiedAddressesReachTheLocalHostWithoutRules) {
  // The baseline that makes the denial below meaningful: these spellings do reach the origin.
  TestOrigin origin([](const OriginRequest&) { return respond("reached", {{"Cache-Control", "no-store"}}); });
  ProxyProcess proxy({"--connect-ports", std::to_string(origin.port())});
  for (const char* host : kLocalSpellings) {
    std::string out = get(proxy.port(), host, origin.port());
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << host << ": " << out;
  }
  std::string out = connect(proxy.port(), "0.0.0.0", origin.port());
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
}

TEST(Destinations, DenyingLoopbackDeniesUnspecifiedAndMappedForms) {
  TestOrigin origin([](const OriginRequest&) { return respond("reached", {{"Cache-Control", "no-store"}}); });
  ProxyProcess proxy({"--deny-dest", "127.0.0.0/8", "--connect-ports", std::to_string(origin.port())});
  for (const char* host : kLocalSpellings) {
    std::string out = get(proxy.port(), host, origin.port());
    EXPECT_EQ(out.rfind("HTTP/1.1 403", 0), 0u) << "GET " << host << ": " << out;
    out = connect(proxy.port(), host, origin.port());
    EXPECT_EQ(out.rfind("HTTP/1.1 403", 0), 0u) << "CONNECT " << host << ": " << out;
  }
  EXPECT_EQ(origin.requests(), 0);
}
