// Store bulk removal for purge and invalidation (RFC 9111 §4.4, issue 4): erase_prefix, erase_if,
// erase_tag, for_each, and the tag index's consistency through eviction, replace, erase and clear,
// checked against a naive tagged LRU model.
#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cache/store/store.h"
#include "cache/store/stored_response.h"
#include "key_util.h"

namespace cachefwd::cache::store {
namespace {

using Tags = std::vector<std::string>;

Store make_lru(std::uint64_t max_bytes, std::uint64_t max_entries = 0) {
  return Store(StoreLimits{max_bytes, max_entries}, make_eviction_policy("lru"));
}

// Keys shaped like cache_key.h's build_key: URL, then \x1f-separated method and partition.
std::string url_key(std::string_view url, std::string_view method = "GET") {
  std::string k(url);
  k += '\x1f';
  k += method;
  k += '\x1f';
  return k;
}

std::map<std::string, std::uint64_t> contents(const Store& s) {
  std::map<std::string, std::uint64_t> out;
  s.for_each([&](std::string_view key, const Value&, std::uint64_t charge) {
    EXPECT_TRUE(out.emplace(std::string(key), charge).second) << "visited twice: " << key;
  });
  return out;
}

TEST(StoreBulk, ErasePrefixRemovesExactlyTheKeysStartingWithIt) {
  Store s = make_lru(1 << 20);
  s.insert(url_key("http://a.example:80/api/1"), nullptr, 10);
  s.insert(url_key("http://a.example:80/api/2", "HEAD"), nullptr, 20);
  s.insert(url_key("http://a.example:80/api/2") + "V" + "gzip", nullptr, 30);  // a Vary variant
  s.insert(url_key("http://a.example:80/apix"), nullptr, 40);
  s.insert(url_key("http://b.example:80/api/1"), nullptr, 50);
  s.insert("http://a.example:80/api/", nullptr, 60);  // the prefix itself is a key too

  EXPECT_EQ(s.erase_prefix("http://a.example:80/api/"), 4u);
  EXPECT_EQ(contents(s), (std::map<std::string, std::uint64_t>{{url_key("http://a.example:80/apix"), 40},
                                                               {url_key("http://b.example:80/api/1"), 50}}));
  EXPECT_EQ(s.stats().erased, 4u);
  EXPECT_EQ(s.stats().bytes, 90u);
  EXPECT_EQ(s.stats().entries, 2u);
  EXPECT_EQ(s.erase_prefix("http://a.example:80/api/"), 0u);
  EXPECT_EQ(s.erase_prefix("http://c."), 0u);
  // The empty prefix matches every key: purge everything.
  EXPECT_EQ(s.erase_prefix(""), 2u);
  EXPECT_EQ(s.stats().entries, 0u);
  EXPECT_EQ(s.stats().bytes, 0u);
  EXPECT_EQ(s.stats().inserts - s.stats().evictions - s.stats().erased - s.stats().replaced, 0u);
}

TEST(StoreBulk, ErasePrefixReleasesValuesAndKeepsTheRestUsable) {
  Store s = make_lru(300);
  auto v = std::make_shared<StoredResponse>();
  s.insert("p/a", v, 100);
  s.insert("q/b", nullptr, 100);
  s.insert("p/c", nullptr, 100);
  EXPECT_EQ(s.erase_prefix("p/"), 2u);
  EXPECT_EQ(v.use_count(), 1);
  // The policy forgot the erased entries: filling up again evicts q/b, the only old entry.
  s.insert("r/1", nullptr, 100);
  s.insert("r/2", nullptr, 100);
  EXPECT_EQ(s.stats().evictions, 0u);
  s.insert("r/3", nullptr, 100);
  EXPECT_EQ(s.stats().evictions, 1u);
  EXPECT_FALSE(s.contains("q/b"));
  EXPECT_TRUE(s.contains("r/1"));
}

TEST(StoreBulk, EraseIfSeesKeyAndValue) {
  Store s = make_lru(1 << 20);
  for (int i = 0; i < 10; ++i) {
    auto v = std::make_shared<StoredResponse>();
    v->status = i % 3 == 0 ? 500 : 200;
    s.insert(test::key_of("k", i), v, 1 + i);
  }
  const size_t n =
      s.erase_if([](std::string_view key, const Value& v) { return v && v->status == 500 && key != "k9"; });
  EXPECT_EQ(n, 3u);  // k0, k3, k6; k9 kept by the key test
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(s.contains(test::key_of("k", i)), i % 3 != 0 || i == 9) << i;
  }
  EXPECT_EQ(s.stats().erased, 3u);
  EXPECT_EQ(s.stats().bytes, 55u - (1 + 4 + 7));
  EXPECT_EQ(s.erase_if([](std::string_view, const Value&) { return false; }), 0u);
}

TEST(StoreBulk, ForEachVisitsEachResidentEntryOnce) {
  Store s = make_lru(250);
  auto va = std::make_shared<StoredResponse>();
  s.insert("a", va, 100);
  s.insert("b", nullptr, 50);
  s.insert("c", nullptr, 100);
  s.insert("d", nullptr, 100);  // evicts a
  s.erase("c");
  s.insert("b", nullptr, 60);  // replace
  EXPECT_EQ(contents(s), (std::map<std::string, std::uint64_t>{{"b", 60}, {"d", 100}}));
  std::vector<const StoredResponse*> values;
  s.for_each([&](std::string_view, const Value& v, std::uint64_t) { values.push_back(v.get()); });
  EXPECT_EQ(std::count(values.begin(), values.end(), va.get()), 0);
  s.clear();
  EXPECT_TRUE(contents(s).empty());
}

TEST(StoreBulk, EraseTagRemovesEveryEntryWithTheTagAndNothingElse) {
  Store s = make_lru(1 << 20);
  const Tags product{"product-1", "catalog"};
  const Tags catalog{"catalog"};
  s.insert("a", nullptr, 10, product);
  s.insert("b", nullptr, 20, catalog);
  s.insert("c", nullptr, 30);
  s.insert("d", nullptr, 40, Tags{"product-2"});
  EXPECT_EQ(s.tag_count(), 3u);
  EXPECT_EQ(s.erase_tag("product-1"), 1u);
  EXPECT_FALSE(s.contains("a"));
  EXPECT_EQ(s.erase_tag("catalog"), 1u);  // a already gone, b left
  EXPECT_FALSE(s.contains("b"));
  EXPECT_TRUE(s.contains("c"));
  EXPECT_TRUE(s.contains("d"));
  EXPECT_EQ(s.erase_tag("catalog"), 0u);
  EXPECT_EQ(s.erase_tag("no-such-tag"), 0u);
  EXPECT_EQ(s.erase_tag(""), 0u);
  EXPECT_EQ(s.tag_count(), 1u);
  EXPECT_EQ(s.stats().erased, 2u);
  EXPECT_EQ(s.stats().bytes, 70u);
  // Tags are compared whole and case-sensitively.
  EXPECT_EQ(s.erase_tag("product-"), 0u);
  EXPECT_EQ(s.erase_tag("Product-2"), 0u);
  EXPECT_EQ(s.erase_tag("product-2"), 1u);
  EXPECT_EQ(s.tag_count(), 0u);
}

TEST(StoreBulk, DuplicateTagsCountOnce) {
  Store s = make_lru(1 << 20);
  s.insert("a", nullptr, 10, Tags{"t", "t", "u", "t"});
  s.insert("b", nullptr, 10, Tags{"t"});
  EXPECT_EQ(s.tag_count(), 2u);
  EXPECT_EQ(s.erase_tag("t"), 2u);
  EXPECT_EQ(s.erase_tag("u"), 0u);  // a went with t
  EXPECT_EQ(s.tag_count(), 0u);
  EXPECT_EQ(s.stats().entries, 0u);
}

TEST(StoreBulk, ReplaceDropsTheOldTags) {
  Store s = make_lru(1 << 20);
  s.insert("a", nullptr, 10, Tags{"old", "both"});
  s.insert("a", nullptr, 10, Tags{"new", "both"});
  EXPECT_EQ(s.erase_tag("old"), 0u);
  EXPECT_TRUE(s.contains("a"));
  EXPECT_EQ(s.tag_count(), 2u);
  s.insert("a", nullptr, 10);  // untagged replacement
  EXPECT_EQ(s.tag_count(), 0u);
  EXPECT_EQ(s.erase_tag("new"), 0u);
  EXPECT_EQ(s.erase_tag("both"), 0u);
  EXPECT_TRUE(s.contains("a"));
  // A failed replacement (too large) also drops the old entry and its tags.
  s.insert("a", nullptr, 10, Tags{"x"});
  EXPECT_FALSE(s.insert("a", nullptr, 2u << 20, Tags{"x"}));
  EXPECT_FALSE(s.contains("a"));
  EXPECT_EQ(s.tag_count(), 0u);
}

TEST(StoreBulk, EvictionAndClearKeepTheTagIndexExact) {
  Store s = make_lru(300);
  s.insert("a", nullptr, 100, Tags{"t"});
  s.insert("b", nullptr, 100, Tags{"t"});
  s.insert("c", nullptr, 100, Tags{"u"});
  s.insert("d", nullptr, 100, Tags{"t"});  // evicts a
  EXPECT_EQ(s.erase_tag("t"), 2u);
  EXPECT_TRUE(s.contains("c"));
  s.insert("e", nullptr, 100, Tags{"v"});
  s.clear();
  EXPECT_EQ(s.tag_count(), 0u);
  EXPECT_EQ(s.stats().erased, 4u);  // b, d by tag; c, e by clear
  EXPECT_EQ(s.erase_tag("u"), 0u);
  s.insert("c", nullptr, 100, Tags{"u"});
  EXPECT_EQ(s.erase_tag("u"), 1u);
}

TEST(StoreBulk, EraseTagOnManyEntriesLeavesOthersFindable) {
  Store s = make_lru(1ULL << 40);
  for (int i = 0; i < 5000; ++i) {
    Tags tags{test::key_of("mod", i % 7)};
    if (i % 2 == 0) tags.push_back("even");
    s.insert(test::key_of("k", i), nullptr, 1, tags);
  }
  EXPECT_EQ(s.erase_tag("mod3"), 714u);          // i = 3, 10, ..., 4994
  EXPECT_EQ(s.erase_tag("even"), 2500u - 357u);  // even i not already gone with mod3 (i%14 == 10)
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(s.contains(test::key_of("k", i)), i % 7 != 3 && i % 2 != 0) << i;
  }
  EXPECT_EQ(s.tag_count(), 6u);
}

