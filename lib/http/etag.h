#pragma once
// Entity tags (RFC 9110 §8.8.3) and their two comparison functions (§8.8.3.2), plus the list form
// If-None-Match carries (§13.1.2).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::http {

struct EntityTag {
  bool weak = false;
  std::string opaque;  // the opaque-tag including its double quotes, e.g. "\"xyzzy\""
};

// entity-tag = [ "W/" ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E /
// obs-text. The weak indicator "W/" is case-sensitive. Surrounding whitespace is ignored; anything
// else (unquoted tags, a lower-case "w/", spaces inside) is nullopt.
std::optional<EntityTag> parse_entity_tag(std::string_view s);

// §8.8.3.2: strong comparison matches when neither is weak and the opaque-tags are identical;
// weak comparison when the opaque-tags are identical, whatever the weak indicators.
bool strong_match(const EntityTag& a, const EntityTag& b) noexcept;
bool weak_match(const EntityTag& a, const EntityTag& b) noexcept;

// If-None-Match / If-Match value: "*" or a list of entity tags. Members that are not valid entity
// tags are skipped (a recipient cannot evaluate them, and they can never match).
struct EntityTagList {
  bool any = false;  // "*"
  std::vector<EntityTag> tags;
};
// `value` is all field lines combined with ", ". Commas inside an opaque-tag do not split.
EntityTagList parse_entity_tag_list(std::string_view value);

// True when some member of `list` weakly matches `tag` (the If-None-Match rule, §13.1.2), or the
// list is "*".
bool list_weak_matches(const EntityTagList& list, const EntityTag& tag) noexcept;

}  // namespace cachefwd::http
