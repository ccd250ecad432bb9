#include "http/etag.h"

#include "base/strings.h"

namespace cachefwd::http {

namespace {

bool etagc(unsigned char c) { return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80; }

// Parses one entity-tag at the start of `s`; on success removes it from `s`.
std::optional<EntityTag> take_entity_tag(std::string_view& s) {
  EntityTag t;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    t.weak = true;
    i = 2;
  }
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  const size_t open = i++;
  while (i < s.size() && etagc(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  t.opaque = std::string(s.substr(open, i - open + 1));
  s.remove_prefix(i + 1);
  return t;
}

}  // namespace

std::optional<EntityTag> parse_entity_tag(std::string_view s) {
  s = trim_ows(s);
  auto t = take_entity_tag(s);
  if (!t || !s.empty()) return std::nullopt;
  return t;
}

bool strong_match(const EntityTag& a, const EntityTag& b) noexcept {
  return !a.weak && !b.weak && a.opaque == b.opaque;
}

bool weak_match(const EntityTag& a, const EntityTag& b) noexcept { return a.opaque == b.opaque; }

EntityTagList parse_entity_tag_list(std::string_view value) {
  EntityTagList out;
  std::string_view s = value;
  while (true) {
    // Skip empty list elements and whitespace (RFC 9110 §5.6.1.2).
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) s.remove_prefix(1);
    if (s.empty()) break;
    std::string_view rest = s;
    std::optional<EntityTag> t;
    if (rest.front() == '*') {
      rest.remove_prefix(1);
    } else {
      t = take_entity_tag(rest);
    }
    const std::string_view after = trim_ows(rest);
    const bool well_formed = (t || s.front() == '*') && (after.empty() || after.front() == ',');
    if (well_formed) {
      if (t)
        out.tags.push_back(std::move(*t));
      else
        out.any = true;
      s = after;
    } else {
      // Malformed member: drop it, up to the next comma outside a quoted string.
      bool quoted = false;
      size_t i = 0;
      for (; i < s.size(); ++i) {
        if (s[i] == '"') quoted = !quoted;
        if (s[i] == ',' && !quoted) break;
      }
      s.remove_prefix(i);
    }
  }
  return out;
}

bool list_weak_matches(const EntityTagList& list, const EntityTag& tag) noexcept {
  if (list.any) return true;
  for (const EntityTag& t : list.tags)
    if (weak_match(t, tag)) return true;
  return false;
}

}  // namespace cachefwd::http
