#include "cache/policy/config.h"

#include "base/strings.h"

namespace cachefwd::cache::policy {

std::optional<std::map<int, std::int64_t>> parse_status_ttls(std::string_view spec) {
  std::map<int, std::int64_t> out;
  spec = trim_ows(spec);
  if (spec.empty()) return out;
  while (true) {
    const size_t comma = spec.find(',');
    const std::string_view element = trim_ows(spec.substr(0, comma));
    const size_t eq = element.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view code_text = trim_ows(element.substr(0, eq));
    if (code_text.size() != 3) return std::nullopt;
    const auto code = parse_decimal(code_text);
    const auto ttl = parse_duration_ms(trim_ows(element.substr(eq + 1)));
    if (!code || !ttl) return std::nullopt;
    if (*code < 200 || *code > 599 || *code == 206 || *code == 304) return std::nullopt;
    if (!out.emplace(static_cast<int>(*code), *ttl).second) return std::nullopt;
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace cachefwd::cache::policy
