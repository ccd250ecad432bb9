#include "http/request_parser.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/strings.h"

namespace cachefwd::http {

namespace {

// A chunk-size line with extensions longer than this is abuse, not a real client (RFC 9112 §7.1.1
// lets a server limit extension length).
constexpr std::size_t kMaxChunkLine = 4096;

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// field-value characters (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB; no other control.
bool is_field_value(std::string_view s) {
  for (unsigned char c : s)
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
  return true;
}

// request-target characters: visible ASCII only. Whitespace or controls inside it (a tab, a NUL)
// would be read differently by the next parser.
bool is_target(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

// Host = uri-host [ ":" port ] (RFC 9110 §7.2), checked loosely: the characters of reg-name,
// IP-literal and port, which excludes whitespace, '/', '@', '?' and '#'.
bool is_host_value(std::string_view s) {
  for (unsigned char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::strchr("-._~!$&'()*+,;=%:[]", c) != nullptr;
    if (!ok || c == 0) return false;
  }
  return true;
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1),
// chunk-ext-val = token / quoted-string. We ignore extensions but only when they parse.
bool valid_chunk_ext(std::string_view s) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && is_ws(s[i])) ++i;
  };
  auto token = [&] {
    std::size_t start = i;
    while (i < s.size() && is_tchar(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  while (true) {
    std::size_t ws_start = i;
    skip_ws();
    if (i == s.size()) return i == ws_start;  // BWS only ever precedes ';' or '='
    if (s[i] != ';') return false;
    ++i;
    skip_ws();
    if (!token()) return false;
    skip_ws();
    if (i < s.size() && s[i] == '=') {
      ++i;
      skip_ws();
      if (i < s.size() && s[i] == '"') {
        ++i;
        bool closed = false;
        while (i < s.size()) {
          auto c = static_cast<unsigned char>(s[i]);
          if (c == '"') {
            closed = true;
            ++i;
            break;
          }
          if (c == '\\') {
            ++i;
            if (i == s.size()) return false;
            c = static_cast<unsigned char>(s[i]);
            if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
            ++i;
            continue;
          }
          if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
          ++i;
        }
        if (!closed) return false;
      } else if (!token()) {
        return false;
      }
    }
  }
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

RequestParser::Phase RequestParser::phase() const {
  if (!started_) return Phase::idle;
  return head_done_ ? Phase::body : Phase::head;
}

void RequestParser::fail(int status, const char* reason) {
  state_ = State::error;
  error_status_ = status;
  error_reason_ = reason;
}

bool RequestParser::take_line(const char* data, std::size_t len, std::size_t& pos, std::size_t budget) {
  const void* lf = std::memchr(data + pos, '\n', len - pos);
  std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - data) : len;
  std::size_t old = line_.size();
  line_.append(data + pos, end - pos);
  pos = lf ? end + 1 : len;
  if (line_.size() + (lf ? 1 : 0) > budget) {
    bool in_head = step_ == Step::request_line || step_ == Step::fields || step_ == Step::trailer;
    fail(in_head ? 431 : 400, in_head ? "request header section too large" : "chunk size line too long");
    return false;
  }
  // RFC 9112 §2.2: CRLF ends a line. A bare LF or a bare CR is where two parsers split a message
  // differently, so both are refused rather than tolerated.
  // Only the new bytes (and the CR that may have ended the last piece) are scanned, so a line
  // fed a byte at a time stays linear.
  auto cr = line_.find('\r', old ? old - 1 : 0);
  if (cr != std::string::npos && cr + 1 < line_.size()) {
    fail(400, "bare CR in request");
    return false;
  }
  if (!lf) return false;
  if (line_.empty() || line_.back() != '\r') {
    fail(400, "bare LF in request");
    return false;
  }
  line_.pop_back();
  return true;
}

std::size_t RequestParser::feed(const char* data, std::size_t len) {
  if (state_ != State::need_more || len == 0) return 0;
  started_ = true;
  std::size_t pos = 0;
  while (pos < len && state_ == State::need_more) {
    switch (step_) {
      case Step::request_line:
      case Step::fields: {
        if (!take_line(data, len, pos, limits_.max_header_bytes - head_bytes_)) break;
        head_bytes_ += line_.size() + 2;
        if (step_ == Step::request_line)
          on_request_line();
        else
          on_field_line(false);
        line_.clear();
        break;
      }
      case Step::body_length: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - pos));
        req_.body.append(data + pos, n);
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) step_ = Step::done;
        break;
      }
      case Step::chunk_size:
        if (!take_line(data, len, pos, kMaxChunkLine)) break;
        on_chunk_size_line();
        line_.clear();
        break;
      case Step::chunk_data: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, len - pos));
        req_.body.append(data + pos, n);
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          step_ = Step::chunk_crlf;
          crlf_seen_ = 0;
        }
        break;
      }
      case Step::chunk_crlf: {
        // Exactly CRLF after chunk data (RFC 9112 §7.1): taking any two bytes here lets a client
        // hide a second request inside what we forward as one body.
        char want = crlf_seen_ == 0 ? '\r' : '\n';
        if (data[pos] != want) {
          fail(400, "chunk data not followed by CRLF");
          break;
        }
        ++pos;
        if (++crlf_seen_ == 2) step_ = Step::chunk_size;
        break;
      }
      case Step::trailer: {
        if (!take_line(data, len, pos, limits_.max_header_bytes - trailer_bytes_)) break;
        trailer_bytes_ += line_.size() + 2;
        if (line_.empty())
          step_ = Step::done;
        else
          on_field_line(true);
        line_.clear();
        break;
      }
      case Step::done:
        break;
    }
    if (step_ == Step::done && state_ == State::need_more) state_ = State::complete;
  }
  return pos;
}

