#pragma once
// Clients for end-to-end tests: libcurl (what users run) and a raw socket for what curl will not
// send (malformed requests, pipelining, exact bytes).
#include <cstdint>
#include <string>
#include <vector>

namespace cachefwd::testing {

struct ClientResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // final response only
  std::string body;
  int curl_code = 0;
  std::string header(const std::string& name) const;  // first value, case-insensitive
  bool has_header(const std::string& name) const;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::string proxy;  // http://127.0.0.1:PORT; empty = direct
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  bool http10 = false;
  long timeout_ms = 10000;
};

ClientResponse curl_fetch(const ClientRequest& req);
// GET `url` through `proxy`.
ClientResponse proxy_get(const std::string& proxy, const std::string& url, std::vector<std::string> headers = {});

// Connects to 127.0.0.1:port, sends `bytes`, and reads until the peer closes, `expect_responses`
// complete responses (counted by status lines with a Content-Length-framed body) or the timeout.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms = 5000);

// A connected raw socket for step-by-step tests.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  bool send(const std::string& bytes);
  // Reads whatever arrives within timeout_ms (stops early once `until` appears, if given).
  std::string read(int timeout_ms, const std::string& until = "");
  // Reads one response: its head and the Content-Length body after it (or what came in time).
  std::string read_response(int timeout_ms);
  bool closed_by_peer(int timeout_ms);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace cachefwd::testing
