// Every request-trace format of `cachefwd replay` (lib/replay/trace_reader: oracleGeneral,
// scarab, cache2k, AdaptSize, CSV, Apache logs) on hostile input. The first byte picks the format.
// Malformed records are counted, never fatal; the reader always reaches the end.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "replay/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd::replay;
  if (size < 1) return 0;
  static constexpr TraceFormat kFormats[] = {TraceFormat::kOracleGeneral, TraceFormat::kScarab,
                                             TraceFormat::kCache2k,       TraceFormat::kAdaptSize,
                                             TraceFormat::kCsv,           TraceFormat::kApacheLog};
  TraceFormat format = kFormats[data[0] % 6];
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)detect_trace_format(text);
  std::istringstream in(text);
  auto reader = make_trace_reader(format, in);
  Request r;
  std::uint64_t yielded = 0;
  while (reader->next(r)) {
    if (++yielded > size) __builtin_trap();  // more requests than bytes: not reading the input
    if (reader->has_next_access() && r.next_access != kNoNextAccess && r.next_access < 0) __builtin_trap();
  }
  if (reader->errors().bad + reader->filtered() + yielded > reader->position() + 1) __builtin_trap();
  return 0;
}
