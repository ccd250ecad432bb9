#pragma once
// Address ranges for access control (--allow, --allow-purge, destination rules).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd {

struct Cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  int prefix = 0;

  // "127.0.0.0/8", "::1", "10.1.2.3" (a bare address is a /32 or /128).
  static std::optional<Cidr> parse(std::string_view text);
  // `bytes` is 4 (IPv4) or 16 (IPv6) bytes in network order. An IPv6 address that embeds an
  // IPv4 one, mapped (::ffff:a.b.c.d) or compatible (::a.b.c.d), matches IPv4 ranges.
  bool contains(const std::uint8_t* bytes, int len) const;
};

// Parses "a,b,c"; nullopt (and `bad` set to the offending element) on any invalid element.
std::optional<std::vector<Cidr>> parse_cidr_list(std::string_view list, std::string* bad = nullptr);
bool any_contains(const std::vector<Cidr>& list, const std::uint8_t* bytes, int len);

// Whether connecting to this address reaches the local host: loopback (127.0.0.0/8, ::1), and the
// addresses the kernel also routes there, 0.0.0.0/8 and :: (unspecified), in any IPv6 form that
// embeds them. For destination rules these are all one host, whichever spelling a client uses.
bool is_local_host_address(const std::uint8_t* bytes, int len);

}  // namespace cachefwd
