#pragma once
// Incremental HTTP/1.x request parser: libhttp-parser 2.9 (Debian's package) behind our own
// interface, so the rest of the code never sees its callbacks and a later switch to llhttp is local.
#include <cstddef>
#include <memory>

#include "http/request.h"

namespace cachefwd::http {

struct ParserLimits {
  std::size_t max_header_bytes = 64 * 1024;        // request line + fields; over it: 431
  std::size_t max_body_bytes = 64 * 1024 * 1024;   // buffered request body; over it: 413
};

class RequestParser {
 public:
  enum class State { need_more, complete, error };

  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Consumes bytes up to and including the end of one request, then stops (pipelined bytes after
  // it are left unconsumed for the next call, after take()). Returns the bytes consumed. For
  // CONNECT, parsing stops after the header section: what follows is tunnel data.
  std::size_t feed(const char* data, std::size_t len);
  State state() const { return state_; }
  // The finished request; the parser is then ready for the next one on the same connection.
  Request take();
  // When state() == error: the status to answer (400, 413, 431) and a short reason.
  int error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }
  // True once any byte of a request has been seen (for idle-close decisions).
  bool mid_request() const { return started_; }

  // Public only so that the parser's C callbacks in the .cpp can name it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  State state_ = State::need_more;
  int error_status_ = 0;
  const char* error_reason_ = "";
  bool started_ = false;
};

}  // namespace cachefwd::http
