#pragma once
// When a client connection's read side times out, decided from the phase of the request being
// read, with the clock passed in (pure; the proxy owns the timer). Three separate limits, because
// one timer restarted on every byte lets a client that sends a byte a second hold a connection
// forever:
//  - idle: no byte of a next request for this long closes a keep-alive connection quietly;
//  - head: a whole request head must arrive within this long of its first byte (408 after);
//  - body: no body byte for this long (the body may take longer in total) gets 408.
#include <cstdint>
#include <optional>

#include "http/request_parser.h"

namespace cachefwd::http {

struct ReadTimeouts {
  std::int64_t idle_ms = 60'000;
  std::int64_t head_ms = 10'000;
  std::int64_t body_idle_ms = 30'000;
};

class ReadDeadline {
 public:
  explicit ReadDeadline(ReadTimeouts t) : t_(t) {}
  // Called after input was parsed (`progressed`: some bytes arrived) or when the connection
  // starts waiting for input again; `phase` is the parser's phase then. A new phase starts its
  // clock; within the body phase every byte restarts the idle clock; within the head it does not.
  void observe(RequestParser::Phase phase, std::int64_t now_ms, bool progressed);
  // A request is being answered: no read deadline until observe() is called again.
  void suspend() { phase_.reset(); }
  // Absolute time (same clock as observe) at which the connection times out; nullopt when
  // suspended.
  std::optional<std::int64_t> deadline_ms() const;
  bool expired(std::int64_t now_ms) const {
    auto d = deadline_ms();
    return d && now_ms >= *d;
  }

 private:
  ReadTimeouts t_;
  std::optional<RequestParser::Phase> phase_;
  std::int64_t since_ms_ = 0;
};

}  // namespace cachefwd::http
