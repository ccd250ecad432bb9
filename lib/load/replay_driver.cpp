#include "load/replay_driver.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

#include "base/strings.h"
#include "http/cache_status.h"

namespace cachefwd::load {

namespace {

using Clock = std::chrono::steady_clock;

struct Response {
  int status = 0;
  std::uint64_t body = 0;
  bool has_cache_status = false;
  bool hit = false;
  bool close = false;
  std::string cache_status;
};

class Conn {
 public:
  Conn(const sockaddr_storage& addr, double timeout_s) : addr_(addr), timeout_s_(timeout_s) {}
  ~Conn() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  // 0 on success, else an error class: 1 connect, 2 timeout, 3 io, 4 parse.
  int exchange(const std::string& request, bool head, Response& out, bool& reconnected) {
    reconnected = false;
    if (fd_ < 0) {
      if (!connect()) return 1;
      reconnected = ever_connected_;
      ever_connected_ = true;
    }
    if (!send_all(request)) {
      // A keep-alive connection the server closed while idle: retry once on a new one.
      reset();
      if (!connect()) return 1;
      reconnected = true;
      if (!send_all(request)) return io_error();
    }
    const int rc = read_response(head, out);
    if (rc != 0 || out.close) reset();
    return rc;
  }

 private:
  sockaddr_storage addr_;
  double timeout_s_;
  int fd_ = -1;
  std::string buf_;
  bool timed_out_ = false;
  bool ever_connected_ = false;

  int io_error() {
    const int rc = timed_out_ ? 2 : 3;
    reset();
    return rc;
  }
  bool connect() {
    fd_ = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_s_);
    tv.tv_usec = static_cast<suseconds_t>((timeout_s_ - static_cast<double>(tv.tv_sec)) * 1e6);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const socklen_t len = addr_.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr_), len) != 0) {
      reset();
      return false;
    }
    return true;
  }
  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return false;
      }
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Appends more bytes to buf_; false at EOF or on error (timed_out_ says which).
  bool fill() {
    char tmp[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      timed_out_ = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      return false;
    }
  }
  // Consumes exactly n body bytes (from buf_ first).
  bool skip(std::uint64_t n) {
    while (buf_.size() < n) {
      n -= buf_.size();
      buf_.clear();
      if (!fill()) return false;
    }
    buf_.erase(0, n);
    return true;
  }
  bool read_line(std::string& line) {
    for (;;) {
      const size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return true;
      }
      if (!fill()) return false;
    }
  }
  int read_response(bool head, Response& out) {
    timed_out_ = false;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > (1u << 20)) return 4;
      if (!fill()) return io_error();
    }
    const std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    if (head_text.size() < 12 || head_text.compare(0, 5, "HTTP/") != 0) return 4;
    const auto status = parse_decimal(std::string_view(head_text).substr(9, 3));
    if (!status) return 4;
    out.status = static_cast<int>(*status);
    std::optional<std::uint64_t> length;
    bool chunked = false;
    std::optional<std::string> cache_status, x_cache;
    size_t pos = head_text.find("\r\n");
    const bool http10 = head_text.compare(0, 8, "HTTP/1.0") == 0;
    out.close = http10;
    while (pos != std::string::npos) {
      const size_t next = head_text.find("\r\n", pos + 2);
      const std::string_view line = std::string_view(head_text).substr(
          pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      pos = next;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const auto name = line.substr(0, colon);
      const auto value = trim_ows(line.substr(colon + 1));
      if (iequals(name, "content-length")) {
        if (auto v = parse_decimal(value); v && *v >= 0) length = static_cast<std::uint64_t>(*v);
      } else if (iequals(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (iequals(name, "connection")) {
        if (iequals(value, "close")) out.close = true;
        if (iequals(value, "keep-alive")) out.close = false;
      } else if (iequals(name, "cache-status") || iequals(name, "x-cache")) {
        // Field lines of one name are one comma-separated list (RFC 9110 §5.3).
        auto& field = iequals(name, "cache-status") ? cache_status : x_cache;
        field = field ? *field + ", " + std::string(value) : std::string(value);
      }
    }
    const auto outcome = http::cache_outcome(cache_status, x_cache);
    out.has_cache_status = outcome != http::CacheOutcome::unknown;
    out.hit = outcome == http::CacheOutcome::hit;
    if (cache_status) out.cache_status = *cache_status;
    // RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304.
    if (head || out.status == 204 || out.status == 304 || out.status < 200) return 0;
    if (chunked) {
      std::string line;
      for (;;) {
        if (!read_line(line)) return io_error();
        std::uint64_t n = 0;
        size_t k = 0;
        for (; k < line.size(); ++k) {
          const char c = line[k];
          int d = (c >= '0' && c <= '9')   ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
          if (d < 0) break;
          // A chunk size that does not fit 64 bits is a broken response, not a wrapped count.
          if (n > (UINT64_MAX >> 4)) return 4;
          n = n * 16 + static_cast<std::uint64_t>(d);
        }
        if (k == 0) return 4;
        if (n == 0) {
          // Trailer section up to the empty line.
          for (;;) {
            if (!read_line(line)) return io_error();
            if (line.empty()) return 0;
          }
        }
        if (n > UINT64_MAX - 2) return 4;  // n + 2 (the CRLF after the data) would wrap
        if (!skip(n + 2)) return io_error();
        out.body += n;
      }
    }
    if (length) {
      if (!skip(*length)) return io_error();
      out.body = *length;
      return 0;
    }
    // Delimited by close.
    out.body += buf_.size();
    buf_.clear();
    while (fill()) {
      out.body += buf_.size();
      buf_.clear();
    }
    out.close = true;
    return 0;
  }
};

std::string build_request(const ReplayRequest& r, bool absolute_form) {
  std::string s = r.method;
  s += ' ';
  s += absolute_form ? r.target.url() : r.target.target;
  s += " HTTP/1.1\r\nHost: ";
  s += r.target.where.authority();
  s += "\r\n";
  for (const auto& [n, v] : r.headers) {
    s += n;
    s += ": ";
    s += v;
    s += "\r\n";
  }
  if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") s += "Content-Length: 0\r\n";
  s += "\r\n";
  return s;
}

}  // namespace

