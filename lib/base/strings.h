#pragma once
// ASCII helpers for protocol text. HTTP field names and most tokens are case-insensitive ASCII;
// locale-aware functions would be wrong (and slow) here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachefwd {

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept;
// Does `haystack` start with `prefix`, ignoring ASCII case?
bool istarts_with(std::string_view haystack, std::string_view prefix) noexcept;
std::string to_lower(std::string_view s);
// Strips optional whitespace (SP / HTAB) on both ends (RFC 9110 §5.6.3 OWS).
std::string_view trim_ows(std::string_view s) noexcept;
// Parses a non-negative decimal integer that spans all of `s`; nullopt on anything else or
// overflow of int64.
std::optional<std::int64_t> parse_decimal(std::string_view s) noexcept;
// Parses sizes like "256MiB", "1KiB", "10MB", "4096" into bytes.
std::optional<std::uint64_t> parse_size(std::string_view s) noexcept;
// "1.50 MiB", "512 B": binary units, two decimals, for reports.
std::string format_bytes(std::uint64_t bytes);
// Parses durations like "60", "60s", "500ms", "5m", "1h" into milliseconds (a bare number is seconds).
std::optional<std::int64_t> parse_duration_ms(std::string_view s) noexcept;

}  // namespace cachefwd
