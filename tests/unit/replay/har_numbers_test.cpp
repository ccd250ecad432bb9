// HAR numbers a browser never writes but a file can hold (found by fuzz_har under UBSan): a status
// or size too large for the integer it becomes was converted anyway, which is undefined
// behaviour. Such an entry's status makes it unreplayable; such a size is not a size.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "replay/http_trace.h"

using namespace cachefwd::replay;

namespace {

std::string har_entry(const std::string& status, const std::string& content_size,
                      const std::string& body_size) {
  return R"({"startedDateTime":"2026-11-22T04:13:04.123Z","request":{"method":"GET","url":"http://h/a","headers":[]},)"
         R"("response":{"status":)" +
         status + R"(,"headers":[],"content":{"size":)" + content_size + R"(},"bodySize":)" + body_size +
         "}}";
}

}  // namespace

TEST(HarNumbers, AStatusBeyondAnyHttpStatusIsFilteredNotConverted) {
  std::istringstream in(R"({"log":{"entries":[)" + har_entry("2.08888888888888888880e20", "12", "12") + "," +
                        har_entry("1000", "12", "12") + "," + har_entry("404", "12", "12") + "]}}");
  auto reader = make_http_reader(HttpFormat::kHar, in);
  HttpRequest r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(reader->next(r));
  EXPECT_EQ(reader->filtered(), 2u);
}

TEST(HarNumbers, ASizeBeyondAnyBodyIsIgnored) {
  std::istringstream in(R"({"log":{"entries":[)" + har_entry("200", "1.3e71", "42") + "," +
                        har_entry("200", "1e300", "1e300") + "]}}");
  auto reader = make_http_reader(HttpFormat::kHar, in);
  HttpRequest r;
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.size, 42u) << "content.size unusable: bodySize is the size";
  ASSERT_TRUE(reader->next(r));
  EXPECT_EQ(r.size, 0u);
}

TEST(HarNumbers, ANumberNoDoubleHoldsIsAnInvalidDocumentNotACrash) {
  // nlohmann throws out_of_range (not parse_error) for 1e999: found by fuzz_har, where the
  // uncaught exception ended the process.
  std::istringstream in(R"({"log":{"entries":[)" + har_entry("200", "1e999", "12") + "]}}");
  auto reader = make_http_reader(HttpFormat::kHar, in);
  HttpRequest r;
  EXPECT_FALSE(reader->next(r));
  EXPECT_NE(reader->document_error().find("invalid JSON"), std::string::npos) << reader->document_error();
}