ReplayResult run_replay(const std::vector<ReplayRequest>& requests, const ReplayOptions& opts) {
  sockaddr_storage addr{};
  if (!to_sockaddr(opts.connect_to, addr))
    throw std::runtime_error("cannot resolve " + opts.connect_to.authority());
  ReplayResult res;
  res.outcomes.resize(requests.size());
  const int nthreads =
      std::max(1, std::min<int>(opts.connections, static_cast<int>(std::max<size_t>(1, requests.size()))));
  std::atomic<size_t> next{0};
  struct Local {
    LoadResult r;
    std::map<std::string, std::uint64_t> missed;
  };
  std::vector<Local> locals(static_cast<size_t>(nthreads));
  if (opts.rss_pid > 0) res.load.rss_start = read_rss_bytes(opts.rss_pid);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < nthreads; ++t) {
    threads.emplace_back([&, t] {
      Local& L = locals[static_cast<size_t>(t)];
      Conn conn(addr, opts.timeout_s);
      std::string req;
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= requests.size()) break;
        const ReplayRequest& rq = requests[i];
        auto t0 = Clock::now();
        if (opts.paced) {
          const auto due =
              start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rq.due_s));
          if (due > t0)
            std::this_thread::sleep_until(due);
          else if (t0 - due > std::chrono::milliseconds(1))
            ++L.r.late_sends;
          t0 = due;  // latency from the intended time
        }
        req = build_request(rq, opts.absolute_form);
        Response resp;
        bool reconnected = false;
        ++L.r.sent;
        const int rc = conn.exchange(req, rq.method == "HEAD", resp, reconnected);
        if (reconnected) ++L.r.reconnects;
        ReplayOutcome& o = res.outcomes[i];
        if (rc != 0) {
          (rc == 1 ? L.r.err_connect : rc == 2 ? L.r.err_timeout : rc == 3 ? L.r.err_io : L.r.err_parse)++;
          ++L.missed[rq.report_url];
          continue;
        }
        const auto lat = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
        o.status = resp.status;
        o.hit = resp.hit;
        o.classified = resp.has_cache_status;
        o.cache_status = std::move(resp.cache_status);
        o.body_bytes = resp.body;
        ++L.r.responses;
        L.r.latency.record(lat);
        L.r.body_bytes += resp.body;
        if (resp.status < 300)
          ++L.r.status_1xx_2xx;
        else if (resp.status < 400)
          ++L.r.status_3xx;
        else if (resp.status < 500)
          ++L.r.status_4xx;
        else
          ++L.r.status_5xx;
        if (!resp.has_cache_status) {
          ++L.r.unclassified;
        } else if (resp.hit) {
          ++L.r.hits;
          L.r.hit_latency.record(lat);
          L.r.hit_body_bytes += resp.body;
        } else {
          ++L.r.misses;
          L.r.miss_latency.record(lat);
          L.r.miss_body_bytes += resp.body;
        }
        if (!resp.hit) ++L.missed[rq.report_url];
      }
    });
  }
  for (auto& th : threads) th.join();
  res.load.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& L : locals) {
    auto& a = res.load;
    const auto& b = L.r;
    a.responses += b.responses;
    a.latency.merge(b.latency);
    a.hit_latency.merge(b.hit_latency);
    a.miss_latency.merge(b.miss_latency);
    a.hits += b.hits;
    a.misses += b.misses;
    a.unclassified += b.unclassified;
    a.body_bytes += b.body_bytes;
    a.hit_body_bytes += b.hit_body_bytes;
    a.miss_body_bytes += b.miss_body_bytes;
    a.status_1xx_2xx += b.status_1xx_2xx;
    a.status_3xx += b.status_3xx;
    a.status_4xx += b.status_4xx;
    a.status_5xx += b.status_5xx;
    a.err_connect += b.err_connect;
    a.err_timeout += b.err_timeout;
    a.err_io += b.err_io;
    a.err_parse += b.err_parse;
    a.sent += b.sent;
    a.late_sends += b.late_sends;
    a.reconnects += b.reconnects;
    for (const auto& [u, n] : L.missed) res.missed_urls[u] += n;
  }
  if (opts.rss_pid > 0) {
    res.load.rss_end = read_rss_bytes(opts.rss_pid);
    res.load.rss_max = std::max(res.load.rss_start, res.load.rss_end);
  }
  return res;
}

}  // namespace cachefwd::load
