#include "support/test_origin.h"

#include "support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace cachefwd::testing {

namespace {
bool ieq(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

const std::string* find_field(const FieldList& fields, const std::string& name) {
  for (auto& [n, v] : fields)
    if (ieq(n, name)) return &v;
  return nullptr;
}

OriginResponse respond(std::string body, FieldList headers, int status) {
  OriginResponse r;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.status = status;
  return r;
}

OriginResponse not_modified(FieldList headers) { return respond("", std::move(headers), 304); }

std::string OriginRequest::header(const std::string& name) const {
  auto* v = find_field(headers, name);
  return v ? *v : "";
}

bool OriginRequest::has_header(const std::string& name) const { return find_field(headers, name) != nullptr; }

TestOrigin::TestOrigin(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = listen_on_loopback(128, &port_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestOrigin::~TestOrigin() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

std::string TestOrigin::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

int TestOrigin::requests_for(const std::string& target) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& r : received_)
    if (r.target == target) ++n;
  return n;
}

std::vector<OriginRequest> TestOrigin::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

void TestOrigin::set_handler(Handler h) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(h);
}

void TestOrigin::accept_loop() {
  while (!stopping_) {
    int fd = accept_within(listen_fd_, 100);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    client_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void TestOrigin::serve(int fd) {
  std::string buf;
  char tmp[16384];
  auto read_more = [&]() -> bool {
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  };
  while (!stopping_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!read_more()) goto done;
    {
      OriginRequest req;
      std::string head = buf.substr(0, end);
      req.raw = buf.substr(0, end + 4);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string line = head.substr(0, line_end);
      size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
      req.method = line.substr(0, sp1);
      req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string h = head.substr(pos, e - pos);
        size_t colon = h.find(':');
        if (colon != std::string::npos) {
          size_t v = colon + 1;
          while (v < h.size() && h[v] == ' ') ++v;
          req.headers.emplace_back(h.substr(0, colon), h.substr(v));
        }
        pos = e + 2;
      }
      size_t content_length = req.has_header("content-length") ? std::stoul(req.header("content-length")) : 0;
      while (buf.size() < content_length)
        if (!read_more()) goto done;
      req.body = buf.substr(0, content_length);
      req.raw += req.body;
      buf.erase(0, content_length);

      Handler h;
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(req);
        h = handler_;
      }
      requests_++;
      OriginResponse resp = h(req);
      if (resp.delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(resp.delay_ms));
      std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
      for (auto& [n, v] : resp.headers) out += n + ": " + v + "\r\n";
      bool bodyless = req.method == "HEAD" || resp.status == 204 || resp.status == 304;
      if (resp.chunked) out += "Transfer-Encoding: chunked\r\n";
      else if (!resp.no_content_length) out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
      if (resp.close || resp.no_content_length) out += "Connection: close\r\n";
      out += "\r\n";
      if (!send_all(fd, out)) goto done;
      if (resp.body_delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(resp.body_delay_ms));
      if (!bodyless) {
        std::string body;
        if (resp.chunked) {
          // Two chunks, so the proxy sees a body arrive in pieces.
          size_t half = resp.body.size() / 2;
          char hex[32];
          if (half) {
            snprintf(hex, sizeof(hex), "%zx\r\n", half);
            body += hex + resp.body.substr(0, half) + "\r\n";
          }
          if (resp.body.size() - half) {
            snprintf(hex, sizeof(hex), "%zx\r\n", resp.body.size() - half);
            body += hex + resp.body.substr(half) + "\r\n";
          }
          body += "0\r\n\r\n";
        } else {
          body = resp.body;
        }
        if (!send_all(fd, body)) goto done;
      }
      if (resp.close || resp.no_content_length) goto done;
    }
  }
done:
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(client_fds_, fd);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace cachefwd::testing
