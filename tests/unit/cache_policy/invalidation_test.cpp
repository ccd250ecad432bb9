// RFC 9111 §4.4 invalidation, with RFC 9110 §9.2.1 (safe methods), §4.3.1 (origin) and RFC 3986
// §5.2 / §5.4 (resolving Location and Content-Location references).
#include "cache/policy/invalidation.h"

#include <gtest/gtest.h>

namespace cachefwd::cache::policy {
namespace {

http::TargetUri uri(std::string_view s) {
  http::TargetUri t;
  EXPECT_TRUE(http::parse_absolute_target(s, t)) << s;
  return t;
}

TEST(Invalidates, UnsafeMethodsWithNonErrorStatus) {
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "PURGE", "MKCOL", "FOO", "get"})
    for (int s : {200, 201, 204, 299, 300, 301, 303, 304, 399})
      EXPECT_TRUE(invalidates(m, s)) << m << " " << s;
}

// "A 'non-error response' is one with a 2xx (Successful) or 3xx (Redirection) status code."
TEST(Invalidates, ErrorAndInformationalStatusesDoNot) {
  for (int s : {100, 101, 199, 400, 404, 409, 500, 503}) EXPECT_FALSE(invalidates("POST", s)) << s;
}

TEST(Invalidates, SafeMethodsDoNot) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE"}) {
    EXPECT_TRUE(is_safe_method(m));
    EXPECT_FALSE(invalidates(m, 200)) << m;
  }
  EXPECT_FALSE(is_safe_method("CONNECT"));
  EXPECT_FALSE(is_safe_method("head"));  // method names are case-sensitive
}

// RFC 3986 §5.4.1 / §5.4.2 examples, base "http://a/b/c/d;p?q" (the fragment is dropped: it is
// not part of the target URI).
TEST(SameOriginLocation, Rfc3986Examples) {
  const http::TargetUri base = uri("http://a/b/c/d;p?q");
  const std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g"},
      {"g#s/../x", "http://a/b/c/g"},
  };
  for (auto [ref, expected] : cases) {
    auto t = same_origin_location(base, ref);
    ASSERT_TRUE(t) << ref;
    EXPECT_EQ(t->url(), expected) << ref;
  }
}

TEST(SameOriginLocation, AbsoluteSameOrigin) {
  const http::TargetUri base = uri("http://example.com/items/1");
  auto t = same_origin_location(base, "http://example.com/items/2?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/items/2");
  EXPECT_EQ(t->query, "x=1");
  // Scheme and host compare case-insensitively; the default port is the same port.
  EXPECT_TRUE(same_origin_location(base, "HTTP://EXAMPLE.COM:80/x"));
  EXPECT_TRUE(same_origin_location(base, "  /x  "));
  EXPECT_TRUE(same_origin_location(base, "//example.com/x"));
}

// "a cache MUST NOT trigger an invalidation under these conditions if the origin of the URI to be
// invalidated differs from that of the target URI"
TEST(SameOriginLocation, OtherOriginsRefused) {
  const http::TargetUri base = uri("http://example.com/items/1");
  for (const char* other : {"http://other.example/items/1", "http://example.com:8080/items/1",
                            "https://example.com/items/1", "//other.example/x", "http://sub.example.com/x",
                            "ftp://example.com/x", "g:h", "http:g", "mailto:a@example.com"})
    EXPECT_FALSE(same_origin_location(base, other)) << other;
  const http::TargetUri on_port = uri("http://example.com:8080/a");
  EXPECT_FALSE(same_origin_location(on_port, "http://example.com/a"));
  EXPECT_TRUE(same_origin_location(on_port, "http://example.com:8080/b"));
  EXPECT_TRUE(same_origin_location(on_port, "/b"));
}

TEST(InvalidationTargets, TargetThenLocations) {
  const http::TargetUri target = uri("http://example.com/items");
  auto v = invalidation_targets(
      "POST", 201, target,
      {{"Location", "/items/7"}, {"Content-Location", "http://example.com/items/7?v=1"}});
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].url(), "http://example.com/items");
  EXPECT_EQ(v[1].url(), "http://example.com/items/7");
  EXPECT_EQ(v[2].url(), "http://example.com/items/7?v=1");
}

TEST(InvalidationTargets, OtherOriginsAndDuplicatesLeftOut) {
  const http::TargetUri target = uri("http://example.com/items");
  auto v = invalidation_targets("PUT", 200, target,
                                {{"Location", "http://evil.example/items"}, {"Content-Location", "/items"}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].url(), "http://example.com/items");
}

TEST(InvalidationTargets, NothingForSafeMethodsOrErrors) {
  const http::TargetUri target = uri("http://example.com/items");
  const http::Headers loc{{"Location", "/x"}};
  EXPECT_TRUE(invalidation_targets("GET", 200, target, loc).empty());
  EXPECT_TRUE(invalidation_targets("POST", 500, target, loc).empty());
  EXPECT_TRUE(invalidation_targets("DELETE", 404, target, loc).empty());
  EXPECT_EQ(invalidation_targets("DELETE", 204, target, {}).size(), 1u);
}

// RFC 9110 §9.3.3: a POST response answers a later GET only with explicit freshness and a
// Content-Location that is the POST's own target.
TEST(PostResponseAnswersGet, ContentLocationEqualToTheTargetAndExplicitFreshness) {
  const auto target = uri("http://example.com/a/b?x=1");
  const http::Headers fresh_here{{"Cache-Control", "max-age=60"}, {"Content-Location", "/a/b?x=1"}};
  EXPECT_TRUE(post_response_answers_get(200, fresh_here, target));
  EXPECT_TRUE(post_response_answers_get(203, fresh_here, target));
  EXPECT_TRUE(post_response_answers_get(
      200, {{"Expires", "Thu, 01 Jan 2099 00:00:00 GMT"}, {"Content-Location", "http://example.com/a/b?x=1"}},
      target));
  EXPECT_TRUE(post_response_answers_get(200, {{"Cache-Control", "s-maxage=5"}, {"Content-Location", "b?x=1"}},
                                        target));
  EXPECT_FALSE(post_response_answers_get(201, fresh_here, target));
  EXPECT_FALSE(post_response_answers_get(200, {{"Content-Location", "/a/b?x=1"}}, target));
  EXPECT_FALSE(post_response_answers_get(200, {{"Cache-Control", "max-age=60"}}, target));
  EXPECT_FALSE(post_response_answers_get(200, {{"Cache-Control", "max-age=60"}, {"Content-Location", "/a/b"}},
                                         target));
  EXPECT_FALSE(post_response_answers_get(
      200, {{"Cache-Control", "max-age=60"}, {"Content-Location", "http://other.example/a/b?x=1"}}, target));
}

}  // namespace
}  // namespace cachefwd::cache::policy
