// RFC 9111 §4.2.3 age calculation and §5.1 Age.
#include "cache/policy/age.h"

#include <gtest/gtest.h>

#include "http/http_date.h"

namespace cachefwd::cache::policy {
namespace {

constexpr UnixMillis kT = 784111777LL * 1000;  // Sun, 06 Nov 1994 08:49:37 GMT
const char* const kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

TEST(Age, NoDateNoAgeIsTheResponseDelay) {
  http::Headers h;
  EXPECT_EQ(corrected_initial_age_ms(h, kT, kT + 250), 250);
}

// apparent_age = max(0, response_time - date_value)
TEST(Age, ApparentAgeFromDateInThePast) {
  http::Headers h{{"Date", kDate}};
  // Sent at kT+9s, received at kT+10s: apparent age 10 s beats corrected age value 1 s.
  EXPECT_EQ(corrected_initial_age_ms(h, kT + 9'000, kT + 10'000), 10'000);
}

TEST(Age, DateInTheFutureGivesNoNegativeAge) {
  http::Headers h{{"Date", kDate}};
  // Origin clock 1 h ahead of ours: apparent_age is clamped to 0; the delay remains.
  EXPECT_EQ(corrected_initial_age_ms(h, kT - 3'600'000 - 40, kT - 3'600'000), 40);
}

// corrected_age_value = age_value + response_delay: an upstream cache's Age is honoured and the
// whole round trip is added, since the response may have aged during it.
TEST(Age, IncomingAgePlusResponseDelay) {
  http::Headers h{{"Date", kDate}, {"Age", "100"}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT + 1'000, kT + 3'000), 102'000);
}

TEST(Age, TheLargerOfApparentAndCorrectedAge) {
  // Date 50 s old, Age says 20 s, delay 1 s: apparent (50 s) wins.
  http::Headers h{{"Date", kDate}, {"Age", "20"}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT + 49'000, kT + 50'000), 50'000);
  // Date just now, Age says 20 s, delay 1 s: corrected age value (21 s) wins.
  EXPECT_EQ(corrected_initial_age_ms(h, kT - 1'000, kT), 21'000);
}

// §5.1: an invalid Age is ignored.
TEST(Age, InvalidAgeIgnored) {
  for (const char* bad : {"-5", "abc", "1.5", "", "x, 20"}) {
    http::Headers h{{"Age", bad}};
    EXPECT_EQ(corrected_initial_age_ms(h, kT, kT + 5), 5) << bad;
  }
}

// §5.1: "a cache encountering a message with a list-based Age field value SHOULD use the first
// member of the field value, discarding subsequent ones".
TEST(Age, ListBasedAgeCountsByItsFirstMember) {
  http::Headers one_line{{"Age", "7200, 0"}};
  EXPECT_EQ(corrected_initial_age_ms(one_line, kT, kT + 5), 7'200'005);
  http::Headers two_lines{{"Age", "7200"}, {"Age", "0"}};
  EXPECT_EQ(corrected_initial_age_ms(two_lines, kT, kT + 5), 7'200'005);
}

TEST(Age, AgeWithSurroundingWhitespace) {
  http::Headers h{{"Age", " 7 "}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT, kT), 7'000);
}

// §1.3: an Age too large to represent counts as 2^31 seconds.
TEST(Age, HugeAgeClamps) {
  http::Headers h{{"Age", "999999999999999999999999"}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT, kT), 2147483648LL * 1000);
}

TEST(Age, InvalidDateIgnored) {
  http::Headers h{{"Date", "yesterday"}, {"Age", "3"}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT, kT + 1), 3'001);
}

TEST(Age, NegativeResponseDelayIgnored) {
  http::Headers h{{"Age", "3"}};
  EXPECT_EQ(corrected_initial_age_ms(h, kT + 10, kT), 3'000);
}

// current_age = corrected_initial_age + resident_time
TEST(Age, CurrentAgeAddsResidentTime) {
  EXPECT_EQ(current_age_ms(5'000, kT, kT), 5'000);
  EXPECT_EQ(current_age_ms(5'000, kT, kT + 60'000), 65'000);
  EXPECT_EQ(current_age_ms(0, kT, kT + 1), 1);
}

TEST(Age, CurrentAgeNeverNegative) {
  EXPECT_EQ(current_age_ms(5'000, kT, kT - 60'000), 5'000);  // clock went back
  EXPECT_EQ(current_age_ms(-5, kT, kT - 1), 0);
}

TEST(Age, HeaderSecondsFloorAndClamp) {
  EXPECT_EQ(age_header_seconds(0), 0);
  EXPECT_EQ(age_header_seconds(999), 0);
  EXPECT_EQ(age_header_seconds(1'000), 1);
  EXPECT_EQ(age_header_seconds(61'999), 61);
  EXPECT_EQ(age_header_seconds(-1), 0);
  EXPECT_EQ(age_header_seconds(2147483648LL * 1000), 2147483648);
  EXPECT_EQ(age_header_seconds(5'000'000'000LL * 1000), 2147483648);  // §1.3 cap
}

}  // namespace
}  // namespace cachefwd::cache::policy
