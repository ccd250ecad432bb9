// JSON text per RFC 8259: structure, string escaping (§7), numbers (§6), UTF-8 (§8.1).
#include "metrics/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cachefwd::metrics {
namespace {

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonWriter, NestedStructuresGetCommasAndColons) {
  JsonWriter w;
  w.begin_object()
      .member("a", 1)
      .key("list")
      .begin_array()
      .value(1)
      .value("two")
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .null()
      .end_array()
      .key("obj")
      .begin_object()
      .member("t", true)
      .member("f", false)
      .end_object()
      .end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"list":[1,"two",{},[],null],"obj":{"t":true,"f":false}})");
  EXPECT_TRUE(w.complete());
}

TEST(JsonWriter, CompleteOnlyWhenEverythingIsClosed) {
  JsonWriter w;
  w.begin_object().key("x").begin_array();
  EXPECT_FALSE(w.complete());
  w.end_array();
  EXPECT_FALSE(w.complete());
  w.end_object();
  EXPECT_TRUE(w.complete());
  EXPECT_EQ(w.take(), R"({"x":[]})");
}

TEST(JsonWriter, TopLevelScalarAndArray) {
  JsonWriter a;
  a.value("x");
  EXPECT_EQ(a.str(), "\"x\"");
  JsonWriter b;
  b.begin_array().value(-1).value(2u).value(std::int64_t{3}).end_array();
  EXPECT_EQ(b.str(), "[-1,2,3]");
}

TEST(JsonString, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(json_string(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("/path"), "\"/path\"");  // '/' may stay as is
}

// RFC 8259 §7: all characters U+0000 through U+001F must be escaped.
TEST(JsonString, EveryControlCharacterIsEscaped) {
  EXPECT_EQ(json_string("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json_string(std::string_view("\0", 1)), R"("\u0000")");
  EXPECT_EQ(json_string("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(json_string("\x7f"), R"("\u007f")");
  for (int c = 0; c < 0x20; ++c) {
    std::string out = json_string(std::string(1, static_cast<char>(c)));
    for (char ch : out) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << c;
  }
}

TEST(JsonString, ValidUtf8PassesThrough) {
  EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");            // U+00E9
  EXPECT_EQ(json_string("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");          // U+20AC
  EXPECT_EQ(json_string("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600
  EXPECT_EQ(json_string("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");  // U+10FFFF
}

// RFC 8259 §8.1: JSON text exchanged between systems must be UTF-8.
TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(json_string("a\xFF"
                        "b"),
            "\"a" + kFffd + "b\"");
  EXPECT_EQ(json_string("\x80"), "\"" + kFffd + "\"");                          // lone continuation
  EXPECT_EQ(json_string("\xC0\xAF"), "\"" + kFffd + kFffd + "\"");              // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");  // surrogate D800
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");  // > U+10FFFF
  // A truncated sequence at the end does not swallow the closing quote.
  std::string truncated = json_string("x\xE2\x82");
  EXPECT_EQ(truncated.back(), '"');
  EXPECT_EQ(truncated.find('\x82'), std::string::npos);
}

TEST(JsonNumbers, IntegersAreExact) {
  JsonWriter w;
  w.begin_array()
      .value(std::numeric_limits<std::int64_t>::min())
      .value(std::numeric_limits<std::uint64_t>::max())
      .value(0)
      .end_array();
  EXPECT_EQ(w.str(), "[-9223372036854775808,18446744073709551615,0]");
}

TEST(JsonNumbers, DoublesRoundTripAndNonFiniteIsNull) {
  JsonWriter w;
  w.begin_array()
      .value(0.1)
      .value(0.25)
      .value(-2.5)
      .value(1e300)
      .value(std::nan(""))
      .value(std::numeric_limits<double>::infinity())
      .end_array();
  EXPECT_EQ(w.str(), "[0.1,0.25,-2.5,1e+300,null,null]");
}

TEST(JsonWriter, KeysAreEscapedToo) {
  JsonWriter w;
  w.begin_object().member("a\"b", "c\nd").end_object();
  EXPECT_EQ(w.str(), R"({"a\"b":"c\nd"})");
}

}  // namespace
}  // namespace cachefwd::metrics
