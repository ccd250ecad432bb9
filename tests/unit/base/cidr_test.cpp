#include "base/cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "base/strings.h"

using namespace cachefwd;

namespace {
bool contains(const Cidr& c, const char* addr) {
  std::uint8_t b[16];
  if (inet_pton(AF_INET, addr, b) == 1) return c.contains(b, 4);
  if (inet_pton(AF_INET6, addr, b) == 1) return c.contains(b, 16);
  ADD_FAILURE() << addr;
  return false;
}
int address_bytes(const char* addr, std::uint8_t* b) {
  if (inet_pton(AF_INET, addr, b) == 1) return 4;
  if (inet_pton(AF_INET6, addr, b) == 1) return 16;
  ADD_FAILURE() << addr;
  return 0;
}
}  // namespace

TEST(Cidr, Ipv4RangesAndBareAddresses) {
  auto lo = Cidr::parse("127.0.0.0/8");
  ASSERT_TRUE(lo);
  EXPECT_TRUE(contains(*lo, "127.0.0.1"));
  EXPECT_TRUE(contains(*lo, "127.255.1.2"));
  EXPECT_FALSE(contains(*lo, "128.0.0.1"));
  EXPECT_FALSE(contains(*lo, "::1"));
  auto one = Cidr::parse("10.1.2.3");
  EXPECT_TRUE(contains(*one, "10.1.2.3"));
  EXPECT_FALSE(contains(*one, "10.1.2.4"));
  auto odd = Cidr::parse("172.16.0.0/12");
  EXPECT_TRUE(contains(*odd, "172.31.255.255"));
  EXPECT_FALSE(contains(*odd, "172.32.0.0"));
}

TEST(Cidr, Ipv6AndMappedIpv4) {
  auto v6 = Cidr::parse("::1");
  EXPECT_TRUE(contains(*v6, "::1"));
  EXPECT_FALSE(contains(*v6, "::2"));
  auto lo = Cidr::parse("127.0.0.0/8");
  EXPECT_TRUE(contains(*lo, "::ffff:127.0.0.1")) << "IPv4-mapped clients of a dual-stack listener";
  auto fc = Cidr::parse("fc00::/7");
  EXPECT_TRUE(contains(*fc, "fd12::1"));
  EXPECT_FALSE(contains(*fc, "fe80::1"));
}

TEST(Cidr, InvalidInputIsRejectedAndNamed) {
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("not-an-address"));
  EXPECT_FALSE(Cidr::parse("::1/129"));
  std::string bad;
  EXPECT_FALSE(parse_cidr_list("127.0.0.1, 10.0.0.0/8, nope", &bad));
  EXPECT_EQ(bad, "nope");
  auto ok = parse_cidr_list("127.0.0.0/8, ::1");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 2u);
}

TEST(Strings, SizesAndDurations) {
  EXPECT_EQ(parse_size("256MiB"), 256ULL << 20);
  EXPECT_EQ(parse_size("64KiB"), 64ULL << 10);
  EXPECT_EQ(parse_size("4096"), 4096ULL);
  EXPECT_FALSE(parse_size("12 parsecs"));
  EXPECT_EQ(parse_duration_ms("60"), 60'000);
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("5m"), 300'000);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000);
  EXPECT_FALSE(parse_duration_ms("soon"));
  EXPECT_EQ(parse_duration_ms("1m30s"), 90'000);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1'500);
  EXPECT_EQ(parse_duration_ms("1h30m"), 5'400'000);
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("0.25"), 250);
  EXPECT_FALSE(parse_duration_ms("30s1m"));  // units out of order: a typo
  EXPECT_FALSE(parse_duration_ms("1m30"));   // a bare number after a unit is ambiguous
  EXPECT_FALSE(parse_duration_ms("1..5s"));
  EXPECT_FALSE(parse_duration_ms("-5s"));
  EXPECT_FALSE(parse_duration_ms(""));
  EXPECT_FALSE(parse_decimal("99999999999999999999"));
}

TEST(Cidr, Ipv4CompatibleFormsMatchIpv4Ranges) {
  auto lo = Cidr::parse("127.0.0.0/8");
  EXPECT_TRUE(contains(*lo, "::127.0.0.1"));
  auto ten = Cidr::parse("10.0.0.0/8");
  EXPECT_TRUE(contains(*ten, "::10.1.2.3"));
  EXPECT_TRUE(contains(*ten, "::ffff:10.1.2.3"));
  EXPECT_FALSE(contains(*ten, "64:ff9b::10.1.2.3"));
}

TEST(Cidr, LocalHostAddressesInEverySpelling) {
  for (const char* a : {"127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "::", "::1", "::ffff:127.0.0.1",
                        "::ffff:0.0.0.0", "::127.0.0.1", "::0.0.0.0", "::ffff:0.0.0.1"}) {
    std::uint8_t b[16];
    int len = address_bytes(a, b);
    EXPECT_TRUE(is_local_host_address(b, len)) << a;
  }
  for (const char* a : {"1.0.0.0", "128.0.0.1", "10.0.0.1", "::2:0:0", "::ffff:10.0.0.1", "fe80::1",
                        "1::", "::1:0:0:1", "::ffff:1.0.0.0"}) {
    std::uint8_t b[16];
    int len = address_bytes(a, b);
    EXPECT_FALSE(is_local_host_address(b, len)) << a;
  }
}
