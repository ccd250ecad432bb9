#include "http/request_parser.h"

#include <http_parser.h>

#include <cstring>

namespace cachefwd::http {

struct RequestParser::Impl {
  ParserLimits limits;
  http_parser parser{};
  http_parser_settings settings{};
  Request req;
  std::size_t header_bytes = 0;
  bool last_was_value = false;
  bool over_headers = false;
  bool over_body = false;
  bool complete = false;

  static Impl& of(http_parser* p) { return *static_cast<Impl*>(p->data); }

  bool count_header(std::size_t n) {
    header_bytes += n;
    if (header_bytes > limits.max_header_bytes) over_headers = true;
    return over_headers;
  }

  void reset() {
    req = Request{};
    header_bytes = 0;
    last_was_value = false;
  }
};

namespace {

int on_message_begin(http_parser* p) {
  auto& self = RequestParser::Impl::of(p);
  self.reset();
  return 0;
}

int on_url(http_parser* p, const char* at, std::size_t len) {
  auto& self = RequestParser::Impl::of(p);
  if (self.count_header(len)) return 1;
  self.req.target.append(at, len);
  return 0;
}

int on_header_field(http_parser* p, const char* at, std::size_t len) {
  auto& self = RequestParser::Impl::of(p);
  auto& fields = self.req.headers.fields();
  // A name split across reads arrives in several calls: its ": " and CRLF count once, when the
  // field starts, so that the limit does not depend on how the client segmented its bytes.
  bool new_field = self.last_was_value || fields.empty();
  if (self.count_header(len + (new_field ? 4 : 0))) return 1;
  if (new_field) fields.push_back(Header{});
  fields.back().name.append(at, len);
  self.last_was_value = false;
  return 0;
}

int on_header_value(http_parser* p, const char* at, std::size_t len) {
  auto& self = RequestParser::Impl::of(p);
  if (self.count_header(len)) return 1;
  auto& fields = self.req.headers.fields();
  if (fields.empty()) return 1;
  fields.back().value.append(at, len);
  self.last_was_value = true;
  return 0;
}

int on_headers_complete(http_parser* p) {
  auto& self = RequestParser::Impl::of(p);
  self.req.method = http_method_str(static_cast<http_method>(p->method));
  self.req.version_major = p->http_major;
  self.req.version_minor = p->http_minor;
  self.req.is_connect = p->method == HTTP_CONNECT;
  // A declared body larger than we buffer is refused before any of it arrives.
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > self.limits.max_body_bytes) {
    self.over_body = true;
    return -1;  // 1 would mean "no body follows" to http_parser, not an error
  }
  return 0;
}

int on_body(http_parser* p, const char* at, std::size_t len) {
  auto& self = RequestParser::Impl::of(p);
  if (self.req.body.size() + len > self.limits.max_body_bytes) {
    self.over_body = true;
    return 1;
  }
  self.req.body.append(at, len);
  return 0;
}

int on_message_complete(http_parser* p) {
  auto& self = RequestParser::Impl::of(p);
  self.req.keep_alive = http_should_keep_alive(p) != 0;
  self.complete = true;
  // Pipelined requests are answered one at a time: stop here, and leave the rest of the buffer
  // for the next feed() once this response is under way.
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  http_parser_init(&impl_->parser, HTTP_REQUEST);
  impl_->parser.data = impl_.get();
  auto& s = impl_->settings;
  s.on_message_begin = on_message_begin;
  s.on_url = on_url;
  s.on_header_field = on_header_field;
  s.on_header_value = on_header_value;
  s.on_headers_complete = on_headers_complete;
  s.on_body = on_body;
  s.on_message_complete = on_message_complete;
}

RequestParser::~RequestParser() = default;

std::size_t RequestParser::feed(const char* data, std::size_t len) {
  if (state_ != State::need_more || len == 0) return 0;
  started_ = true;
  auto& p = impl_->parser;
  std::size_t n = http_parser_execute(&p, &impl_->settings, data, len);
  auto err = HTTP_PARSER_ERRNO(&p);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (impl_->complete) state_ = State::complete;
    return n;
  }
  state_ = State::error;
  if (impl_->over_headers || err == HPE_HEADER_OVERFLOW) {
    error_status_ = 431;
    error_reason_ = "request header section too large";
  } else if (impl_->over_body) {
    error_status_ = 413;
    error_reason_ = "request body too large";
  } else {
    error_status_ = 400;
    error_reason_ = http_errno_description(err);
  }
  return n;
}

Request RequestParser::take() {
  Request out = std::move(impl_->req);
  impl_->reset();
  impl_->complete = false;
  state_ = State::need_more;
  started_ = false;
  http_parser_pause(&impl_->parser, 0);
  return out;
}

}  // namespace cachefwd::http
