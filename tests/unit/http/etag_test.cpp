// Entity tags: RFC 9110 §8.8.3 syntax, §8.8.3.2 comparison, §13.1.2 If-None-Match lists.
#include "http/etag.h"

#include <gtest/gtest.h>

namespace cachefwd::http {
namespace {

EntityTag tag(std::string_view s) {
  auto t = parse_entity_tag(s);
  EXPECT_TRUE(t) << s;
  return t.value_or(EntityTag{});
}

TEST(EntityTag, Parse) {
  EXPECT_EQ(tag("\"xyzzy\"").opaque, "\"xyzzy\"");
  EXPECT_FALSE(tag("\"xyzzy\"").weak);
  EXPECT_TRUE(tag("W/\"xyzzy\"").weak);
  EXPECT_EQ(tag("W/\"xyzzy\"").opaque, "\"xyzzy\"");
  EXPECT_EQ(tag("\"\"").opaque, "\"\"");
  EXPECT_EQ(tag("  \"a,b\"  ").opaque, "\"a,b\"");
  EXPECT_EQ(tag("\"a\\\"").opaque, "\"a\\\"");            // a backslash is an ordinary etagc
  EXPECT_EQ(tag("\"\xc3\xa9\"").opaque, "\"\xc3\xa9\"");  // obs-text
}

TEST(EntityTag, Invalid) {
  for (const char* bad : {"xyzzy", "", "\"", "\"abc", "w/\"abc\"", "W/abc", "W/", "\"a b\"", "\"a\"b\"",
                          "\"a\" \"b\"", "W /\"a\"", "*"})
    EXPECT_FALSE(parse_entity_tag(bad)) << bad;
}

// The example table of RFC 9110 §8.8.3.2.
TEST(EntityTag, ComparisonTable) {
  EXPECT_FALSE(strong_match(tag("W/\"1\""), tag("W/\"1\"")));
  EXPECT_TRUE(weak_match(tag("W/\"1\""), tag("W/\"1\"")));
  EXPECT_FALSE(strong_match(tag("W/\"1\""), tag("W/\"2\"")));
  EXPECT_FALSE(weak_match(tag("W/\"1\""), tag("W/\"2\"")));
  EXPECT_FALSE(strong_match(tag("W/\"1\""), tag("\"1\"")));
  EXPECT_TRUE(weak_match(tag("W/\"1\""), tag("\"1\"")));
  EXPECT_TRUE(strong_match(tag("\"1\""), tag("\"1\"")));
  EXPECT_TRUE(weak_match(tag("\"1\""), tag("\"1\"")));
  // Opaque tags compare exactly (case-sensitive).
  EXPECT_FALSE(weak_match(tag("\"a\""), tag("\"A\"")));
}

TEST(EntityTagList, StarAndTags) {
  EXPECT_TRUE(parse_entity_tag_list("*").any);
  EXPECT_TRUE(parse_entity_tag_list("*").tags.empty());
  auto l = parse_entity_tag_list("\"xyzzy\", \"r2d2xxxx\", W/\"c3piozzzz\"");
  EXPECT_FALSE(l.any);
  ASSERT_EQ(l.tags.size(), 3u);
  EXPECT_EQ(l.tags[1].opaque, "\"r2d2xxxx\"");
  EXPECT_TRUE(l.tags[2].weak);
  // Commas inside an opaque-tag do not split; empty elements are skipped.
  l = parse_entity_tag_list(" , \"a,b\",,W/\"c\" ,");
  ASSERT_EQ(l.tags.size(), 2u);
  EXPECT_EQ(l.tags[0].opaque, "\"a,b\"");
  EXPECT_EQ(l.tags[1].opaque, "\"c\"");
  // Invalid members are dropped, valid neighbours kept.
  l = parse_entity_tag_list("abc, \"ok\", W/x, \"x\" junk, W/\"w\"");
  ASSERT_EQ(l.tags.size(), 2u);
  EXPECT_EQ(l.tags[0].opaque, "\"ok\"");
  EXPECT_EQ(l.tags[1].opaque, "\"w\"");
  EXPECT_TRUE(l.tags[1].weak);
  // "*" mixed with tags is not a valid value; the tags are still read and "*" counts.
  l = parse_entity_tag_list("\"a\", *");
  EXPECT_TRUE(l.any);
  EXPECT_TRUE(parse_entity_tag_list("").tags.empty());
  EXPECT_FALSE(parse_entity_tag_list("").any);
}

// §13.1.2: If-None-Match uses the weak comparison function.
TEST(EntityTagList, WeakMatch) {
  const auto l = parse_entity_tag_list("W/\"a\", \"b\"");
  EXPECT_TRUE(list_weak_matches(l, tag("\"a\"")));
  EXPECT_TRUE(list_weak_matches(l, tag("W/\"a\"")));
  EXPECT_TRUE(list_weak_matches(l, tag("W/\"b\"")));
  EXPECT_FALSE(list_weak_matches(l, tag("\"c\"")));
  EXPECT_TRUE(list_weak_matches(parse_entity_tag_list("*"), tag("\"anything\"")));
}

}  // namespace
}  // namespace cachefwd::http
