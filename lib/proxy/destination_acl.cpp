#include "proxy/destination_acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <string>

#include "base/strings.h"
#include "rules/rule.h"

namespace cachefwd::proxy {

namespace {
bool host_matches(const std::vector<std::string>& globs, std::string_view host) {
  for (auto& g : globs)
    if (rules::glob_match(g, host, true)) return true;
  return false;
}

bool address_of(std::string_view host, std::array<std::uint8_t, 16>& bytes, int& len) {
  std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), bytes.data()) == 1) {
    len = 4;
    return true;
  }
  if (inet_pton(AF_INET6, h.c_str(), bytes.data()) == 1) {
    len = 16;
    return true;
  }
  return false;
}

bool address_denied(const std::vector<Cidr>& deny, const std::uint8_t* bytes, int len) {
  if (any_contains(deny, bytes, len)) return true;
  if (!is_local_host_address(bytes, len)) return false;
  // 0.0.0.0, ::, ::ffff:127.0.0.1 and 127.0.0.1 all reach this host: denying one spelling of it
  // denies them all, or `--deny-dest 127.0.0.0/8` is walked around with `http://0.0.0.0/`.
  static constexpr std::uint8_t v4_loopback[4] = {127, 0, 0, 1};
  static constexpr std::uint8_t v4_any[4] = {0, 0, 0, 0};
  static constexpr std::uint8_t v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr std::uint8_t v6_any[16] = {};
  return any_contains(deny, v4_loopback, 4) || any_contains(deny, v4_any, 4) ||
         any_contains(deny, v6_loopback, 16) || any_contains(deny, v6_any, 16);
}

bool address_verdict(const ProxyConfig& cfg, const std::uint8_t* bytes, int len, bool name_allowed) {
  if (address_denied(cfg.deny_dest_cidrs, bytes, len)) return false;
  bool has_allow = !cfg.allow_dest_hosts.empty() || !cfg.allow_dest_cidrs.empty();
  if (!has_allow || name_allowed) return true;
  return any_contains(cfg.allow_dest_cidrs, bytes, len);
}
}  // namespace

bool has_destination_rules(const ProxyConfig& cfg) {
  return !cfg.allow_dest_hosts.empty() || !cfg.deny_dest_hosts.empty() || !cfg.allow_dest_cidrs.empty() ||
         !cfg.deny_dest_cidrs.empty();
}

DestVerdict check_destination_host(const ProxyConfig& cfg, std::string_view host) {
  if (!has_destination_rules(cfg)) return DestVerdict::allow;
  std::string lower = to_lower(host);
  if (host_matches(cfg.deny_dest_hosts, lower)) return DestVerdict::deny;
  bool name_allowed = host_matches(cfg.allow_dest_hosts, lower);
  std::array<std::uint8_t, 16> bytes{};
  int len = 0;
  if (address_of(lower, bytes, len)) return address_verdict(cfg, bytes.data(), len, name_allowed) ? DestVerdict::allow : DestVerdict::deny;
  bool has_allow = !cfg.allow_dest_hosts.empty() || !cfg.allow_dest_cidrs.empty();
  if (has_allow && !name_allowed && cfg.allow_dest_cidrs.empty()) return DestVerdict::deny;
  // A name: its address decides against CIDR rules once resolved.
  if (!cfg.deny_dest_cidrs.empty() || (has_allow && !name_allowed)) return DestVerdict::check_address;
  return DestVerdict::allow;
}

bool destination_name_allowed(const ProxyConfig& cfg, std::string_view host) {
  return host_matches(cfg.allow_dest_hosts, to_lower(host));
}

bool destination_address_allowed(const ProxyConfig& cfg, const sockaddr* address, bool name_allowed) {
  if (address->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return address_verdict(cfg, reinterpret_cast<const std::uint8_t*>(&in->sin_addr), 4, name_allowed);
  }
  if (address->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return address_verdict(cfg, reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr), 16, name_allowed);
  }
  return false;
}

}  // namespace cachefwd::proxy
