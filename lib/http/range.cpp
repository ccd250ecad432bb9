#include "http/range.h"

#include <limits>
#include <optional>

#include "base/strings.h"
#include "http/etag.h"
#include "http/http_date.h"

namespace cachefwd::http {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// 1*DIGIT, saturating: a position too large to represent is past any representation's end.
std::optional<std::uint64_t> parse_pos(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    v = v > (kMax - d) / 10 ? kMax : v * 10 + d;
  }
  return v;
}

}  // namespace

RangeResult resolve_range(std::string_view value, std::uint64_t length) {
  const RangeResult full{};
  value = trim_ows(value);
  const size_t eq = value.find('=');
  if (eq == std::string_view::npos || !iequals(value.substr(0, eq), "bytes")) return full;

  std::string_view spec;
  int specs = 0;
  std::string_view set = value.substr(eq + 1);
  while (true) {
    const size_t comma = set.find(',');
    const std::string_view element = trim_ows(set.substr(0, comma));
    if (!element.empty()) {
      spec = element;
      ++specs;
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs != 1) return full;

  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  if (dash == 0) {  // suffix-range
    const auto suffix = parse_pos(spec.substr(1));
    if (!suffix) return full;
    if (*suffix == 0) return RangeResult{RangeDecision::unsatisfiable, {}};
    if (length == 0) return full;
    const std::uint64_t first = *suffix >= length ? 0 : length - *suffix;
    return RangeResult{RangeDecision::partial, {first, length - 1}};
  }
  const auto first = parse_pos(spec.substr(0, dash));
  if (!first) return full;
  std::optional<std::uint64_t> last;
  if (dash + 1 < spec.size()) {
    last = parse_pos(spec.substr(dash + 1));
    if (!last || *last < *first) return full;  // malformed or invalid (§14.1.1)
  }
  if (*first >= length) return RangeResult{RangeDecision::unsatisfiable, {}};
  const std::uint64_t end = (!last || *last >= length) ? length - 1 : *last;
  return RangeResult{RangeDecision::partial, {*first, end}};
}

std::string format_content_range(const ByteRange& range, std::uint64_t complete_length) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(complete_length);
}

std::string format_unsatisfied_content_range(std::uint64_t complete_length) {
  return "bytes */" + std::to_string(complete_length);
}

void set_partial_content_headers(Headers& headers, const ByteRange& range, std::uint64_t complete_length) {
  headers.set("Content-Range", format_content_range(range, complete_length));
  headers.set("Content-Length", std::to_string(range.size()));
}

bool if_range_allows(std::string_view value, const Headers& stored) {
  value = trim_ows(value);
  if (!value.empty() && (value.front() == '"' || value.starts_with("W/"))) {
    const auto given = parse_entity_tag(value);
    const std::string* etag = stored.find("ETag");
    if (!given || !etag) return false;
    const auto current = parse_entity_tag(*etag);
    return current && strong_match(*given, *current);
  }
  const auto date = parse_http_date(value);
  const std::string* lm = stored.find("Last-Modified");
  const std::string* stored_date = stored.find("Date");
  if (!date || !lm || !stored_date) return false;
  const auto last_modified = parse_http_date(*lm);
  const auto sent = parse_http_date(*stored_date);
  if (!last_modified || !sent || *last_modified != *date) return false;
  return *sent - *last_modified >= 60'000;
}

RangeResult evaluate_range_request(std::string_view method, const Headers& request_headers,
                                   const Headers& stored_response, std::uint64_t length) {
  if (method != "GET" || !request_headers.has("Range")) return RangeResult{};
  // A second If-Range line makes the value a list, which is no valid If-Range: false.
  if (request_headers.has("If-Range") &&
      (request_headers.count("If-Range") != 1 ||
       !if_range_allows(*request_headers.find("If-Range"), stored_response)))
    return RangeResult{};
  return resolve_range(request_headers.combined("Range"), length);
}

}  // namespace cachefwd::http
