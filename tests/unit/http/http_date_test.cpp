// RFC 9110 §5.6.7 HTTP-date. Expected epoch values were computed with GNU date(1), e.g.
// `date -u -d "1994-11-06 08:49:37" +%s` = 784111777.
#include "http/http_date.h"

#include <gtest/gtest.h>

namespace cachefwd::http {
namespace {

constexpr UnixMillis kRfcExample = 784111777LL * 1000;  // Sun, 06 Nov 1994 08:49:37 GMT

// The three forms of the example in RFC 9110 §5.6.7 denote the same instant.
TEST(HttpDate, ParsesTheThreeRfcExampleForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
}

TEST(HttpDate, AsctimeTwoDigitDay) {
  // date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
  EXPECT_EQ(parse_http_date("Thu Jan 29 00:00:00 2004"), 1075334400LL * 1000);
  EXPECT_EQ(parse_http_date("Thu Jan  1 00:00:00 1970"), 0);
}

TEST(HttpDate, KnownInstants) {
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), -1000);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 23:59:59 GMT"), 951868799LL * 1000);
  EXPECT_EQ(parse_http_date("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648LL * 1000);  // past 32-bit time_t
  EXPECT_EQ(parse_http_date("Thu, 01 Mar 1900 00:00:00 GMT"), -2203891200LL * 1000);
  EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL * 1000);
}

// RFC 9111 §4.2: a cache recipient SHOULD match HTTP-date case-insensitively.
TEST(HttpDate, NamesAreCaseInsensitiveForCaches) {
  EXPECT_EQ(parse_http_date("sun, 06 nov 1994 08:49:37 gmt"), kRfcExample);
  EXPECT_EQ(parse_http_date("SUNDAY, 06-NOV-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("SUN NOV  6 08:49:37 1994"), kRfcExample);
}

TEST(HttpDate, SurroundingWhitespaceIgnored) {
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\t"), kRfcExample);
}

TEST(HttpDate, LeapSecondIsAccepted) {
  // second = 2DIGIT allows 60 (RFC 9110 §5.6.7 "60 for leap seconds"); it is the next minute's :00.
  EXPECT_EQ(parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"),
            parse_http_date("Sun, 01 Jan 2017 00:00:00 GMT"));
}

// RFC 9111 §5.3: "0" and other invalid dates must be recognised as invalid (and then mean
// "already expired" to the caller).
TEST(HttpDate, RejectsInvalidValues) {
  for (const char* bad : {
           "",
           "0",
           "-1",
           "now",
           "Sun, 06 Nov 1994 08:49:37",        // no GMT
           "Sun, 06 Nov 1994 08:49:37 UTC",    // only GMT is allowed
           "Sun, 06 Nov 1994 08:49:37 +0000",  // RFC 5322 offsets are not HTTP-date
           "Sun, 6 Nov 1994 08:49:37 GMT",     // day is 2DIGIT in IMF-fixdate
           "Sun, 06 Nov 94 08:49:37 GMT",      // year is 4DIGIT in IMF-fixdate
           "Sun,06 Nov 1994 08:49:37 GMT",     // SP after comma required
           "Sun, 06 Nov 1994 8:49:37 GMT",     // hour is 2DIGIT
           "Sun, 06 Nov 1994 24:00:00 GMT",    // hour 00-23
           "Sun, 06 Nov 1994 08:60:00 GMT",    // minute 00-59
           "Sun, 06 Nov 1994 08:49:61 GMT",    // second 00-60
           "Sun, 31 Apr 1994 08:49:37 GMT",    // April has 30 days
           "Sun, 29 Feb 1900 08:49:37 GMT",    // 1900 is not a leap year
           "Sun, 00 Nov 1994 08:49:37 GMT",    // day 0
           "Sun, 06 Foo 1994 08:49:37 GMT",    // unknown month
           "Xyz, 06 Nov 1994 08:49:37 GMT",    // unknown day name
           "Sun, 06 Nov 1994 08:49:37 GMT x",  // trailing garbage
           "Sun, 06 November 1994 08:49:37 GMT",
           "Sunday, 06 Nov 1994 08:49:37 GMT",  // long day name with IMF date
           "Sun, 06-Nov-94 08:49:37 GMT",       // short day name with RFC 850 date
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 year is 2DIGIT
           "Sun Nov 6 08:49:37 1994",           // asctime single-digit day needs a leading SP
           "Sun Nov  6 08:49:37 94",            // asctime year is 4DIGIT
           "Sun Nov  6 08:49:37 1994 GMT",      // asctime has no zone
           "1994-11-06T08:49:37Z",
       }) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(HttpDate, Rfc850TwoDigitYearWithoutClockUsesFixedWindow) {
  EXPECT_EQ(parse_http_date("Monday, 01-Jun-70 00:00:00 GMT"), 13046400LL * 1000);
  EXPECT_EQ(parse_http_date("Saturday, 01-Jun-69 00:00:00 GMT"), 3137270400LL * 1000);  // 2069
}

// RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the
// most recent past year with those digits.
TEST(HttpDate, Rfc850TwoDigitYearRelativeToNow) {
  const UnixMillis now_2026 = 1795305600LL * 1000;  // Sun, 22 Nov 2026 00:00:00 GMT
  // 2069 is 43 years ahead: taken as 2069.
  EXPECT_EQ(parse_http_date("Saturday, 01-Jun-69 00:00:00 GMT", now_2026), 3137270400LL * 1000);
  // 2094 would be 68 years ahead: 1994.
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now_2026), kRfcExample);
  // 2070 would be 44 years ahead, within 50: 2070 (not 1970 as the fixed window says).
  auto y2070 = parse_http_date("Sunday, 01-Jun-70 00:00:00 GMT", now_2026);
  ASSERT_TRUE(y2070);
  EXPECT_EQ(*y2070, (days_from_civil(2070, 6, 1)) * 86'400'000);
  // Boundary: 2076 is 50 years ahead (not more): 2076; 2077 is 51 years ahead: 1977.
  EXPECT_EQ(parse_http_date("Monday, 01-Jun-76 00:00:00 GMT", now_2026),
            days_from_civil(2076, 6, 1) * 86'400'000);
  EXPECT_EQ(parse_http_date("Wednesday, 01-Jun-77 00:00:00 GMT", now_2026),
            days_from_civil(1977, 6, 1) * 86'400'000);
  // The rule only ever moves a year back: in 2090, "30" is 2030 of the current century.
  const UnixMillis now_2090 = days_from_civil(2090, 1, 1) * 86'400'000;
  EXPECT_EQ(parse_http_date("Friday, 01-Jan-30 00:00:00 GMT", now_2090),
            days_from_civil(2030, 1, 1) * 86'400'000);
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-1000), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(951868799LL * 1000), "Tue, 29 Feb 2000 23:59:59 GMT");
  EXPECT_EQ(format_http_date(1078056000LL * 1000), "Sun, 29 Feb 2004 12:00:00 GMT");
  EXPECT_EQ(format_http_date(4107542400LL * 1000), "Mon, 01 Mar 2100 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-11670998400LL * 1000), "Tue, 29 Feb 1600 00:00:00 GMT");
}

TEST(HttpDate, FormatTruncatesMillisTowardsThePast) {
  EXPECT_EQ(format_http_date(kRfcExample + 999), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(-999), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(-1001), "Wed, 31 Dec 1969 23:59:58 GMT");
}

TEST(HttpDate, FormatClampsToFourDigitYears) {
  EXPECT_EQ(format_http_date(std::numeric_limits<UnixMillis>::max()), "Fri, 31 Dec 9999 23:59:59 GMT");
  EXPECT_EQ(format_http_date(std::numeric_limits<UnixMillis>::min()), "Sat, 01 Jan 0000 00:00:00 GMT");
}

// Against a naive day counter: every day from 1899 to 2101 round-trips through the calendar
// functions and through format/parse.
TEST(HttpDate, CalendarMatchesNaiveDayCountAndRoundTrips) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t days = -(365 * 71 + 17);  // 1899-01-01: 71 years before 1970, 17 leap days (1904..1968)
  for (int y = 1899; y <= 2101; ++y) {
    for (unsigned m = 1; m <= 12; ++m) {
      const int n = mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
      for (int d = 1; d <= n; ++d, ++days) {
        ASSERT_EQ(days_from_civil(y, m, static_cast<unsigned>(d)), days) << y << '-' << m << '-' << d;
        CivilDate c = civil_from_days(days);
        ASSERT_EQ(c.year, y);
        ASSERT_EQ(c.month, m);
        ASSERT_EQ(c.day, static_cast<unsigned>(d));
        const UnixMillis t = days * 86'400'000 + 12 * 3'600'000 + 34 * 60'000 + 56'000;
        ASSERT_EQ(parse_http_date(format_http_date(t)), t) << format_http_date(t);
      }
    }
  }
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
}

}  // namespace
}  // namespace cachefwd::http
