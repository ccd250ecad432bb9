// Trace readers on small hand-written samples (byte layouts from shared/traces/SOURCES.md), and
// malformed input: counted with line numbers, never a crash.
#include "replay/trace_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/hash.h"

namespace cachefwd::replay {
namespace {

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::vector<Request> read_all(TraceFormat f, const std::string& bytes, ReadErrors* errors = nullptr,
                              std::vector<std::string>* text_keys = nullptr) {
  std::istringstream in(bytes);
  auto reader = make_trace_reader(f, in);
  std::vector<Request> out;
  Request r;
  while (reader->next(r)) {
    out.push_back(r);
    if (text_keys) text_keys->emplace_back(r.text_key);
  }
  if (errors) *errors = reader->errors();
  return out;
}

TEST(OracleGeneralReader, DecodesPackedLittleEndianRecords) {
  std::string b;
  // {u32 clock_time; u64 obj_id; u32 obj_size; i64 next_access_vtime}
  put_le(b, 5633898, 4), put_le(b, 0x1122334455667788ULL, 8), put_le(b, 4096, 4), put_le(b, 3, 8);
  put_le(b, 5633899, 4), put_le(b, 42, 8), put_le(b, 512, 4), put_le(b, static_cast<std::uint64_t>(-1), 8);
  ASSERT_EQ(b.size(), 48u);
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kOracleGeneral, b, &e);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].timestamp, 5633898);
  EXPECT_EQ(reqs[0].key, 0x1122334455667788ULL);
  EXPECT_EQ(reqs[0].size, 4096u);
  EXPECT_EQ(reqs[0].next_access, 3);
  EXPECT_EQ(reqs[1].key, 42u);
  EXPECT_EQ(reqs[1].size, 512u);
  EXPECT_EQ(reqs[1].next_access, kNoNextAccess);  // -1 = never requested again
  EXPECT_TRUE(reqs[1].text_key.empty());
  EXPECT_EQ(e.bad, 0u);
}

TEST(OracleGeneralReader, TruncatedTailIsCountedNotReturned) {
  std::string b;
  put_le(b, 1, 4), put_le(b, 7, 8), put_le(b, 100, 4), put_le(b, 0, 8);
  b += std::string(10, '\x01');
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kOracleGeneral, b, &e);
  EXPECT_EQ(reqs.size(), 1u);
  EXPECT_EQ(e.bad, 1u);
  ASSERT_EQ(e.first_bad.size(), 1u);
  EXPECT_EQ(e.first_bad[0], 2u);  // the second record
}

TEST(OracleGeneralReader, StreamsMoreThanOneBufferfulAcrossRefills) {
  std::string b;
  const int n = 10000;  // 240,000 bytes: several 64 KiB refills with records straddling them
  for (int i = 0; i < n; ++i) {
    put_le(b, static_cast<std::uint64_t>(i), 4), put_le(b, static_cast<std::uint64_t>(i) * 3, 8);
    put_le(b, static_cast<std::uint64_t>(i % 7 + 1), 4), put_le(b, static_cast<std::uint64_t>(i + 1), 8);
  }
  auto reqs = read_all(TraceFormat::kOracleGeneral, b);
  ASSERT_EQ(reqs.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(reqs[i].key, static_cast<std::uint64_t>(i) * 3) << i;
    ASSERT_EQ(reqs[i].size, static_cast<std::uint64_t>(i % 7 + 1)) << i;
  }
}

TEST(ScarabReader, BigEndianSignedInt64Keys) {
  std::string b;
  put_be(b, 1, 8);
  put_be(b, static_cast<std::uint64_t>(-2), 8);
  put_be(b, 0x0102030405060708ULL, 8);
  b += "abc";  // trailing partial key
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kScarab, b, &e);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].key, 1u);
  EXPECT_EQ(static_cast<std::int64_t>(reqs[1].key), -2);
  EXPECT_EQ(reqs[2].key, 0x0102030405060708ULL);
  EXPECT_EQ(reqs[0].size, 1u);  // no sizes in this format
  EXPECT_EQ(e.bad, 1u);
  EXPECT_EQ(e.first_bad.at(0), 4u);
}

TEST(Cache2kReader, BigEndianInt32KeysSignExtendedLikeJava) {
  std::string b;
  put_be(b, 0x7fffffff, 4);
  put_be(b, 0x80000001, 4);  // negative as a Java int
  put_be(b, 5, 4);
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kCache2k, b, &e);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].key, 0x7fffffffu);
  EXPECT_EQ(static_cast<std::int64_t>(reqs[1].key), static_cast<std::int64_t>(std::int32_t(0x80000001)));
  EXPECT_EQ(reqs[2].key, 5u);
  EXPECT_EQ(e.bad, 0u);
}

