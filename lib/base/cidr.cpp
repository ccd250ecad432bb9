#include "base/cidr.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"

namespace cachefwd {

std::optional<Cidr> Cidr::parse(std::string_view text) {
  text = trim_ows(text);
  Cidr c;
  std::string addr(text.substr(0, text.find('/')));
  if (inet_pton(AF_INET, addr.c_str(), c.addr.data()) == 1) {
    c.v6 = false;
    c.prefix = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.addr.data()) == 1) {
    c.v6 = true;
    c.prefix = 128;
  } else {
    return std::nullopt;
  }
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    auto p = parse_decimal(text.substr(slash + 1));
    if (!p || *p > c.prefix) return std::nullopt;
    c.prefix = static_cast<int>(*p);
  }
  return c;
}

namespace {
// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6
// address, or null. `::` and `::1` are compatible-form too, which is what callers want: they
// mean the unspecified and the loopback address in either family.
const std::uint8_t* embedded_ipv4(const std::uint8_t* bytes) {
  static constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::uint8_t compatible_prefix[12] = {};
  if (std::memcmp(bytes, mapped_prefix, 12) == 0 || std::memcmp(bytes, compatible_prefix, 12) == 0)
    return bytes + 12;
  return nullptr;
}
}  // namespace

bool Cidr::contains(const std::uint8_t* bytes, int len) const {
  if (!v6 && len == 16) {
    if (const std::uint8_t* v4 = embedded_ipv4(bytes)) {
      bytes = v4;
      len = 4;
    }
  }
  if ((len == 16) != v6) return false;
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(bytes, addr.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (addr[static_cast<size_t>(full)] & mask);
}

std::optional<std::vector<Cidr>> parse_cidr_list(std::string_view list, std::string* bad) {
  std::vector<Cidr> out;
  size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    auto item = trim_ows(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!item.empty()) {
      auto c = Cidr::parse(item);
      if (!c) {
        if (bad) *bad = std::string(item);
        return std::nullopt;
      }
      out.push_back(*c);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool any_contains(const std::vector<Cidr>& list, const std::uint8_t* bytes, int len) {
  for (auto& c : list)
    if (c.contains(bytes, len)) return true;
  return false;
}

bool is_local_host_address(const std::uint8_t* bytes, int len) {
  if (len == 16) {
    bytes = embedded_ipv4(bytes);
    if (!bytes) return false;  // ::1 and :: are embedded 0.0.0.1 and 0.0.0.0: in 0.0.0.0/8 below
  } else if (len != 4) {
    return false;
  }
  return bytes[0] == 127 || bytes[0] == 0;
}

}  // namespace cachefwd
