#include "support/http_client.h"
#include "support/test_origin.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace cachefwd::testing {

namespace {
size_t on_body(char* p, size_t s, size_t n, void* ud) {
  static_cast<ClientResponse*>(ud)->body.append(p, s * n);
  return s * n;
}

size_t on_header(char* p, size_t s, size_t n, void* ud) {
  auto* r = static_cast<ClientResponse*>(ud);
  std::string line(p, s * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    r->headers.clear();  // keep the final response's fields only
    return s * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return s * n;
  size_t v = colon + 1;
  while (v < line.size() && line[v] == ' ') ++v;
  r->headers.emplace_back(line.substr(0, colon), line.substr(v));
  return s * n;
}
}  // namespace

std::string ClientResponse::header(const std::string& name) const {
  auto* v = find_field(headers, name);
  return v ? *v : "";
}

bool ClientResponse::has_header(const std::string& name) const { return find_field(headers, name) != nullptr; }

ClientResponse curl_fetch(const ClientRequest& req) {
  ClientResponse r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROXY, req.proxy.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req.timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  if (req.http10) curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_0));
  curl_slist* hs = nullptr;
  for (auto& h : req.headers) hs = curl_slist_append(hs, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  r.curl_code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  return r;
}

ClientResponse proxy_get(const std::string& proxy, const std::string& url, std::vector<std::string> headers) {
  ClientRequest req;
  req.url = url;
  req.proxy = proxy;
  req.headers = std::move(headers);
  return curl_fetch(req);
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string RawConnection::read(int timeout_ms, const std::string& until) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

std::string RawConnection::read_response(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out = read(timeout_ms, "\r\n\r\n");
  auto end = out.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  auto cl = out.find("Content-Length: ");
  std::size_t length = cl == std::string::npos || cl > end ? 0 : std::stoul(out.substr(cl + 16));
  char buf[16384];
  while (out.size() < end + 4 + length) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    pollfd p{fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool RawConnection::closed_by_peer(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms) {
  RawConnection c(port);
  c.send(bytes);
  return c.read(timeout_ms);
}

}  // namespace cachefwd::testing
