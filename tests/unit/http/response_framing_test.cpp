// Response framing as forwarded: RFC 9112 §6.3 (Transfer-Encoding over Content-Length) and
// RFC 9110 §8.6 (duplicate Content-Length).
#include "http/response_framing.h"

#include <gtest/gtest.h>

namespace cachefwd::http {
namespace {

TEST(ResponseFraming, ChunkedDropsEveryContentLength) {
  Headers h{{"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}, {"content-length", "9"}, {"X", "y"}};
  auto f = normalize_response_framing(h);
  EXPECT_EQ(f.error, "");
  EXPECT_TRUE(f.chunked);
  EXPECT_EQ(f.content_length, -1);
  EXPECT_FALSE(h.has("content-length"));
  EXPECT_TRUE(h.has("x"));
}

TEST(ResponseFraming, ChunkedIsCaseInsensitive) {
  Headers h{{"Transfer-Encoding", " Chunked "}};
  EXPECT_EQ(normalize_response_framing(h).error, "");
}

TEST(ResponseFraming, CodingsOtherThanChunkedAloneAreRefused) {
  for (const char* te : {"gzip", "gzip, chunked", "chunked, chunked", "identity", "", "chunked;x=1"}) {
    Headers h{{"Transfer-Encoding", te}, {"Content-Length", "5"}};
    EXPECT_NE(normalize_response_framing(h).error, "") << te;
  }
  Headers two{{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}};
  EXPECT_NE(normalize_response_framing(two).error, "");
}

TEST(ResponseFraming, SingleContentLengthIsKept) {
  Headers h{{"Content-Length", "42"}};
  auto f = normalize_response_framing(h);
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.content_length, 42);
  EXPECT_EQ(h.count("content-length"), 1u);
  EXPECT_EQ(*h.find("content-length"), "42");
}

TEST(ResponseFraming, IdenticalDuplicatesCollapseIntoOne) {
  Headers h{{"Content-Length", "5"}, {"Content-Length", "5"}};
  auto f = normalize_response_framing(h);
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.content_length, 5);
  EXPECT_EQ(h.count("content-length"), 1u);
  Headers list{{"Content-Length", "5, 5"}};
  EXPECT_EQ(normalize_response_framing(list).content_length, 5);
  EXPECT_EQ(*list.find("content-length"), "5");
}

TEST(ResponseFraming, DifferentLengthsAreAnError) {
  Headers h{{"Content-Length", "3"}, {"Content-Length", "5"}};
  EXPECT_NE(normalize_response_framing(h).error, "");
  Headers list{{"Content-Length", "3, 5"}};
  EXPECT_NE(normalize_response_framing(list).error, "");
}

TEST(ResponseFraming, InvalidLengthsAreAnError) {
  for (const char* v : {"", "-1", "+5", "5 5", "0x10", "abc", "99999999999999999999999", "1.0"}) {
    Headers h{{"Content-Length", v}};
    EXPECT_NE(normalize_response_framing(h).error, "") << "'" << v << "'";
  }
}

TEST(ResponseFraming, NoFramingFieldsMeansCloseDelimited) {
  Headers h{{"Content-Type", "text/plain"}};
  auto f = normalize_response_framing(h);
  EXPECT_EQ(f.error, "");
  EXPECT_FALSE(f.chunked);
  EXPECT_EQ(f.content_length, -1);
}

}  // namespace
}  // namespace cachefwd::http