TEST(AdaptSizeReader, KeysObjectsByIdAndSizeAndCountsBadLines) {
  const std::string text =
      "1 5 100\n"
      "2 6 200\n"
      "not a line\n"
      "3 5 100\n"
      "\n"
      "4 7\n"
      "5 5 300\r\n"
      "6 8 -1\n";
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kAdaptSize, text, &e);
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].key, reqs[2].key);  // same id and size = same object
  EXPECT_NE(reqs[0].key, reqs[3].key);  // same id, other size = another object (as webcachesim)
  EXPECT_EQ(reqs[3].size, 300u);
  EXPECT_EQ(reqs[1].timestamp, 2);
  EXPECT_EQ(e.bad, 3u);
  EXPECT_EQ(e.first_bad, (std::vector<std::uint64_t>{3, 6, 8}));  // 1-based, blank lines counted
}

TEST(AdaptSizeKey, IsInjectiveOnTheExactRange) {
  EXPECT_NE(adaptsize_key(1, 2), adaptsize_key(2, 1));
  EXPECT_NE(adaptsize_key(0, 1ULL << 39), adaptsize_key(1, 0));
  EXPECT_EQ(adaptsize_key(9, 9), adaptsize_key(9, 9));
}

TEST(CsvReader, TimestampKeySizeOptionalTtlWithHeader) {
  const std::string text =
      "timestamp,key,size,ttl\n"
      "10,GET http://a/x,1000\n"
      "11,GET http://a/y, 2000 ,60\n"
      "# comment\n"
      "12,GET http://a/x,1000,\n";
  ReadErrors e;
  std::vector<std::string> keys;
  auto reqs = read_all(TraceFormat::kCsv, text, &e, &keys);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(keys[0], "GET http://a/x");
  EXPECT_EQ(keys[1], "GET http://a/y");
  EXPECT_EQ(reqs[1].size, 2000u);
  EXPECT_EQ(reqs[2].timestamp, 12);
  EXPECT_EQ(reqs[0].key, reqs[2].key);
  EXPECT_EQ(reqs[0].key, hash64("GET http://a/x"));
  EXPECT_EQ(e.bad, 0u);
}

TEST(CsvReader, MalformedLinesAreCountedWithTheirLineNumbers) {
  const std::string text =
      "1,a,10\n"
      "2,b\n"              // too few fields
      "3,c,ten\n"          // size not a number
      "x,d,10\n"           // a header is only allowed first
      "5,,10\n"            // empty key
      "6,e,10,60,extra\n"  // too many fields
      "7,f,10,soon\n"      // ttl not a number
      "8,g,-5\n"           // negative size
      "9,h,11\n";
  ReadErrors e;
  auto reqs = read_all(TraceFormat::kCsv, text, &e);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(e.bad, 7u);
  EXPECT_EQ(e.first_bad, (std::vector<std::uint64_t>{2, 3, 4, 5, 6}));  // first five kept
}

TEST(ApacheLogReader, KeepsCacheableRequestsAndFiltersTheRest) {
  const std::string text =
      "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /a.png HTTP/1.1\" 200 203023 \"http://r/\" "
      "\"UA\"\n"
      "1.2.3.4 - - [17/May/2015:10:05:04 +0000] \"HEAD /a.png HTTP/1.1\" 304 -\n"
      "1.2.3.4 - - [17/May/2015:10:05:05 +0000] \"POST /form HTTP/1.1\" 200 12 \"-\" \"UA\"\n"
      "1.2.3.4 - - [17/May/2015:10:05:06 +0000] \"GET /missing HTTP/1.1\" 404 300 \"-\" \"UA\"\n"
      "1.2.3.4 - - [17/May/2015:10:05:07 +0000] \"GET /q?x=\\\"y\\\" HTTP/1.1\" 203 7 \"-\" \"UA\"\n"
      "garbage line\n"
      "1.2.3.4 - - [17/Mayo/2015:10:05:08 +0000] \"GET /b HTTP/1.1\" 200 1\n"
      "1.2.3.4 - - [17/May/2015:10:05:09 +0000] \"GET /b HTTP/1.1\" ok 1\n";
  ReadErrors e;
  std::vector<std::string> keys;
  std::istringstream in(text);
  auto reader = make_trace_reader(TraceFormat::kApacheLog, in);
  std::vector<Request> reqs;
  Request r;
  while (reader->next(r)) {
    reqs.push_back(r);
    keys.emplace_back(r.text_key);
  }
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(keys[0], "/a.png");
  EXPECT_EQ(keys[1], "/a.png");
  // Escaped quotes stay inside the request line and are decoded, as the HTTP replay reads them.
  EXPECT_EQ(keys[2], "/q?x=\"y\"");
  EXPECT_EQ(reqs[0].size, 203023u);
  EXPECT_EQ(reqs[1].size, 0u);  // "-"
  EXPECT_EQ(reqs[0].timestamp, 1431857103);
  EXPECT_EQ(reqs[0].key, reqs[1].key);
  EXPECT_EQ(reader->filtered(), 2u);  // the POST and the 404
  EXPECT_EQ(reader->errors().bad, 3u);
  EXPECT_EQ(reader->errors().first_bad, (std::vector<std::uint64_t>{6, 7, 8}));
}

