#include "http/http_date.h"

#include <array>

#include "base/strings.h"

namespace cachefwd::http {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the whole proleptic Gregorian
// calendar, no tables, no time zone.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
  return CivilDate{y + (m <= 2), m, d};
}

namespace {

constexpr std::array<std::string_view, 7> kDayShort = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kDayLong = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                      "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonth = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// A cursor over the field value; each take_* consumes on success only.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }

  bool take_char(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }
  // Exactly `n` digits.
  bool take_digits(size_t n, int& out) {
    if (s_.size() < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s_[i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    s_.remove_prefix(n);
    return true;
  }
  // One of `names`, case-insensitively (RFC 9111 §4.2); returns its index.
  template <size_t N>
  bool take_name(const std::array<std::string_view, N>& names, unsigned& index) {
    for (unsigned i = 0; i < N; ++i) {
      if (istarts_with(s_, names[i])) {
        s_.remove_prefix(names[i].size());
        index = i;
        return true;
      }
    }
    return false;
  }
  bool take_word(std::string_view w) {
    if (!istarts_with(s_, w)) return false;
    s_.remove_prefix(w.size());
    return true;
  }

 private:
  std::string_view s_;
};

struct Fields {
  std::int64_t year = 0;
  unsigned month = 0;  // 1-12
  int day = 0, hour = 0, minute = 0, second = 0;
};

// time-of-day = hour ":" minute ":" second (RFC 9110 §5.6.7); second may be 60 (leap second).
bool take_time(Cursor& c, Fields& f) {
  return c.take_digits(2, f.hour) && c.take_char(':') && c.take_digits(2, f.minute) && c.take_char(':') &&
         c.take_digits(2, f.second) && f.hour <= 23 && f.minute <= 59 && f.second <= 60;
}

bool take_month(Cursor& c, Fields& f) {
  unsigned m = 0;
  if (!c.take_name(kMonth, m)) return false;
  f.month = m + 1;
  return true;
}

std::optional<UnixMillis> to_millis(const Fields& f) {
  if (f.day < 1 || static_cast<unsigned>(f.day) > days_in_month(f.year, f.month)) return std::nullopt;
  std::int64_t days = days_from_civil(f.year, f.month, static_cast<unsigned>(f.day));
  std::int64_t secs = days * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
  return seconds_to_millis(secs);
}

// IMF-fixdate after the day name: ", 06 Nov 1994 08:49:37 GMT"
bool parse_imf_rest(Cursor& c, Fields& f) {
  int year = 0;
  if (!(c.take_char(',') && c.take_char(' ') && c.take_digits(2, f.day) && c.take_char(' ') &&
        take_month(c, f) && c.take_char(' ') && c.take_digits(4, year) && c.take_char(' ') &&
        take_time(c, f) && c.take_char(' ') && c.take_word("GMT") && c.done()))
    return false;
  f.year = year;
  return true;
}

// rfc850-date after the day name: ", 06-Nov-94 08:49:37 GMT"; the year is returned as two digits.
bool parse_rfc850_rest(Cursor& c, Fields& f, int& yy) {
  return c.take_char(',') && c.take_char(' ') && c.take_digits(2, f.day) && c.take_char('-') &&
         take_month(c, f) && c.take_char('-') && c.take_digits(2, yy) && c.take_char(' ') &&
         take_time(c, f) && c.take_char(' ') && c.take_word("GMT") && c.done();
}

// asctime-date after the day name: " Nov  6 08:49:37 1994" (day is 2DIGIT or SP DIGIT).
bool parse_asctime_rest(Cursor& c, Fields& f) {
  if (!(c.take_char(' ') && take_month(c, f) && c.take_char(' '))) return false;
  if (c.take_char(' ')) {
    if (!c.take_digits(1, f.day)) return false;
  } else if (!c.take_digits(2, f.day)) {
    return false;
  }
  int year = 0;
  if (!(c.take_char(' ') && take_time(c, f) && c.take_char(' ') && c.take_digits(4, year) && c.done()))
    return false;
  f.year = year;
  return true;
}

// `resolve_yy` turns RFC 850's two-digit year into a full year.
template <class ResolveYear>
std::optional<UnixMillis> parse(std::string_view s, ResolveYear&& resolve_yy) {
  s = trim_ows(s);
  Fields f;
  unsigned wday = 0;
  // Long names first: "Sunday" must not be read as "Sun" followed by "day".
  {
    Cursor c(s);
    int yy = 0;
    if (c.take_name(kDayLong, wday)) {
      if (!parse_rfc850_rest(c, f, yy)) return std::nullopt;
      f.year = resolve_yy(yy);
      return to_millis(f);
    }
  }
  Cursor c(s);
  if (!c.take_name(kDayShort, wday)) return std::nullopt;
  Cursor imf = c;
  if (parse_imf_rest(imf, f)) return to_millis(f);
  f = Fields{};
  if (parse_asctime_rest(c, f)) return to_millis(f);
  return std::nullopt;
}

}  // namespace

std::optional<UnixMillis> parse_http_date(std::string_view s) {
  // Without a clock, a fixed window: 70-99 -> 19xx, 00-69 -> 20xx (as curl and most parsers do).
  return parse(s, [](int yy) -> std::int64_t { return yy >= 70 ? 1900 + yy : 2000 + yy; });
}

std::optional<UnixMillis> parse_http_date(std::string_view s, UnixMillis now) {
  const std::int64_t now_days = (now >= 0 ? now : now - 86'399'999) / 86'400'000;
  const std::int64_t now_year = civil_from_days(now_days).year;
  return parse(s, [now_year](int yy) -> std::int64_t {
    // RFC 9110 §5.6.7: the year of the current century, unless that is more than 50 years
    // ahead of `now`; then the most recent past year with the same two digits.
    std::int64_t century = now_year - ((now_year % 100) + 100) % 100;
    std::int64_t y = century + yy;
    if (y > now_year + 50) y -= 100;
    return y;
  });
}

std::string format_http_date(UnixMillis t) {
  constexpr std::int64_t kMinSecs = -62'167'219'200;                 // 0000-01-01T00:00:00Z
  constexpr std::int64_t kMaxSecs = 253'402'300'799;                 // 9999-12-31T23:59:59Z
  std::int64_t secs = t >= 0 ? t / 1000 : -((-(t + 1)) / 1000) - 1;  // floor without overflow
  if (secs < kMinSecs) secs = kMinSecs;
  if (secs > kMaxSecs) secs = kMaxSecs;
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  auto sod = static_cast<int>(secs - days * 86400);
  CivilDate d = civil_from_days(days);
  // 1970-01-01 was a Thursday.
  auto wday = static_cast<unsigned>(((days % 7) + 7 + 4) % 7);

  std::string out;
  out.reserve(29);
  auto two = [&](int v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
  };
  out += kDayShort[wday];
  out += ", ";
  two(static_cast<int>(d.day));
  out += ' ';
  out += kMonth[d.month - 1];
  out += ' ';
  auto y = static_cast<int>(d.year);
  two(y / 100);
  two(y % 100);
  out += ' ';
  two(sod / 3600);
  out += ':';
  two(sod / 60 % 60);
  out += ':';
  two(sod % 60);
  out += " GMT";
  return out;
}

}  // namespace cachefwd::http
