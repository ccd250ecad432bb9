#pragma once
// --allow-dest / --deny-dest: where the proxy may connect on a client's behalf. Host globs are
// decided on the name; CIDR ranges on the address, which for a name is only known once it is
// resolved (the upstream client checks it then, so a name cannot smuggle a private address).
#include <sys/socket.h>

#include <string_view>

#include "proxy/proxy_config.h"

namespace cachefwd::proxy {

enum class DestVerdict { allow, deny, check_address };

DestVerdict check_destination_host(const ProxyConfig& cfg, std::string_view host);
// For check_address verdicts: `name_allowed` is whether an allow glob matched the name (then only
// deny ranges apply to its address).
bool destination_address_allowed(const ProxyConfig& cfg, const sockaddr* address, bool name_allowed);
bool destination_name_allowed(const ProxyConfig& cfg, std::string_view host);
// Whether any destination rule exists at all (the common case: none, nothing to check).
bool has_destination_rules(const ProxyConfig& cfg);

}  // namespace cachefwd::proxy
