#pragma once
#include <cstdint>
#include <string>

#include "http/headers.h"

namespace cachefwd::http {

struct Request {
  std::string method;
  std::string target;  // request-target as sent: origin-, absolute- or authority-form
  int version_major = 1;
  int version_minor = 1;
  Headers headers;
  std::string body;  // de-chunked
  bool keep_alive = true;
  bool is_connect = false;
};

// What a request's Expect field asks for (RFC 9110 §10.1.1).
enum class Expectation { none, continue_100, unsupported };
// HTTP/1.0 requests have their Expect ignored, as the RFC requires; any expectation other than
// 100-continue is unsupported (417).
Expectation request_expectation(const Request& req);

// The target URI a request names (RFC 9112 §3.3), split for the key and for forwarding.
struct TargetUri {
  std::string scheme;  // lower case
  std::string host;    // lower case, IPv6 without brackets
  std::uint16_t port = 0;
  std::string path;   // "/" when empty
  std::string query;  // without '?', may be empty
  bool has_query = false;

  // "scheme://host[:port]/path[?query]", the port omitted when it is the scheme's default.
  std::string url() const;
  // host[:port] as it goes into a Host field
  std::string authority() const;
};

// Absolute-form "http://h:p/x?y" or "https://h:p/x?y" (forward proxy, --upstream). Returns false
// on any other scheme or a malformed URI. Clients usually send https through CONNECT; some
// gateways proxy plain requests for https URLs, which we then fetch over TLS ourselves.
bool parse_absolute_target(std::string_view target, TargetUri& out);
// Authority-form "host:port" of CONNECT (RFC 9112 §3.2.3).
bool parse_authority(std::string_view authority, std::string& host, std::uint16_t& port);

}  // namespace cachefwd::http