void RequestParser::on_request_line() {
  // RFC 9112 §2.2: empty lines before a request-line are tolerated.
  if (line_.empty()) return;
  std::string_view line = line_;
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail(400, "malformed request line");
    return;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) {
    fail(400, "invalid method");
    return;
  }
  if (!is_target(target)) {
    fail(400, "invalid character in request target");
    return;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) || version[6] != '.' ||
      !digit(version[7])) {
    fail(400, "invalid HTTP version");
    return;
  }
  req_.method = std::string(method);
  req_.target = std::string(target);
  req_.version_major = version[5] - '0';
  req_.version_minor = version[7] - '0';
  step_ = Step::fields;
}

void RequestParser::on_field_line(bool trailer) {
  if (!trailer && line_.empty()) {
    on_head_done();
    return;
  }
  std::string_view line = line_;
  if (is_ws(line[0])) {
    // RFC 9112 §5.2: obs-fold is refused rather than unfolded; nobody legitimate sends it.
    fail(400, "obsolete line folding in a header field");
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail(400, "header field without a colon");
    return;
  }
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) {
    // RFC 9112 §5.1: whitespace between the name and the colon MUST be rejected with 400.
    fail(400, "whitespace or invalid character in a header field name");
    return;
  }
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) {
    fail(400, "control character in a header field value");
    return;
  }
  // Trailer fields are checked and dropped: merging them into the header section would let a
  // client add fields (Host, Authorization) after the proxy has made its decisions.
  if (trailer) return;
  req_.headers.add(name, value);
}

void RequestParser::on_head_done() {
  head_done_ = true;
  const Headers& h = req_.headers;
  bool http11 = req_.version_major == 1 && req_.version_minor >= 1;
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1, never two, and a valid value.
  std::size_t hosts = h.count("host");
  if (hosts > 1) return fail(400, "more than one Host header field");
  if (hosts == 0 && http11) return fail(400, "HTTP/1.1 request without Host");
  if (hosts == 1 && !is_host_value(*h.find("host"))) return fail(400, "invalid Host header field");

  // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
  bool close = false, keep_alive = false;
  for (auto& f : h.fields())
    if (iequals(f.name, "connection"))
      for_each_list_element(f.value, [&](std::string_view e) {
        close = close || iequals(e, "close");
        keep_alive = keep_alive || iequals(e, "keep-alive");
      });
  req_.keep_alive = !close && (http11 || keep_alive);

  if (req_.method == "CONNECT") {
    req_.is_connect = true;
    step_ = Step::done;
    return;
  }

  std::size_t te_fields = h.count("transfer-encoding");
  std::size_t cl_fields = h.count("content-length");
  if (te_fields) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (!http11) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    // RFC 9112 §6.3: both framings at once is the classic smuggling ambiguity.
    if (cl_fields) return fail(400, "both Transfer-Encoding and Content-Length");
    std::vector<std::string_view> codings;
    for (auto& f : h.fields())
      if (iequals(f.name, "transfer-encoding"))
        for_each_list_element(f.value, [&](std::string_view e) { codings.push_back(e); });
    if (codings.empty() || !iequals(codings.back(), "chunked"))
      return fail(400, "chunked is not the final transfer coding");
    for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
      if (iequals(codings[i], "chunked")) return fail(400, "chunked applied more than once");
      if (!is_token(codings[i])) return fail(400, "invalid transfer coding");
    }
    // Other codings under chunked we cannot undo, and forwarding the body without them would
    // change it (RFC 9112 §6.1: 501).
    if (codings.size() > 1) return fail(501, "transfer coding not implemented");
    body_expected_ = true;
    step_ = Step::chunk_size;
    return;
  }
  if (cl_fields) {
    // Duplicated or list-valued Content-Length is refused even when the values agree: the
    // recipient may choose to (RFC 9112 §6.3), and it leaves one reading only.
    if (cl_fields > 1) return fail(400, "more than one Content-Length");
    std::string_view v = *h.find("content-length");
    if (v.empty() || v.size() > 18) return fail(400, "invalid Content-Length");
    std::uint64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return fail(400, "invalid Content-Length");
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > limits_.max_body_bytes) return fail(413, "request body too large");
    if (n > 0) {
      body_expected_ = true;
      // No reserve(n): the length is only a claim until the bytes arrive, and many connections
      // each claiming the limit would allocate it many times over.
      remaining_ = n;
      step_ = Step::body_length;
      return;
    }
  }
  step_ = Step::done;
}

void RequestParser::on_chunk_size_line() {
  std::string_view line = line_;
  std::size_t i = 0;
  std::uint64_t size = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (; i < line.size() && hex(line[i]) >= 0; ++i) {
    if (size > (UINT64_MAX >> 4)) return fail(400, "chunk size overflows");
    size = (size << 4) | static_cast<std::uint64_t>(hex(line[i]));
  }
  if (i == 0) return fail(400, "invalid chunk size");
  if (!valid_chunk_ext(line.substr(i))) return fail(400, "invalid chunk extension");
  if (size > limits_.max_body_bytes - req_.body.size()) return fail(413, "request body too large");
  if (size == 0) {
    step_ = Step::trailer;
    return;
  }
  remaining_ = size;
  step_ = Step::chunk_data;
}

Request RequestParser::take() {
  Request out = std::move(req_);
  req_ = Request{};
  line_.clear();
  state_ = State::need_more;
  step_ = Step::request_line;
  started_ = false;
  head_done_ = false;
  body_expected_ = false;
  head_bytes_ = 0;
  trailer_bytes_ = 0;
  remaining_ = 0;
  crlf_seen_ = 0;
  return out;
}

}  // namespace cachefwd::http
