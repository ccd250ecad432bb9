// Access-log reading for `cachefwd replay` (cachefwd combined+cache and JSON lines, nginx/Apache
// common and combined) on hostile lines: the line parser alone, then the streaming reader.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "metrics/access_log.h"
#include "replay/http_trace.h"
#include "replay/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
  if (auto record = metrics::parse_access_log_line(first_line)) {
    // What we read we can write again, in both formats, without fault.
    (void)metrics::format_access_log_line(*record, metrics::AccessLogFormat::combined);
    (void)metrics::format_access_log_line(*record, metrics::AccessLogFormat::json);
  }
  (void)replay::parse_iso8601(first_line);
  (void)replay::parse_access_log_time(first_line);
  std::istringstream in(text);
  auto reader = replay::make_http_reader(replay::HttpFormat::kLog, in);
  replay::HttpRequest r;
  std::uint64_t last_line = 0;
  while (reader->next(r)) {
    if (r.line <= last_line) __builtin_trap();  // lines are numbered in order
    last_line = r.line;
    (void)replay::embedded_origin_target(r);
  }
  if (reader->errors().bad + reader->filtered() > reader->position()) __builtin_trap();
  return 0;
}
