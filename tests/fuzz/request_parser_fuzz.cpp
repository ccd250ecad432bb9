// The request parser on hostile bytes: no crash, no sanitizer report, and the same outcome however
// the bytes are split into reads (a client controls the segmentation, so framing must not depend
// on it). The first input byte picks the read size and the limits, the rest is the stream.
// (Which refusal a request that breaks two rules gets may differ; that it is refused may not.)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/request_parser.h"

namespace {

using cachefwd::http::ParserLimits;
using cachefwd::http::RequestParser;

// One parsed request, or the error that ended the stream, flattened for comparison.
std::string describe(const cachefwd::http::Request& r) {
  std::string out = r.method + ' ' + r.target + ' ' + std::to_string(r.version_major) + '.' +
                    std::to_string(r.version_minor) + (r.keep_alive ? " ka" : " close") +
                    (r.is_connect ? " connect" : "") + '\n';
  for (auto& h : r.headers.fields()) out += h.name + ':' + h.value + '\n';
  out += std::to_string(r.body.size()) + ':' + r.body;
  return out;
}

// Parses the whole stream as ClientConnection does (pipelined requests one after the other; a
// CONNECT ends HTTP parsing), handing the parser at most `step` bytes per call.
std::vector<std::string> parse_stream(std::string_view in, std::size_t step, const ParserLimits& limits) {
  std::vector<std::string> events;
  RequestParser parser(limits);
  std::size_t pos = 0, avail = 0;  // avail: bytes "received" so far
  while (pos < in.size()) {
    if (avail == pos) avail = std::min(in.size(), avail + step);
    std::size_t n = parser.feed(in.data() + pos, avail - pos);
    if (n > avail - pos) __builtin_trap();  // consumed more than it was given
    pos += n;
    switch (parser.state()) {
      case RequestParser::State::error:
        // The statuses request_parser.h documents; anything else would reach the client as is.
        if (parser.error_status() != 400 && parser.error_status() != 413 && parser.error_status() != 431 &&
            parser.error_status() != 501)
          __builtin_trap();
        events.push_back("error " + std::to_string(parser.error_status()));
        return events;
      case RequestParser::State::complete: {
        auto req = parser.take();
        events.push_back(describe(req));
        if (req.is_connect) return events;  // the rest is tunnel data
        break;
      }
      case RequestParser::State::need_more:
        // Waiting for more while holding back bytes it was given would stall the connection:
        // the proxy only calls feed() again when new bytes arrive.
        if (pos != avail) __builtin_trap();
        break;
    }
  }
  events.push_back(parser.mid_request() ? "partial" : "idle");
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint8_t control = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParserLimits limits;
  if (control & 0x80) {  // small limits, so that 413 / 431 are reachable by short inputs
    limits.max_header_bytes = 64 + (control & 0x0f) * 16;
    limits.max_body_bytes = (control >> 4 & 0x07) * 8;
  }
  std::size_t step = 1 + (control & 0x0f);
  auto whole = parse_stream(in, in.size() + 1, limits);
  auto split = parse_stream(in, step, limits);
  // A request that is both oversized and malformed may be refused as either (431 or 400), by
  // whichever check a given segmentation reaches first; everything else must match.
  auto both_refused = [&] {
    return whole.size() == split.size() && whole.back().starts_with("error") &&
           split.back().starts_with("error") && std::equal(whole.begin(), whole.end() - 1, split.begin());
  };
  if (whole != split && !both_refused()) {
    std::fprintf(stderr, "outcome depends on the read size (%zu):\n", step);
    for (auto* events : {&whole, &split}) {
      std::fprintf(stderr, events == &whole ? "-- one read:\n" : "-- split reads:\n");
      for (auto& e : *events) std::fprintf(stderr, "%s\n", e.c_str());
    }
    __builtin_trap();
  }
  return 0;
}
