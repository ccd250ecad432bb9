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
// max_header_bytes got 431 when it arrived a byte at a time, and 200 when it arrived whole.
TEST(RequestParserSegmentation, HeaderLimitCountsTheSameWhateverTheReadSize) {
  ParserLimits limits;
  limits.max_header_bytes = 64;
  // Counted: the target (1) + per field name + 4 + value: "/" + "Host"+4+"h" + "X-Long-Name"+4+value.
  std::string value(64 - 1 - (4 + 4 + 1) - (11 + 4), 'v');
  std::string request = "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: " + value + "\r\n\r\n";
  for (std::size_t step : {request.size(), std::size_t{7}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    RequestParser p(limits);
    EXPECT_EQ(parse_in_steps(p, request, step), RequestParser::State::complete) << p.error_status();
  }
  // One byte more is over the limit, in every segmentation.
  std::string over = "GET / HTTP/1.1\r\nHost: h\r\nX-Long-Name: " + value + "v\r\n\r\n";
  for (std::size_t step : {over.size(), std::size_t{7}, std::size_t{1}}) {
    SCOPED_TRACE(step);
    RequestParser p(limits);
    ASSERT_EQ(parse_in_steps(p, over, step), RequestParser::State::error);
    EXPECT_EQ(p.error_status(), 431);
  }
}
