#include "base/strings.h"

#include <cstdio>
#include <limits>

namespace cachefwd {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

bool istarts_with(std::string_view haystack, std::string_view prefix) noexcept {
  return haystack.size() >= prefix.size() && iequals(haystack.substr(0, prefix.size()), prefix);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parse_decimal(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int d = c - '0';
    if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

namespace {
// Splits "123abc" into the number and the unit suffix.
bool split_number_unit(std::string_view s, std::int64_t& n, std::string_view& unit) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  auto num = parse_decimal(s.substr(0, i));
  if (!num) return false;
  n = *num;
  unit = trim_ows(s.substr(i));
  return true;
}
}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view s) noexcept {
  std::int64_t n = 0;
  std::string_view unit;
  if (!split_number_unit(trim_ows(s), n, unit)) return std::nullopt;
  std::uint64_t mult = 1;
  if (unit.empty() || iequals(unit, "b"))
    mult = 1;
  else if (iequals(unit, "k") || iequals(unit, "kib") || iequals(unit, "kb"))
    mult = 1ULL << 10;
  else if (iequals(unit, "m") || iequals(unit, "mib") || iequals(unit, "mb"))
    mult = 1ULL << 20;
  else if (iequals(unit, "g") || iequals(unit, "gib") || iequals(unit, "gb"))
    mult = 1ULL << 30;
  else if (iequals(unit, "t") || iequals(unit, "tib") || iequals(unit, "tb"))
    mult = 1ULL << 40;
  else
    return std::nullopt;
  auto u = static_cast<std::uint64_t>(n);
  if (u > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
  return u * mult;
}

std::optional<std::int64_t> parse_duration_ms(std::string_view s) noexcept {
  // One or more <number><unit> parts, largest unit first as people write them ("1h30m", "1m30s",
  // "1.5s"); a lone bare number is seconds. Fractions are allowed and rounded to milliseconds.
  s = trim_ows(s);
  if (s.empty()) return std::nullopt;
  double total = 0;
  double last_mult = 0;  // units must decrease: "30s1m" is a typo, not 90 s
  size_t i = 0;
  int parts = 0;
  while (i < s.size()) {
    const size_t num_start = i;
    bool digits = false, dot = false;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
      if (s[i] == '.')
        dot = true;
      else
        digits = true;
      ++i;
    }
    if (!digits) return std::nullopt;
    double value = 0, scale = 0;
    for (size_t k = num_start; k < i; ++k) {
      if (s[k] == '.') {
        scale = 1;
        continue;
      }
      if (scale > 0) {
        scale /= 10;
        value += (s[k] - '0') * scale;
      } else {
        value = value * 10 + (s[k] - '0');
      }
    }
    const size_t unit_start = i;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i;
    const std::string_view unit = s.substr(unit_start, i - unit_start);
    double mult = 0;
    if (unit.empty()) {
      if (parts > 0 || i != s.size()) return std::nullopt;  // "1m30" is ambiguous
      mult = 1000;
    } else if (unit == "s")
      mult = 1000;
    else if (unit == "ms")
      mult = 1;
    else if (unit == "m" || unit == "min")
      mult = 60'000;
    else if (unit == "h")
      mult = 3'600'000;
    else if (unit == "d")
      mult = 86'400'000;
    else
      return std::nullopt;
    if (last_mult != 0 && mult >= last_mult) return std::nullopt;
    last_mult = mult;
    total += value * mult;
    ++parts;
    if (total > 9.2e18) return std::nullopt;
  }
  return static_cast<std::int64_t>(total + 0.5);
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[48];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
  return buf;
}

}  // namespace cachefwd