TEST(AccessLogTime, ParsesCommonLogTimestampsWithOffsets) {
  EXPECT_EQ(parse_access_log_time("17/May/2015:10:05:03 +0000"), 1431857103);
  EXPECT_EQ(parse_access_log_time("29/Feb/2000:23:59:59 -0530"), 951888599);
  EXPECT_EQ(parse_access_log_time("31/Dec/1969:00:00:00 +0000"), -86400);
  EXPECT_EQ(parse_access_log_time("17/May/2015:10:05:03"), std::nullopt);
  EXPECT_EQ(parse_access_log_time("17/Foo/2015:10:05:03 +0000"), std::nullopt);
  EXPECT_EQ(parse_access_log_time("17/May/2015:25:05:03 +0000"), std::nullopt);
  EXPECT_EQ(parse_access_log_time("17/May/2015 10:05:03 +0000"), std::nullopt);
}

TEST(Readers, GarbageInputNeverCrashes) {
  std::mt19937_64 rng(3);
  for (TraceFormat f : {TraceFormat::kOracleGeneral, TraceFormat::kScarab, TraceFormat::kCache2k,
                        TraceFormat::kAdaptSize, TraceFormat::kCsv, TraceFormat::kApacheLog}) {
    for (int round = 0; round < 20; ++round) {
      std::string junk(1 + rng() % 5000, '\0');
      for (char& c : junk) c = static_cast<char>(rng() % 4 == 0 ? '\n' : rng() & 0xff);
      ReadErrors e;
      auto reqs = read_all(f, junk, &e);
      EXPECT_LE(e.first_bad.size(), ReadErrors::kKeptLines);
      EXPECT_GE(e.bad, e.first_bad.size());
      (void)reqs;
    }
  }
}

TEST(TraceFormat, NamesRoundTripAndFilesAreRecognised) {
  for (TraceFormat f : {TraceFormat::kOracleGeneral, TraceFormat::kScarab, TraceFormat::kCache2k,
                        TraceFormat::kAdaptSize, TraceFormat::kCsv, TraceFormat::kApacheLog}) {
    EXPECT_EQ(parse_trace_format(trace_format_name(f)), f);
  }
  EXPECT_EQ(parse_trace_format("auto"), std::nullopt);
  EXPECT_EQ(detect_trace_format("/x/cloudphysics_sample.oracleGeneral.bin"), TraceFormat::kOracleGeneral);
  EXPECT_EQ(detect_trace_format("wiki_2019t.oracleGeneral.zst"), TraceFormat::kOracleGeneral);
  EXPECT_EQ(detect_trace_format("traces/scarab-recs.trace.xz"), TraceFormat::kScarab);
  EXPECT_EQ(detect_trace_format("cache2k-web07.trace.xz"), TraceFormat::kCache2k);
  EXPECT_EQ(detect_trace_format("adaptsize-request.trace.xz"), TraceFormat::kAdaptSize);
  EXPECT_EQ(detect_trace_format("mine.CSV"), TraceFormat::kCsv);
  EXPECT_EQ(detect_trace_format("semicomplete-apache_access.log"), TraceFormat::kApacheLog);
  EXPECT_EQ(detect_trace_format("server.log"), std::nullopt);
  EXPECT_TRUE(path_is_xz("a.trace.xz"));
  EXPECT_FALSE(path_is_xz("a.xz.bin"));
}

}  // namespace
}  // namespace cachefwd::replay
