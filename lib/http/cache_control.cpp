#include "http/cache_control.h"

#include "base/strings.h"

namespace cachefwd::http {

std::optional<std::int64_t> parse_delta_seconds(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    // Saturate rather than fail: RFC 9111 §1.3 says an unrepresentable value means 2^31.
    if (v <= kDeltaSecondsMax) v = v * 10 + (c - '0');
  }
  return v > kDeltaSecondsMax ? kDeltaSecondsMax : v;
}

namespace {

// The argument of a directive: token as is, quoted-string unescaped (RFC 9110 §5.6.4).
std::string unquote(std::string_view v) {
  if (v.empty() || v.front() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') break;
    if (c == '\\' && i + 1 < v.size()) c = v[++i];
    out += c;
  }
  return out;
}

std::vector<std::string> field_list(std::string_view arg) {
  std::vector<std::string> out;
  for_each_list_element(arg, [&](std::string_view f) { out.emplace_back(f); });
  return out;
}

// First valid value wins for directives whose repetition the RFC does not single out.
void set_first(std::optional<std::int64_t>& slot, const std::optional<std::string>& arg) {
  if (slot || !arg) return;
  slot = parse_delta_seconds(*arg);
}

// max-age / s-maxage: an invalid argument, or a second occurrence that disagrees, makes the
// value unusable; RFC 9111 §4.2.1 then prefers treating the response as stale over guessing.
void set_strict(std::optional<std::int64_t>& slot, bool& invalid, bool& seen,
                const std::optional<std::string>& arg) {
  std::optional<std::int64_t> v = arg ? parse_delta_seconds(*arg) : std::nullopt;
  if (!v || (seen && slot != v)) {
    invalid = true;
    slot.reset();
  } else if (!invalid) {
    slot = v;
  }
  seen = true;
}

}  // namespace

CacheControl parse_cache_control(std::string_view value) {
  CacheControl cc;
  bool seen_max_age = false, seen_s_maxage = false;
  for_each_list_element(value, [&](std::string_view element) {
    std::string_view name = element;
    std::optional<std::string> arg;
    if (auto eq = element.find('='); eq != std::string_view::npos) {
      name = trim_ows(element.substr(0, eq));
      arg = unquote(trim_ows(element.substr(eq + 1)));
    }
    if (iequals(name, "max-age"))
      set_strict(cc.max_age, cc.invalid_max_age, seen_max_age, arg);
    else if (iequals(name, "s-maxage"))
      set_strict(cc.s_maxage, cc.invalid_s_maxage, seen_s_maxage, arg);
    else if (iequals(name, "min-fresh"))
      set_first(cc.min_fresh, arg);
    else if (iequals(name, "stale-while-revalidate"))
      set_first(cc.stale_while_revalidate, arg);
    else if (iequals(name, "stale-if-error"))
      set_first(cc.stale_if_error, arg);
    else if (iequals(name, "max-stale")) {
      // §5.2.1.2: without a value the client accepts any staleness; a bad value is ignored
      // (the stricter reading: no stale response).
      if (!arg)
        cc.max_stale_any = true;
      else
        set_first(cc.max_stale, arg);
    } else if (iequals(name, "no-cache")) {
      // §5.2.2.4: the qualified form restricts only the listed fields. An empty list restricts
      // nothing useful, so it is read as the unqualified form, the safer side.
      auto fields = arg ? field_list(*arg) : std::vector<std::string>{};
      if (fields.empty())
        cc.no_cache = true;
      else
        cc.no_cache_fields.insert(cc.no_cache_fields.end(), fields.begin(), fields.end());
    } else if (iequals(name, "private")) {
      auto fields = arg ? field_list(*arg) : std::vector<std::string>{};
      if (fields.empty())
        cc.private_ = true;
      else
        cc.private_fields.insert(cc.private_fields.end(), fields.begin(), fields.end());
    } else if (iequals(name, "no-store"))
      cc.no_store = true;
    else if (iequals(name, "public"))
      cc.public_ = true;
    else if (iequals(name, "must-revalidate"))
      cc.must_revalidate = true;
    else if (iequals(name, "proxy-revalidate"))
      cc.proxy_revalidate = true;
    else if (iequals(name, "only-if-cached"))
      cc.only_if_cached = true;
    else if (iequals(name, "no-transform"))
      cc.no_transform = true;
    else if (iequals(name, "must-understand"))
      cc.must_understand = true;
    else if (iequals(name, "immutable"))
      cc.immutable = true;
    // Anything else is an extension we do not understand: ignored (§5.2.3).
  });
  return cc;
}

CacheControl parse_cache_control(const Headers& h) {
  return parse_cache_control(h.combined("Cache-Control"));
}

}  // namespace cachefwd::http
