// --allow-dest / --deny-dest decisions, on host literals and on resolved addresses.
#include "proxy/destination_acl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace cachefwd::proxy {
namespace {

ProxyConfig deny(const char* list) {
  ProxyConfig cfg;
  cfg.deny_dest_cidrs = *parse_cidr_list(list);
  return cfg;
}

bool resolved_allowed(const ProxyConfig& cfg, const char* address) {
  sockaddr_in in{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, address, &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    return destination_address_allowed(cfg, reinterpret_cast<sockaddr*>(&in), false);
  }
  EXPECT_EQ(inet_pton(AF_INET6, address, &in6.sin6_addr), 1) << address;
  in6.sin6_family = AF_INET6;
  return destination_address_allowed(cfg, reinterpret_cast<sockaddr*>(&in6), false);
}

// Every address that reaches the proxy's own host, however it is spelled.
constexpr const char* kLocalSpellings[] = {
    "127.0.0.1", "127.1.2.3",      "0.0.0.0",          "0.0.0.1",     "::",
    "::1",       "::ffff:0.0.0.0", "::ffff:127.0.0.1", "::127.0.0.1", "::ffff:0.1.2.3"};

TEST(DestinationAcl, DenyingIpv4LoopbackDeniesEveryLocalSpelling) {
  auto cfg = deny("127.0.0.0/8");
  for (const char* a : kLocalSpellings) {
    EXPECT_EQ(check_destination_host(cfg, a), DestVerdict::deny) << a;
    EXPECT_FALSE(resolved_allowed(cfg, a)) << a;
  }
}

TEST(DestinationAcl, DenyingIpv6LoopbackDeniesEveryLocalSpelling) {
  auto cfg = deny("::1");
  for (const char* a : kLocalSpellings) EXPECT_FALSE(resolved_allowed(cfg, a)) << a;
}

TEST(DestinationAcl, OtherAddressesAreUnaffected) {
  auto cfg = deny("127.0.0.0/8");
  for (const char* a : {"10.0.0.1", "1.0.0.0", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1"}) {
    EXPECT_EQ(check_destination_host(cfg, a), DestVerdict::allow) << a;
    EXPECT_TRUE(resolved_allowed(cfg, a)) << a;
  }
  // A deny list that names no local address leaves the local host alone.
  auto other = deny("10.0.0.0/8");
  EXPECT_TRUE(resolved_allowed(other, "0.0.0.0"));
  EXPECT_FALSE(resolved_allowed(other, "::10.0.0.1"));
}

TEST(DestinationAcl, NamesAreCheckedOnceResolved) {
  auto cfg = deny("127.0.0.0/8");
  EXPECT_EQ(check_destination_host(cfg, "0"), DestVerdict::check_address);
  EXPECT_EQ(check_destination_host(cfg, "example.test"), DestVerdict::check_address);
}

}  // namespace
}  // namespace cachefwd::proxy
