// Cache keys: RFC 9111 §2 (primary key: method + target URI), §4.1 (Vary secondary key), and the
// key options of issue #3 (query handling, headers, cookies, body digest, partitions).
#include "cache/key/cache_key.h"

#include <gtest/gtest.h>

namespace cachefwd::cache::key {
namespace {

http::TargetUri uri(std::string_view s) {
  http::TargetUri t;
  EXPECT_TRUE(http::parse_absolute_target(s, t)) << s;
  return t;
}

const http::Headers kNoHeaders;

std::string key(std::string_view url, const KeyPolicy& p = {}, const http::Headers& h = kNoHeaders,
                std::string_view method = "GET", std::string_view body = {}) {
  return build_key(method, uri(url), h, body, p);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// ---- layout ----

TEST(BuildKey, DefaultLayout) {
  EXPECT_EQ(key("http://example.com/a/b?x=1"), std::string("http://example.com:80/a/b?x=1\x1fGET\x1f"));
  EXPECT_EQ(key("http://example.com:8080"), std::string("http://example.com:8080/\x1fGET\x1f"));
}

TEST(BuildKey, PrimaryKeyIsBuildKeyWithDefaultPolicy) {
  for (const char* u : {"http://example.com/", "http://h:81/p?q", "http://[::1]:8080/x", "http://h/p?"}) {
    EXPECT_EQ(primary_key("GET", uri(u)), build_key("GET", uri(u), kNoHeaders, {}, KeyPolicy{})) << u;
    EXPECT_EQ(primary_key("POST", uri(u)), build_key("POST", uri(u), kNoHeaders, "body", KeyPolicy{})) << u;
  }
}

// The port is always written, so the default port spelled out or not gives one key; scheme and
// host are case-insensitive (RFC 3986 §6.2.2.1), the path is not.
TEST(BuildKey, AuthorityNormalised) {
  EXPECT_EQ(key("http://example.com/p"), key("http://example.com:80/p"));
  EXPECT_EQ(key("http://EXAMPLE.com/p"), key("http://example.com/p"));
  EXPECT_EQ(key("HTTP://example.com/p"), key("http://example.com/p"));
  EXPECT_NE(key("http://example.com/p"), key("http://example.com:8080/p"));
  EXPECT_NE(key("http://example.com/p"), key("http://example.com/P"));
  EXPECT_NE(key("http://a.example/p"), key("http://b.example/p"));
  EXPECT_TRUE(starts_with(key("http://[::1]:8080/x"), "http://[::1]:8080/x\x1f"));
}

// §2: the key includes the method; HEAD is answered from a stored GET (RFC 9110 §9.3.2).
TEST(BuildKey, Method) {
  EXPECT_EQ(key("http://h/p", {}, kNoHeaders, "HEAD"), key("http://h/p"));
  EXPECT_NE(key("http://h/p", {}, kNoHeaders, "POST"), key("http://h/p"));
  // Method names are case-sensitive (RFC 9110 §9.1).
  EXPECT_NE(key("http://h/p", {}, kNoHeaders, "get"), key("http://h/p"));
  EXPECT_NE(key("http://h/p", {}, kNoHeaders, "head"), key("http://h/p"));
}

TEST(BuildKey, Partition) {
  KeyPolicy a, b, a2;
  a.partition = "rule-a";
  b.partition = "rule-b";
  a2.partition = "rule-a";
  EXPECT_NE(key("http://h/p", a), key("http://h/p", b));
  EXPECT_NE(key("http://h/p", a), key("http://h/p"));
  EXPECT_EQ(key("http://h/p", a), key("http://h/p", a2));
  EXPECT_TRUE(starts_with(key("http://h/p", a), url_key_prefix(uri("http://h/p"), a)));
}

// ---- query ----

TEST(KeyQuery, AllKeepsTheQueryAsSent) {
  EXPECT_NE(key("http://h/p?a=1&b=2"), key("http://h/p?b=2&a=1"));
  // A bare '?' (when the target parser reports one) is kept as sent.
  http::TargetUri bare = uri("http://h/p");
  bare.has_query = true;
  EXPECT_EQ(build_key("GET", bare, kNoHeaders, {}, {}), std::string("http://h:80/p?\x1fGET\x1f"));
  EXPECT_NE(key("http://h/p?a=1&&b=2"), key("http://h/p?a=1&b=2"));
  EXPECT_TRUE(starts_with(key("http://h/p?b=2&a=1"), "http://h:80/p?b=2&a=1\x1f"));
}

TEST(KeyQuery, SortedByNameThenValue) {
  KeyPolicy p;
  p.query = KeyPolicy::Query::sorted;
  EXPECT_EQ(key("http://h/p?b=2&a=1", p), key("http://h/p?a=1&b=2", p));
  EXPECT_TRUE(starts_with(key("http://h/p?b=2&a=1&c", p), "http://h:80/p?a=1&b=2&c\x1f"));
  EXPECT_TRUE(starts_with(key("http://h/p?a=2&a=1", p), "http://h:80/p?a=1&a=2\x1f"));
  // Values still count.
  EXPECT_NE(key("http://h/p?a=1&b=2", p), key("http://h/p?a=2&b=1", p));
  // Empty parameters and a bare '?' carry nothing.
  EXPECT_EQ(key("http://h/p?b=2&&a=1&", p), key("http://h/p?a=1&b=2", p));
  http::TargetUri bare = uri("http://h/p");
  bare.has_query = true;
  EXPECT_EQ(build_key("GET", bare, kNoHeaders, {}, p), key("http://h/p", p));
  // Stable: "a" and "a=" sort equal and keep their order (they are different queries).
  EXPECT_TRUE(starts_with(key("http://h/p?z&a=&a", p), "http://h:80/p?a=&a&z\x1f"));
  EXPECT_NE(key("http://h/p?a&a=", p), key("http://h/p?a=&a", p));
}

TEST(KeyQuery, NoneDropsIt) {
  KeyPolicy p;
  p.query = KeyPolicy::Query::none;
  EXPECT_EQ(key("http://h/p?a=1", p), key("http://h/p", p));
  EXPECT_EQ(key("http://h/p?", p), key("http://h/p", p));
  EXPECT_EQ(key("http://h/p?a=1", p), std::string("http://h:80/p\x1fGET\x1f"));
}

TEST(KeyQuery, IgnoreQueryGlobs) {
  KeyPolicy p;
  p.ignore_query = {"utm_*", "fbclid"};
  EXPECT_EQ(key("http://h/p?id=7&utm_source=x&fbclid=abc&utm_medium=y", p), key("http://h/p?id=7", p));
  EXPECT_TRUE(starts_with(key("http://h/p?b=1&utm_x=1&a=2", p), "http://h:80/p?b=1&a=2\x1f"));
  // Everything removed: no '?' either.
  EXPECT_EQ(key("http://h/p?utm_source=x&fbclid=1", p), key("http://h/p", p));
  // Names that do not match the globs stay; globs are case-sensitive and match whole names.
  EXPECT_NE(key("http://h/p?utm=1", p), key("http://h/p", p));
  EXPECT_NE(key("http://h/p?UTM_source=1", p), key("http://h/p", p));
  EXPECT_NE(key("http://h/p?fbclid2=1", p), key("http://h/p", p));
  EXPECT_NE(key("http://h/p?xfbclid=1", p), key("http://h/p", p));
  // A percent-encoded name is the same name.
  EXPECT_EQ(key("http://h/p?utm%5Fsource=x", p), key("http://h/p", p));
  // Nothing removed: the query exactly as sent.
  EXPECT_TRUE(starts_with(key("http://h/p?b=1&&a=2", p), "http://h:80/p?b=1&&a=2\x1f"));
}

TEST(KeyQuery, IgnoreQueryWithSortedAndNone) {
  KeyPolicy p;
  p.query = KeyPolicy::Query::sorted;
  p.ignore_query = {"ts"};
  EXPECT_EQ(key("http://h/p?ts=1&b=2&a=1", p), key("http://h/p?a=1&b=2&ts=99", p));
  p.query = KeyPolicy::Query::none;
  EXPECT_EQ(key("http://h/p?ts=1&b=2", p), key("http://h/p", p));
}

// ---- URL prefix (purge and RFC 9111 §4.4 invalidation) ----

TEST(UrlKeyPrefix, CoversEveryVariantOfOneUrlOnly) {
  KeyPolicy p;
  p.headers = {"Accept"};
  p.cookies = {"s"};
  p.body_digest = true;
  const std::string prefix = url_key_prefix(uri("http://h/a"), p);
  EXPECT_EQ(prefix, std::string("http://h:80/a\x1f"));
  EXPECT_TRUE(starts_with(key("http://h/a", p, {{"Accept", "x"}}), prefix));
  EXPECT_TRUE(starts_with(key("http://h/a", p, {{"Cookie", "s=1"}}, "POST", "b"), prefix));
  EXPECT_TRUE(starts_with(key("http://h/a", p, kNoHeaders, "HEAD"), prefix));
  EXPECT_FALSE(starts_with(key("http://h/ab", p), prefix));
  EXPECT_FALSE(starts_with(key("http://h/a/b", p), prefix));
  EXPECT_FALSE(starts_with(key("http://h/a?x=1", p), prefix));
  EXPECT_FALSE(starts_with(key("http://h:81/a", p), prefix));
  // The URL without the separator is a directory-style prefix.
  EXPECT_TRUE(starts_with(key("http://h/a/b", p), normalized_url(uri("http://h/a"), p)));
}

TEST(UrlKeyPrefix, UsesTheQueryPolicy) {
  KeyPolicy p;
  p.query = KeyPolicy::Query::sorted;
  p.ignore_query = {"utm_*"};
  EXPECT_TRUE(
      starts_with(key("http://h/a?b=1&utm_c=2&a=1", p), url_key_prefix(uri("http://h/a?a=1&b=1"), p)));
  EXPECT_EQ(url_key_prefix(uri("http://h/a?utm_x=1"), p), std::string("http://h:80/a\x1f"));
}

// ---- request headers in the key ----

TEST(KeyHeaders, ValuesAreKeyed) {
  KeyPolicy p;
  p.headers = {"Accept", "Accept-Language"};
  const std::string k = key("http://h/p", p, {{"Accept", "text/html"}, {"accept-language", "de"}});
  EXPECT_EQ(k, std::string("http://h:80/p\x1fGET\x1f\x1f"
                           "accept=text/html\x1f"
                           "accept-language=de"));
  EXPECT_NE(k, key("http://h/p", p, {{"Accept", "text/html"}, {"Accept-Language", "fr"}}));
  EXPECT_NE(key("http://h/p", p, {{"Accept", "a"}}), key("http://h/p", p, {{"Accept-Language", "a"}}));
  // Fields not in the policy do not count.
  EXPECT_EQ(k,
            key("http://h/p", p, {{"Accept", "text/html"}, {"Accept-Language", "de"}, {"User-Agent", "x"}}));
}

TEST(KeyHeaders, AbsentIsNotEmpty) {
  KeyPolicy p;
  p.headers = {"X-Tenant"};
  EXPECT_NE(key("http://h/p", p), key("http://h/p", p, {{"X-Tenant", ""}}));
  EXPECT_TRUE(key("http://h/p", p).ends_with("\x1fx-tenant"));
  EXPECT_TRUE(key("http://h/p", p, {{"X-Tenant", ""}}).ends_with("\x1fx-tenant="));
}

// RFC 9110 §5.3: several field lines are one comma-joined value; whitespace around list
// separators is not significant.
TEST(KeyHeaders, CombinedAndWhitespaceNormalised) {
  KeyPolicy p;
  p.headers = {"accept-encoding"};
  const std::string one = key("http://h/p", p, {{"Accept-Encoding", "gzip, br"}});
  EXPECT_EQ(one, key("http://h/p", p, {{"Accept-Encoding", "gzip"}, {"ACCEPT-ENCODING", "br"}}));
  EXPECT_EQ(one, key("http://h/p", p, {{"Accept-Encoding", "  gzip ,br  "}}));
  EXPECT_EQ(one, key("http://h/p", p, {{"Accept-Encoding", "gzip,\tbr"}}));
  EXPECT_NE(one, key("http://h/p", p, {{"Accept-Encoding", "br, gzip"}}));
  // Inside a quoted string whitespace is content.
  p.headers = {"X-Q"};
  EXPECT_NE(key("http://h/p", p, {{"X-Q", "\"a  b\""}}), key("http://h/p", p, {{"X-Q", "\"a b\""}}));
  EXPECT_EQ(key("http://h/p", p, {{"X-Q", "a   b"}}), key("http://h/p", p, {{"X-Q", "a b"}}));
}

// A value cannot forge another key segment.
TEST(KeyHeaders, ValuesAreEscaped) {
  KeyPolicy p;
  p.headers = {"A", "B"};
  const std::string forged = key("http://h/p", p,
                                 {{"A",
                                   "1\x1f"
                                   "b=2"}});
  EXPECT_NE(forged, key("http://h/p", p, {{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(forged.find('\x1f', forged.find("a=")), forged.rfind('\x1f'));
  EXPECT_NE(key("http://h/p", p, {{"A", "%1F"}}), forged);
  EXPECT_NE(key("http://h/p", p, {{"A", "%1F"}}), key("http://h/p", p, {{"A", "\x1f"}}));
}

// ---- cookies in the key ----

TEST(KeyCookies, NamedCookiesOnly) {
  KeyPolicy p;
  p.cookies = {"session", "lang"};
  const std::string k = key("http://h/p", p, {{"Cookie", "theme=dark; session=abc; lang=de"}});
  EXPECT_TRUE(
      k.ends_with("\x1f"
                  "cookie:session=abc\x1f"
                  "cookie:lang=de"))
      << k;
  EXPECT_EQ(k, key("http://h/p", p, {{"Cookie", "lang=de;session=abc; other=1"}}));
  EXPECT_EQ(k, key("http://h/p", p, {{"Cookie", "session=abc"}, {"Cookie", "lang=de"}}));
  EXPECT_NE(k, key("http://h/p", p, {{"Cookie", "session=xyz; lang=de"}}));
  // Cookie names are case-sensitive (RFC 6265 §5.4 compares them exactly).
  EXPECT_NE(k, key("http://h/p", p, {{"Cookie", "SESSION=abc; lang=de"}}));
}

TEST(KeyCookies, AbsentIsNotEmpty) {
  KeyPolicy p;
  p.cookies = {"session"};
  EXPECT_NE(key("http://h/p", p), key("http://h/p", p, {{"Cookie", "session="}}));
  EXPECT_EQ(key("http://h/p", p), key("http://h/p", p, {{"Cookie", "other=1"}}));
  EXPECT_TRUE(key("http://h/p", p)
                  .ends_with("\x1f"
                             "cookie:session"));
  // A cookie entry never reads as a header entry of the same name.
  KeyPolicy h;
  h.headers = {"session"};
  EXPECT_NE(key("http://h/p", p, {{"Cookie", "session=1"}}), key("http://h/p", h, {{"session", "1"}}));
}

// ---- body digest (POST caching) ----

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(KeyBody, DigestOnlyWhenConfigured) {
  KeyPolicy p;
  EXPECT_EQ(key("http://h/p", p, kNoHeaders, "POST", "a=1"), key("http://h/p", p, kNoHeaders, "POST", "a=2"));
  p.body_digest = true;
  EXPECT_NE(key("http://h/p", p, kNoHeaders, "POST", "a=1"), key("http://h/p", p, kNoHeaders, "POST", "a=2"));
  EXPECT_EQ(key("http://h/p", p, kNoHeaders, "POST", "a=1"), key("http://h/p", p, kNoHeaders, "POST", "a=1"));
  EXPECT_TRUE(key("http://h/p", p, kNoHeaders, "POST", "abc")
                  .ends_with("\x1fsha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  // Empty body and a body containing NUL bytes are digested too.
  EXPECT_NE(key("http://h/p", p, kNoHeaders, "POST", std::string_view("a\0b", 3)),
            key("http://h/p", p, kNoHeaders, "POST", "a"));
}

// ---- glob ----

TEST(Glob, StarOnly) {
  EXPECT_TRUE(glob_match("utm_*", "utm_source"));
  EXPECT_TRUE(glob_match("utm_*", "utm_"));
  EXPECT_FALSE(glob_match("utm_*", "utm"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*id", "fbclid"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("a**", "a"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
  EXPECT_FALSE(glob_match("a?c", "abc"));  // '?' is literal
  EXPECT_TRUE(glob_match("a?c", "a?c"));
  EXPECT_FALSE(glob_match("", "x"));
  EXPECT_TRUE(glob_match("", ""));
}

// ---- Vary (RFC 9111 §4.1) ----

TEST(VaryKey, NoVaryIsEmpty) {
  EXPECT_EQ(vary_key({{"Cache-Control", "max-age=1"}}, {{"Accept", "x"}}), "");
  EXPECT_EQ(vary_key({{"Vary", ""}}, {{"Accept", "x"}}), "");
}

// "A stored response with a Vary header field value containing a member "*" always fails to match."
TEST(VaryKey, StarNeverMatches) {
  EXPECT_FALSE(vary_key({{"Vary", "*"}}, kNoHeaders));
  EXPECT_FALSE(vary_key({{"Vary", "Accept, *"}}, {{"Accept", "x"}}));
  EXPECT_FALSE(vary_key({{"Vary", "Accept"}, {"Vary", "*"}}, {{"Accept", "x"}}));
}

TEST(VaryKey, SelectingValuesInVaryOrder) {
  const http::Headers res{{"Vary", "Accept-Encoding, Accept-Language"}};
  auto k = vary_key(res, {{"accept-language", "de"}, {"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "accept-encoding=gzip\naccept-language=de");
  EXPECT_EQ(*k, *vary_key(res, {{"Accept-Encoding", "gzip"}, {"Accept-Language", "de"}, {"Cookie", "x"}}));
  EXPECT_NE(*k, *vary_key(res, {{"Accept-Encoding", "br"}, {"Accept-Language", "de"}}));
  // Field names in Vary are case-insensitive.
  EXPECT_EQ(*k, *vary_key({{"VARY", "ACCEPT-ENCODING"}, {"vary", "accept-language"}},
                          {{"Accept-Encoding", "gzip"}, {"Accept-Language", "de"}}));
}

// §4.1 normalisation: Accept-Encoding and Accept-Language are sets of members, so the same set in
// another order, case or spacing selects the same variant; another set or q-value does not.
TEST(VaryKey, AcceptEncodingAndAcceptLanguageAreTokenSets) {
  const http::Headers res{{"Vary", "Accept-Encoding, Accept-Language"}};
  auto k = vary_key(res, {{"Accept-Encoding", "gzip, deflate, br"}, {"Accept-Language", "en-US, fr;q=0.5"}});
  ASSERT_TRUE(k);
  for (const http::Headers& same :
       {http::Headers{{"Accept-Encoding", "br,GZIP ,  deflate"}, {"Accept-Language", "FR; q=0.5,en-us"}},
        http::Headers{{"Accept-Encoding", "deflate"},
                      {"Accept-Encoding", "br, gzip, gzip"},
                      {"Accept-Language", "en-US;q=1.0, fr;q=0.5"}}})
    EXPECT_EQ(*k, *vary_key(res, same));
  EXPECT_NE(*k, *vary_key(res, {{"Accept-Encoding", "gzip, br"}, {"Accept-Language", "en-US, fr;q=0.5"}}));
  EXPECT_NE(
      *k, *vary_key(res, {{"Accept-Encoding", "gzip, deflate, br"}, {"Accept-Language", "en-US, fr;q=0.8"}}));
  // Absent still only matches absent; other fields are compared as before (order matters).
  EXPECT_NE(*vary_key(res, kNoHeaders), *vary_key(res, {{"Accept-Encoding", ""}}));
  const http::Headers accept{{"Vary", "Accept"}};
  EXPECT_NE(*vary_key(accept, {{"Accept", "a/b, c/d"}}), *vary_key(accept, {{"Accept", "c/d, a/b"}}));
}

// "If (after any normalization that might take place) a header field is absent from a request, it
// can only match another request if it is also absent there."
TEST(VaryKey, AbsentOnlyMatchesAbsent) {
  const http::Headers res{{"Vary", "Accept-Language"}};
  EXPECT_NE(*vary_key(res, kNoHeaders), *vary_key(res, {{"Accept-Language", ""}}));
  EXPECT_EQ(*vary_key(res, kNoHeaders), *vary_key(res, {{"Accept", "x"}}));
  EXPECT_NE(*vary_key(res, kNoHeaders), "");
}

// The normalisations §4.1 allows: whitespace where the syntax allows it, combining field lines.
TEST(VaryKey, Normalisation) {
  const http::Headers res{{"Vary", "Accept"}};
  const std::string k = *vary_key(res, {{"Accept", "text/html, application/json"}});
  EXPECT_EQ(k, *vary_key(res, {{"Accept", "text/html"}, {"Accept", "application/json"}}));
  EXPECT_EQ(k, *vary_key(res, {{"Accept", " text/html ,application/json "}}));
  EXPECT_NE(k, *vary_key(res, {{"Accept", "application/json, text/html"}}));
  EXPECT_NE(k, *vary_key(res, {{"Accept", "text/html"}}));
}

}  // namespace
}  // namespace cachefwd::cache::key
