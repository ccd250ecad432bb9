// Access-log reading for `cachefwd replay` (cachefwd combined+cache and JSON lines, nginx/Apache
// common and combined) on hostile input, through the public reader (make_http_reader), whatever
// line parser sits behind it; plus the format sniffer and the two time parsers replay exposes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "replay/http_trace.h"
#include "replay/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
  (void)replay::sniff_http_format(text);
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
