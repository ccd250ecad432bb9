#include "cache/key/cache_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "base/strings.h"

namespace cachefwd::cache::key {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

void append_pct(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// URL text: a raw control byte is not valid in a URI; its percent-encoding names the same thing.
void append_url_part(std::string& out, std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_ctl(c))
      append_pct(out, c);
    else
      out += ch;
  }
}

// Field values, cookie names and values, partition: injective escaping ('%' itself escaped), so
// no value can forge a separator or collide with another value.
void append_escaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_ctl(c) || c == '%')
      append_pct(out, c);
    else
      out += ch;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct Param {
  std::string_view text;  // "name=value" as sent
  std::string_view name;
  std::string_view value;
};

bool ignored(std::string_view name, const KeyPolicy& policy) {
  if (policy.ignore_query.empty()) return false;
  const std::string decoded = percent_decode(name);
  for (const std::string& g : policy.ignore_query)
    if (glob_match(g, name) || glob_match(g, decoded)) return true;
  return false;
}

// The query as it goes into the key, nullopt when the key has no '?'.
std::optional<std::string> key_query(const http::TargetUri& target, const KeyPolicy& policy) {
  if (!target.has_query || policy.query == KeyPolicy::Query::none) return std::nullopt;

  std::vector<Param> params;
  bool removed = false;
  std::string_view q = target.query;
  while (true) {
    const size_t amp = q.find('&');
    const std::string_view text = q.substr(0, amp);
    const size_t eq = text.find('=');
    Param p{text, text.substr(0, eq),
            eq == std::string_view::npos ? std::string_view{} : text.substr(eq + 1)};
    if (ignored(p.name, policy))
      removed = true;
    else if (!text.empty() || policy.query == KeyPolicy::Query::all)
      params.push_back(p);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }

  if (policy.query == KeyPolicy::Query::all && !removed) return std::string(target.query);
  if (policy.query == KeyPolicy::Query::sorted) {
    std::stable_sort(params.begin(), params.end(), [](const Param& a, const Param& b) {
      if (a.name != b.name) return a.name < b.name;
      return a.value < b.value;
    });
  }
  std::string out;
  for (const Param& p : params) {
    if (p.text.empty()) continue;  // "a=1&&b=2" after a removal: the empty one carries nothing
    if (!out.empty()) out += '&';
    out += p.text;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Whitespace normalisation RFC 9111 §4.1 allows for comparing field values: outside quoted
// strings, runs of SP/HTAB become one SP, and whitespace next to a comma or at either end goes.
std::string normalize_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool quoted = false, pending_space = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (quoted) {
      out += c;
      if (c == '\\' && i + 1 < v.size())
        out += v[++i];
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (c == ' ' || c == '\t') {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty() && out.back() != ',' && c != ',') out += ' ';
    pending_space = false;
    if (c == '"') quoted = true;
    out += c;
  }
  return out;
}

// Request field values for the key: every line combined (RFC 9110 §5.3), then normalised;
// nullopt when the request has no such field.
std::optional<std::string> field_value(const http::Headers& h, std::string_view name) {
  if (!h.has(name)) return std::nullopt;
  return normalize_value(h.combined(name));
}

// Accept-Encoding and Accept-Language as §4.1 lets a cache normalise them: a set of members, each
// lower-cased with its whitespace removed and a default ";q=1" dropped, sorted, duplicates gone.
// Their order carries no preference (RFC 9110 §12.4.2: q-values do), so "gzip, br" and "br,GZIP"
// select the same variant instead of multiplying stored copies.
bool is_token_set_field(std::string_view name) {
  return iequals(name, "accept-encoding") || iequals(name, "accept-language");
}

std::string token_set_value(std::string_view combined) {
  std::vector<std::string> members;
  http::for_each_list_element(combined, [&](std::string_view member) {
    std::string m;
    for (char c : member)
      if (c != ' ' && c != '\t') m += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view q : {";q=1.000", ";q=1.00", ";q=1.0", ";q=1"}) {
      if (m.size() > q.size() && m.ends_with(q)) {
        m.resize(m.size() - q.size());
        break;
      }
    }
    if (!m.empty()) members.push_back(std::move(m));
  });
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::string out;
  for (auto& m : members) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

// First value of cookie `name` in the request's Cookie field(s) (RFC 6265 §4.2.1: "; "-separated
// name=value pairs; names are case-sensitive).
std::optional<std::string_view> cookie_value(const http::Headers& h, std::string_view name) {
  for (const http::Header& f : h.fields()) {
    if (!iequals(f.name, "Cookie")) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      const std::string_view pair = trim_ows(rest.substr(0, semi));
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trim_ows(pair.substr(0, eq)) == name)
        return trim_ows(pair.substr(eq + 1));
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

void append_url(std::string& out, const http::TargetUri& target, const KeyPolicy& policy) {
  append_url_part(out, target.scheme);
  out += "://";
  const bool v6 = target.host.find(':') != std::string::npos;
  if (v6) out += '[';
  append_url_part(out, target.host);
  if (v6) out += ']';
  out += ':';
  out += std::to_string(target.port);
  append_url_part(out, target.path.empty() ? std::string_view("/") : std::string_view(target.path));
  if (auto q = key_query(target, policy)) {
    out += '?';
    append_url_part(out, *q);
  }
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kLowerHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kLowerHex[digest[i] >> 4];
    out += kLowerHex[digest[i] & 0xf];
  }
  return out;
}

std::string normalized_url(const http::TargetUri& target, const KeyPolicy& policy) {
  std::string out;
  out.reserve(target.scheme.size() + target.host.size() + target.path.size() + target.query.size() + 16);
  append_url(out, target, policy);
  return out;
}

std::string url_key_prefix(const http::TargetUri& target, const KeyPolicy& policy) {
  std::string out = normalized_url(target, policy);
  out += kKeySeparator;
  return out;
}

std::string build_key(std::string_view method, const http::TargetUri& target,
                      const http::Headers& request_headers, std::string_view body, const KeyPolicy& policy) {
  std::string k = url_key_prefix(target, policy);
  // RFC 9110 §9.3.2: HEAD is GET without content; one stored GET answers both.
  append_escaped(k, method == "HEAD" ? std::string_view("GET") : method);
  k += kKeySeparator;
  append_escaped(k, policy.partition);
  for (const std::string& name : policy.headers) {
    k += kKeySeparator;
    k += to_lower(name);
    if (auto v = field_value(request_headers, name)) {
      k += '=';
      append_escaped(k, *v);
    }
  }
  for (const std::string& name : policy.cookies) {
    k += kKeySeparator;
    k += "cookie:";
    append_escaped(k, name);
    if (auto v = cookie_value(request_headers, name)) {
      k += '=';
      append_escaped(k, *v);
    }
  }
  if (policy.body_digest) {
    k += kKeySeparator;
    k += "sha256:";
    k += sha256_hex(body);
  }
  return k;
}

std::string primary_key(std::string_view method, const http::TargetUri& target) {
  static const KeyPolicy kDefault;
  static const http::Headers kNoHeaders;
  return build_key(method, target, kNoHeaders, {}, kDefault);
}

std::optional<std::string> vary_key(const http::Headers& stored_response_headers,
                                    const http::Headers& request_headers) {
  std::string out;
  bool star = false, first = true;
  for (const http::Header& f : stored_response_headers.fields()) {
    if (!iequals(f.name, "Vary")) continue;
    http::for_each_list_element(f.value, [&](std::string_view member) {
      if (member == "*") {
        star = true;
        return;
      }
      if (!first) out += '\n';
      first = false;
      out += to_lower(member);
      if (is_token_set_field(member) && request_headers.has(member)) {
        out += '=';
        append_escaped(out, token_set_value(request_headers.combined(member)));
      } else if (auto v = field_value(request_headers, member)) {
        out += '=';
        append_escaped(out, *v);
      }
    });
  }
  if (star) return std::nullopt;
  return out;
}

}  // namespace cachefwd::cache::key
