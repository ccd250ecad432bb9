// Range requests: RFC 9110 §14.1.1 (Range syntax), §14.1.2 (byte ranges), §14.2 (Range), §14.4
// (Content-Range), §13.1.5 (If-Range), §8.8.2.2 (when a Last-Modified is strong).
#include "http/range.h"

#include <gtest/gtest.h>

namespace cachefwd::http {
namespace {

void expect_partial(const RangeResult& r, std::uint64_t first, std::uint64_t last) {
  EXPECT_EQ(r.decision, RangeDecision::partial);
  EXPECT_EQ(r.range.first, first);
  EXPECT_EQ(r.range.last, last);
}
void expect_full(const RangeResult& r) { EXPECT_EQ(r.decision, RangeDecision::full); }
void expect_416(const RangeResult& r) { EXPECT_EQ(r.decision, RangeDecision::unsatisfiable); }

// §14.1.2 examples for a representation of length 10000.
TEST(ResolveRange, RfcExamples) {
  expect_partial(resolve_range("bytes=0-499", 10000), 0, 499);
  expect_partial(resolve_range("bytes=500-999", 10000), 500, 999);
  expect_partial(resolve_range("bytes=-500", 10000), 9500, 9999);
  expect_partial(resolve_range("bytes=9500-", 10000), 9500, 9999);
  expect_partial(resolve_range("bytes=0-0", 10000), 0, 0);
  expect_partial(resolve_range("bytes=-1", 10000), 9999, 9999);
}

TEST(ResolveRange, LastPosPastTheEndMeansTheRest) {
  expect_partial(resolve_range("bytes=5-99999999", 100), 5, 99);
  expect_partial(resolve_range("bytes=0-99", 100), 0, 99);
  expect_partial(resolve_range("bytes=0-", 100), 0, 99);
  expect_partial(resolve_range("bytes=99-", 100), 99, 99);
  expect_partial(resolve_range("bytes=0-99999999999999999999999999", 100), 0, 99);
}

TEST(ResolveRange, SuffixLongerThanRepresentation) {
  expect_partial(resolve_range("bytes=-500", 100), 0, 99);
}

// §14.1.2: satisfiable = first-pos below the length, or a non-zero suffix-length.
TEST(ResolveRange, Unsatisfiable) {
  expect_416(resolve_range("bytes=100-", 100));
  expect_416(resolve_range("bytes=100-200", 100));
  expect_416(resolve_range("bytes=99999999999999999999999-", 100));
  expect_416(resolve_range("bytes=-0", 100));
  expect_416(resolve_range("bytes=0-", 0));
  expect_416(resolve_range("bytes=0-0", 0));
}

// An empty representation: "the only satisfiable form of range-spec is a suffix-range with a
// non-zero suffix-length", which selects nothing: served as the full (empty) 200.
TEST(ResolveRange, EmptyRepresentationSuffix) { expect_full(resolve_range("bytes=-5", 0)); }

// §14.1: range units are case-insensitive. Other units are ignored.
TEST(ResolveRange, Unit) {
  expect_partial(resolve_range("BYTES=0-1", 10), 0, 1);
  expect_partial(resolve_range("Bytes=0-1", 10), 0, 1);
  expect_full(resolve_range("items=0-1", 10));
  expect_full(resolve_range("bytes 0-1", 10));
  expect_full(resolve_range("=0-1", 10));
}

// §14.2: "A server MAY ignore the Range header field"; an invalid ranges-specifier may be ignored.
TEST(ResolveRange, MalformedIsIgnored) {
  for (const char* bad :
       {"bytes=", "bytes=-", "bytes=abc", "bytes=1-a", "bytes=a-1", "bytes=5-3", "bytes=1--2", "bytes=--1",
        "bytes=+1-2", "bytes=1 -2", "bytes=0x1-2", "bytes=1-2-3", "bytes=,", "", "bytes"})
    expect_full(resolve_range(bad, 100));
  // last-pos below first-pos is invalid, so not a 416 even when first-pos is past the end.
  expect_full(resolve_range("bytes=500-400", 100));
}

TEST(ResolveRange, MultipleRangesAreIgnored) {
  expect_full(resolve_range("bytes=0-1,5-6", 100));
  expect_full(resolve_range("bytes=0-1, -5", 100));
  expect_full(resolve_range("bytes=500-600,700-800", 100));
}

TEST(ResolveRange, ListWhitespaceAndEmptyElements) {
  expect_partial(resolve_range(" bytes=0-9 ", 100), 0, 9);
  expect_partial(resolve_range("bytes= 0-9", 100), 0, 9);
  expect_partial(resolve_range("bytes=0-9,", 100), 0, 9);
  expect_partial(resolve_range("bytes=, ,0-9", 100), 0, 9);
}

TEST(ContentRange, Format) {
  EXPECT_EQ(format_content_range({42, 1233}, 1234), "bytes 42-1233/1234");
  EXPECT_EQ(format_content_range({0, 0}, 1), "bytes 0-0/1");
  EXPECT_EQ(format_unsatisfied_content_range(1234), "bytes */1234");
  EXPECT_EQ((ByteRange{42, 1233}.size()), 1192u);
}

// ---- If-Range (§13.1.5) ----

const char* const kLm = "Sat, 29 Oct 1994 19:43:31 GMT";
const char* const kDateLater = "Sat, 29 Oct 1994 19:44:31 GMT";    // 60 s after Last-Modified
const char* const kDateTooSoon = "Sat, 29 Oct 1994 19:44:30 GMT";  // 59 s after

TEST(IfRange, StrongEntityTag) {
  const Headers stored{{"ETag", "\"v1\""}};
  EXPECT_TRUE(if_range_allows("\"v1\"", stored));
  EXPECT_FALSE(if_range_allows("\"v2\"", stored));
  // Weak tags never match in the strong comparison, on either side.
  EXPECT_FALSE(if_range_allows("W/\"v1\"", stored));
  EXPECT_FALSE(if_range_allows("\"v1\"", {{"ETag", "W/\"v1\""}}));
  EXPECT_FALSE(if_range_allows("\"v1\"", {}));
}

TEST(IfRange, DateMustExactlyMatchAStrongLastModified) {
  const Headers stored{{"Last-Modified", kLm}, {"Date", kDateLater}};
  EXPECT_TRUE(if_range_allows(kLm, stored));
  // Any of the three date forms, as long as it names the same second.
  EXPECT_TRUE(if_range_allows("Saturday, 29-Oct-94 19:43:31 GMT", stored));
  EXPECT_TRUE(if_range_allows("Sat Oct 29 19:43:31 1994", stored));
  // Not exactly equal: false (later and earlier).
  EXPECT_FALSE(if_range_allows("Sat, 29 Oct 1994 19:43:32 GMT", stored));
  EXPECT_FALSE(if_range_allows("Sat, 29 Oct 1994 19:43:30 GMT", stored));
  // §8.8.2.2: a cache may treat Last-Modified as strong only with a Date 60 s or more after it.
  EXPECT_FALSE(if_range_allows(kLm, {{"Last-Modified", kLm}, {"Date", kDateTooSoon}}));
  EXPECT_FALSE(if_range_allows(kLm, {{"Last-Modified", kLm}}));
  EXPECT_FALSE(if_range_allows(kLm, {{"Date", kDateLater}}));
}

TEST(IfRange, NeitherTagNorDate) {
  const Headers stored{{"ETag", "\"v1\""}, {"Last-Modified", kLm}, {"Date", kDateLater}};
  EXPECT_FALSE(if_range_allows("v1", stored));
  EXPECT_FALSE(if_range_allows("", stored));
  EXPECT_FALSE(if_range_allows("yesterday", stored));
}

TEST(EvaluateRangeRequest, WholeDecision) {
  const Headers stored{{"ETag", "\"v1\""}, {"Last-Modified", kLm}, {"Date", kDateLater}};
  expect_partial(evaluate_range_request("GET", {{"Range", "bytes=0-9"}}, stored, 100), 0, 9);
  // No Range, or a method other than GET (§14.2): the full response.
  expect_full(evaluate_range_request("GET", {}, stored, 100));
  expect_full(evaluate_range_request("HEAD", {{"Range", "bytes=0-9"}}, stored, 100));
  expect_full(evaluate_range_request("POST", {{"Range", "bytes=0-9"}}, stored, 100));
  // If-Range true: the Range applies; false: the full 200 (§13.1.5), even when unsatisfiable.
  expect_partial(evaluate_range_request("GET", {{"Range", "bytes=-10"}, {"If-Range", "\"v1\""}}, stored, 100),
                 90, 99);
  expect_full(evaluate_range_request("GET", {{"Range", "bytes=-10"}, {"If-Range", "\"v0\""}}, stored, 100));
  expect_416(evaluate_range_request("GET", {{"Range", "bytes=200-"}, {"If-Range", kLm}}, stored, 100));
  expect_full(evaluate_range_request("GET", {{"Range", "bytes=200-"}, {"If-Range", "\"old\""}}, stored, 100));
  expect_full(evaluate_range_request(
      "GET", {{"Range", "bytes=0-1"}, {"If-Range", "\"v1\""}, {"If-Range", "\"v1\""}}, stored, 100));
  // Two Range lines are two ranges: ignored.
  expect_full(evaluate_range_request("GET", {{"Range", "bytes=0-1"}, {"Range", "bytes=5-6"}}, stored, 100));
}

}  // namespace
}  // namespace cachefwd::http

namespace cachefwd::http {
namespace {

// RFC 9110 §15.3.7: a 206 carries Content-Range and the fields a 200 would have had.
TEST(PartialContentHeaders, RangeFieldsSetOthersKept) {
  Headers h{{"Content-Type", "text/plain"}, {"Content-Length", "1234"}, {"ETag", "\"v1\""}, {"Date", "x"}};
  set_partial_content_headers(h, {42, 1233}, 1234);
  EXPECT_EQ(h.combined("Content-Range"), "bytes 42-1233/1234");
  EXPECT_EQ(h.combined("Content-Length"), "1192");
  EXPECT_EQ(h.count("Content-Length"), 1u);
  EXPECT_EQ(h.combined("Content-Type"), "text/plain");
  EXPECT_EQ(h.combined("ETag"), "\"v1\"");
  EXPECT_TRUE(h.has("Date"));
}

}  // namespace
}  // namespace cachefwd::http
