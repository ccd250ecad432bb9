// The parser's verdict must not depend on how the client's bytes were split into reads: the client
// controls segmentation, and the proxy hands the parser whatever each read returned. Found by
// fuzz_request_parser (tests/fuzz), which compares one read with many for every input.
#include <gtest/gtest.h>

#include <string>

#include "http/request_parser.h"

using namespace cachefwd::http;

namespace {

// Feeds `bytes` `step` bytes at a time, as successive reads; stops at the first verdict.
RequestParser::State parse_in_steps(RequestParser& p, const std::string& bytes, std::size_t step) {
  for (std::size_t pos = 0; pos < bytes.size() && p.state() == RequestParser::State::need_more;) {
    std::size_t n = std::min(step, bytes.size() - pos);
    std::size_t used = p.feed(bytes.data() + pos, n);
    if (p.state() == RequestParser::State::need_more) {
      EXPECT_EQ(used, n);
    }
    pos += n;
  }
  return p.state();
}

}  // namespace

// The header-size limit charged a field's 4 bytes of overhead (": " and CRLF) once per fragment
// of its name, so a name split over several reads counted several times: a request just inside
// max_header_bytes got 431 when it arrived a byte at a time, and 200 when it arrived whole. The
// test finds the largest head accepted in one read and requires the same verdicts, at the limit
// and one byte over it, for every read size.
TEST(RequestParserSegmentation, HeaderLimitCountsTheSameWhateverTheReadSize) {
  ParserLimits limits;
  limits.max_header_bytes = 128;
  auto request = [](std::size_t value_size) {
    return "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: " + std::string(value_size, 'v') + "\r\n\r\n";
  };
  std::size_t fits = 0;
  for (std::size_t n = 1; n < limits.max_header_bytes; ++n) {
    RequestParser p(limits);
    std::string r = request(n);
    if (parse_in_steps(p, r, r.size()) != RequestParser::State::complete) break;
    fits = n;
  }
  ASSERT_GT(fits, 0u);
  ASSERT_LT(fits + 1, limits.max_header_bytes) << "the limit never applied";
  for (std::size_t step : {std::size_t{7}, std::size_t{2}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    RequestParser at_limit(limits);
    EXPECT_EQ(parse_in_steps(at_limit, request(fits), step), RequestParser::State::complete)
        << at_limit.error_status();
    RequestParser over(limits);
    ASSERT_EQ(parse_in_steps(over, request(fits + 1), step), RequestParser::State::error);
    EXPECT_EQ(over.error_status(), 431);
  }
}
