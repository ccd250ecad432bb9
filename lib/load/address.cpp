#include "load/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include "base/strings.h"

namespace cachefwd::load {

std::string HostPort::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon) return std::nullopt;
    hp.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  const auto p = parse_decimal(port);
  if (hp.host.empty() || !p || *p > 65535) return std::nullopt;
  hp.port = static_cast<std::uint16_t>(*p);
  return hp;
}

bool to_sockaddr(const HostPort& hp, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  const std::string host = hp.host == "localhost" ? "127.0.0.1" : hp.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(hp.port);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(hp.port);
    return true;
  }
  // A host name: the first address the resolver gives (IPv4 first for "localhost"-style names
  // that have both). Called once per run, before the loop starts, so blocking here is fine.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return false;
  const addrinfo* pick = res;
  for (const addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  bool ok = false;
  if (pick->ai_family == AF_INET || pick->ai_family == AF_INET6) {
    std::memcpy(&out, pick->ai_addr, pick->ai_addrlen);
    if (pick->ai_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&out)->sin_port = htons(hp.port);
    else
      reinterpret_cast<sockaddr_in6*>(&out)->sin6_port = htons(hp.port);
    ok = true;
  }
  freeaddrinfo(res);
  return ok;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  if (!istarts_with(url, "http://")) return std::nullopt;
  url.remove_prefix(7);
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  HttpUrl out;
  if (auto hp = parse_host_port(authority)) {
    out.where = *hp;
  } else if (!authority.empty() && authority.find(':') == std::string_view::npos) {
    out.where = HostPort{std::string(authority), 80};
  } else if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') {
    out.where = HostPort{std::string(authority.substr(1, authority.size() - 2)), 80};
  } else {
    return std::nullopt;
  }
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  return out;
}

}  // namespace cachefwd::load
