#pragma once
// Cache keys (RFC 9111 §2, §4.1) built from a request and a KeyPolicy (--key-* flags, rule options).
//
// Layout of a primary key, fields separated by the byte 0x1f (US), which cannot occur in any part
// (control bytes are escaped, see below):
//
//   scheme://host:port/path[?query] 0x1f METHOD 0x1f partition
//     [0x1f name=value | 0x1f name]*          one per KeyPolicy::headers entry, in policy order
//     [0x1f cookie:name=value | cookie:name]* one per KeyPolicy::cookies entry, in policy order
//     [0x1f sha256:<64 hex digits>]           KeyPolicy::body_digest
//
// The URL comes first so that every key of one URL starts with url_key_prefix() (purge and RFC 9111
// §4.4 invalidation by prefix) and every key under a path starts with the URL text up to there.
// A bare name means the field (or cookie) was absent; "name=" means present and empty: the two must
// not share an entry (RFC 9111 §4.1 makes the same distinction for Vary).
// Escaping: in the URL a control byte (0x00-0x1f, 0x7f) becomes %XX, its percent-encoding, so the
// URL stays a URL; in header and cookie values, cookie names and the partition, '%' and control
// bytes become %XX, which keeps distinct values distinct.
#include <optional>
#include <string>
#include <string_view>

#include "cache/key/key_policy.h"
#include "http/headers.h"
#include "http/request.h"

namespace cachefwd::cache::key {

inline constexpr char kKeySeparator = '\x1f';

// The full primary key. `method` is case-sensitive (RFC 9110 §9.1) and HEAD is keyed as GET: a
// stored GET response answers a HEAD request (RFC 9110 §9.3.2). Query handling per policy.query:
// all = as sent (a bare "?" kept), sorted = parameters stably sorted by name then value, empty
// ones and a bare "?" dropped, none = no query. Parameters whose name matches one of
// policy.ignore_query (globs, '*' matches any run, case-sensitive, tried on the name as sent and
// percent-decoded) are removed in every mode; if that removes all of them the '?' goes too.
// `body` is read only when policy.body_digest is set.
std::string build_key(std::string_view method, const http::TargetUri& target,
                      const http::Headers& request_headers, std::string_view body, const KeyPolicy& policy);

// The URL part of every key build_key makes for `target` under `policy`, plus the separator:
// the prefix shared by all methods, partitions and variants of that one URL.
std::string url_key_prefix(const http::TargetUri& target, const KeyPolicy& policy);

// The same URL without the separator ("http://h:80/a/b?x"), e.g. for a directory-style purge.
std::string normalized_url(const http::TargetUri& target, const KeyPolicy& policy);

// RFC 9111 §4.1 secondary key: the request's values of the fields the stored response's Vary
// names. nullopt when Vary contains "*" (never matches); "" when there is no Vary (or it names
// nothing). Otherwise one entry per Vary member, in Vary order, separated by '\n': the field name
// lower-cased, then '=' and the value when the request has the field, nothing when it does not
// (absent only matches absent). Values are normalised as §4.1 allows: all field lines combined
// with ", ", whitespace runs outside quoted strings collapsed to one SP, whitespace around commas
// and at the ends removed. Accept-Encoding and Accept-Language are compared as sets of members,
// case-insensitively, ignoring order, whitespace, duplicates and a default ";q=1". A request
// matches a stored response when both give the same string.
std::optional<std::string> vary_key(const http::Headers& stored_response_headers,
                                    const http::Headers& request_headers);

// The primary key with no options, as the proxy used before KeyPolicy existed: identical to
// build_key(method, target, {}, {}, KeyPolicy{}).
std::string primary_key(std::string_view method, const http::TargetUri& target);

// Lower-case hex SHA-256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

// Glob with '*' only (any run of bytes, also empty), byte for byte.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace cachefwd::cache::key
