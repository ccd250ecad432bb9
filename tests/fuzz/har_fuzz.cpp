// The HAR reader of `cachefwd replay` (make_http_reader(kHar), whatever JSON parser is behind it)
// on hostile documents: bad input is counted, never fatal, and every request it yields is one the
// replay can use.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "replay/http_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd::replay;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)sniff_http_format(text);
  std::istringstream in(text);
  auto reader = make_http_reader(HttpFormat::kHar, in);
  HttpRequest r;
  std::uint64_t yielded = 0;
  while (reader->next(r)) {
    ++yielded;
    if (yielded > size) __builtin_trap();  // more requests than bytes: not reading the input
    (void)embedded_origin_target(r);
  }
  if (reader->errors().first_bad.size() > ReadErrors::kKeptLines) __builtin_trap();
  if (reader->errors().bad == 0 && !reader->document_error().empty()) __builtin_trap();
  return 0;
}
