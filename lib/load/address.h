#pragma once
// "host:port" / "[v6]:port" handling shared by the origin and the load generator.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachefwd::load {

struct HostPort {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 0;
  // host:port with brackets around an IPv6 literal, as a Host field or URL authority wants it.
  std::string authority() const;
};

// Accepts "127.0.0.1:9000", "[::1]:9000", "localhost:80"; nullopt when the port is missing or bad.
std::optional<HostPort> parse_host_port(std::string_view s);
// Numeric addresses as they are, "localhost" as 127.0.0.1, other names through the resolver
// (getaddrinfo, IPv4 preferred). Callers resolve once per run, never per request: a load
// generator must not spend its time in a resolver. Returns false when the name does not resolve.
bool to_sockaddr(const HostPort& hp, sockaddr_storage& out);

// An http:// URL split for sending: the authority to connect to and the origin-form target.
struct HttpUrl {
  HostPort where;
  std::string target;  // "/path?query", "/" when empty
  std::string url() const { return "http://" + where.authority() + target; }
};
std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace cachefwd::load
