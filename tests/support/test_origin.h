#pragma once
// A real HTTP/1.1 origin on 127.0.0.1 for end-to-end tests: a thread with blocking sockets (one
// thread per connection), whose answer each test scripts with a handler, and which records what
// it received so tests can assert what reached the origin and how often.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachefwd::testing {

struct OriginRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string raw;  // the exact bytes received for this request: head, blank line and body
  std::string header(const std::string& name) const;  // first value, case-insensitive; "" when absent
  bool has_header(const std::string& name) const;
};

struct OriginResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;       // send the body with Transfer-Encoding: chunked
  int delay_ms = 0;           // wait before sending anything
  int body_delay_ms = 0;      // wait between the head and the body
  bool close = false;         // close the connection after this response
  bool no_content_length = false;  // close-delimited body
};

using FieldList = std::vector<std::pair<std::string, std::string>>;
// The first value of `name` in `fields` (case-insensitive), or nullptr.
const std::string* find_field(const FieldList& fields, const std::string& name);

// Shorthand for a scripted answer.
OriginResponse respond(std::string body, FieldList headers = {}, int status = 200);
// A 304 with these fields.
OriginResponse not_modified(FieldList headers);

class TestOrigin {
 public:
  using Handler = std::function<OriginResponse(const OriginRequest&)>;
  explicit TestOrigin(Handler handler);
  ~TestOrigin();
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;  // http://127.0.0.1:PORT/path
  int requests() const { return requests_.load(); }
  int requests_for(const std::string& target) const;
  std::vector<OriginRequest> received() const;
  void set_handler(Handler h);

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  mutable std::mutex mu_;
  std::vector<OriginRequest> received_;
  std::atomic<int> requests_{0};
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace cachefwd::testing
