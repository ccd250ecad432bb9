#include "http/read_deadline.h"

namespace cachefwd::http {

void ReadDeadline::observe(RequestParser::Phase phase, std::int64_t now_ms, bool progressed) {
  if (phase_ != phase) {
    phase_ = phase;
    since_ms_ = now_ms;
  } else if (progressed && phase == RequestParser::Phase::body) {
    since_ms_ = now_ms;
  }
}

std::optional<std::int64_t> ReadDeadline::deadline_ms() const {
  if (!phase_) return std::nullopt;
  switch (*phase_) {
    case RequestParser::Phase::idle:
      return since_ms_ + t_.idle_ms;
    case RequestParser::Phase::head:
      return since_ms_ + t_.head_ms;
    case RequestParser::Phase::body:
      return since_ms_ + t_.body_idle_ms;
  }
  return std::nullopt;
}

}  // namespace cachefwd::http
