#pragma once
// Incremental HTTP/1.1 request parser (RFC 9112), strict where leniency lets two parsers disagree
// on where a message ends. Our own code rather than libhttp-parser: in its non-strict build (the
// one Debian ships) it accepts whitespace before the colon of a field name and still acts on
// `Transfer-Encoding : chunked`, takes any two bytes as the CRLF after chunk data, ignores
// everything in chunk extensions, ends the head on CR plus any byte and merges trailer fields
// into the header section: each of those is a request-smuggling primitive for a proxy.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/request.h"

namespace cachefwd::http {

struct ParserLimits {
  std::size_t max_header_bytes = 64 * 1024;       // request line + fields; over it: 431
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // buffered request body; over it: 413
};

class RequestParser {
 public:
  enum class State { need_more, complete, error };
  // Where the current request is, for the read deadlines: nothing of it yet, in its head, or
  // between the head and the end of its body.
  enum class Phase { idle, head, body };

  explicit RequestParser(ParserLimits limits = {});

  // Consumes bytes up to and including the end of one request, then stops (pipelined bytes after
  // it are left unconsumed for the next call, after take()). Returns the bytes consumed. For
  // CONNECT, parsing stops after the header section: what follows is tunnel data.
  std::size_t feed(const char* data, std::size_t len);
  State state() const { return state_; }
  // The finished request; the parser is then ready for the next one on the same connection.
  Request take();
  // When state() == error: the status to answer (400, 413, 431, 501) and a short reason.
  int error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }
  // True once any byte of a request has been seen (for idle-close decisions).
  bool mid_request() const { return phase() != Phase::idle; }
  Phase phase() const;
  // The head has been parsed (state need_more while the body is still arriving, or complete):
  // method, target, version and fields of the current request are final.
  bool head_complete() const { return head_done_; }
  const Request& head() const { return req_; }
  // The head announced a body (Content-Length > 0 or chunked).
  bool body_expected() const { return body_expected_; }

 private:
  enum class Step { request_line, fields, body_length, chunk_size, chunk_data, chunk_crlf, trailer, done };

  void fail(int status, const char* reason);
  // Appends input up to the next LF to line_; true when a whole CRLF-terminated line is there.
  bool take_line(const char* data, std::size_t len, std::size_t& pos, std::size_t budget);
  void on_request_line();
  void on_field_line(bool trailer);
  void on_head_done();
  void on_chunk_size_line();

  ParserLimits limits_;
  State state_ = State::need_more;
  Step step_ = Step::request_line;
  int error_status_ = 0;
  const char* error_reason_ = "";
  Request req_;
  std::string line_;
  bool started_ = false;
  bool head_done_ = false;
  bool body_expected_ = false;
  std::size_t head_bytes_ = 0;  // request line and fields so far (the 431 budget)
  std::size_t trailer_bytes_ = 0;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
  int crlf_seen_ = 0;            // bytes of the CRLF after chunk data
};

}  // namespace cachefwd::http