// Naive reference: LRU over a list, tags as a set per entry, every bulk operation a full scan.
class NaiveTaggedLru {
 public:
  struct Entry {
    std::string key;
    std::uint64_t charge;
    std::set<std::string> tags;
  };
  explicit NaiveTaggedLru(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}

  bool touch(const std::string& k) {
    auto it = find(k);
    if (it == order_.end()) return false;
    order_.splice(order_.begin(), order_, it);
    return true;
  }
  void put(const std::string& k, std::uint64_t charge, const Tags& tags) {
    erase(k);
    if (charge > max_bytes_) return;
    while (bytes() + charge > max_bytes_) order_.pop_back();
    order_.push_front(Entry{k, charge, std::set<std::string>(tags.begin(), tags.end())});
  }
  bool erase(const std::string& k) {
    auto it = find(k);
    if (it == order_.end()) return false;
    order_.erase(it);
    return true;
  }
  template <typename Pred>
  size_t erase_where(Pred pred) {
    size_t n = 0;
    for (auto it = order_.begin(); it != order_.end();) {
      if (pred(*it)) {
        it = order_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  void clear() { order_.clear(); }
  std::uint64_t bytes() const {
    std::uint64_t b = 0;
    for (const Entry& e : order_) b += e.charge;
    return b;
  }
  std::map<std::string, std::uint64_t> contents() const {
    std::map<std::string, std::uint64_t> out;
    for (const Entry& e : order_) out[e.key] = e.charge;
    return out;
  }
  size_t distinct_tags() const {
    std::set<std::string> all;
    for (const Entry& e : order_) all.insert(e.tags.begin(), e.tags.end());
    return all.size();
  }
  size_t size() const { return order_.size(); }

 private:
  std::list<Entry>::iterator find(const std::string& k) {
    return std::find_if(order_.begin(), order_.end(), [&](const Entry& e) { return e.key == k; });
  }
  std::uint64_t max_bytes_;
  std::list<Entry> order_;
};

TEST(StoreBulk, TagIndexAndBulkEraseMatchANaiveModelUnderRandomOperations) {
  const std::uint64_t max_bytes = 5000;
  Store s = make_lru(max_bytes);
  NaiveTaggedLru ref(max_bytes);
  std::mt19937_64 rng(42);
  const std::vector<std::string> prefixes = {"http://a/", "http://a/x", "http://b/", "http://c/y/"};
  auto random_key = [&] {
    std::string k = prefixes[rng() % prefixes.size()];
    k += std::to_string(rng() % 40);
    return k;
  };
  auto random_tag = [&] { return test::key_of("t", rng() % 12); };
  for (int i = 0; i < 30000; ++i) {
    const std::string k = random_key();
    switch (rng() % 20) {
      case 0: {
        const std::string t = random_tag();
        ASSERT_EQ(s.erase_tag(t), ref.erase_where([&](const auto& e) { return e.tags.count(t) == 1; })) << i;
        break;
      }
      case 1: {
        std::string p = prefixes[rng() % prefixes.size()];
        if (rng() % 2) p += std::to_string(rng() % 4);
        ASSERT_EQ(s.erase_prefix(p), ref.erase_where([&](const auto& e) { return e.key.starts_with(p); }))
            << i;
        break;
      }
      case 2: {
        const char last = static_cast<char>('0' + rng() % 10);
        auto pred = [last](std::string_view key) { return key.back() == last; };
        ASSERT_EQ(s.erase_if([&](std::string_view key, const Value&) { return pred(key); }),
                  ref.erase_where([&](const auto& e) { return pred(e.key); }))
            << i;
        break;
      }
      case 3:
        if (rng() % 50 == 0) {
          s.clear();
          ref.clear();
        } else {
          ASSERT_EQ(s.erase(k), ref.erase(k)) << i;
        }
        break;
      case 4:
      case 5:
      case 6:
      case 7:
      case 8:
      case 9: {
        Tags tags;
        for (std::uint64_t n = rng() % 4; n > 0; --n) tags.push_back(random_tag());
        const std::uint64_t charge = 1 + rng() % 600;
        s.insert(k, nullptr, charge, tags);
        ref.put(k, charge, tags);
        break;
      }
      default:
        ASSERT_EQ(s.touch(k), ref.touch(k)) << i;
    }
    ASSERT_EQ(s.stats().entries, ref.size()) << i;
    ASSERT_EQ(s.stats().bytes, ref.bytes()) << i;
    ASSERT_EQ(s.tag_count(), ref.distinct_tags()) << i;
    ASSERT_EQ(s.stats().inserts - s.stats().evictions - s.stats().erased - s.stats().replaced,
              s.stats().entries);
    if (i % 500 == 0) {
      ASSERT_EQ(contents(s), ref.contents()) << i;
    }
  }
  // Every remaining tag still names exactly the model's entries.
  for (int t = 0; t < 12; ++t) {
    const std::string tag = test::key_of("t", t);
    EXPECT_EQ(s.erase_tag(tag), ref.erase_where([&](const auto& e) { return e.tags.count(tag) == 1; }));
  }
  EXPECT_EQ(s.tag_count(), 0u);
  EXPECT_EQ(contents(s), ref.contents());
}

}  // namespace
}  // namespace cachefwd::cache::store
