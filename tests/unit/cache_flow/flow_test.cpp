// The cache flow's transitions, each driven with an injected clock: what used to need a real
// origin and sleeping past max-age=1 is a number here.
#include "cache/flow/flow.h"

#include <gtest/gtest.h>

#include <array>

#include "cache/key/cache_key.h"
#include "cache/store/eviction_policy.h"
#include "http/http_date.h"

namespace cachefwd::cache::flow {
namespace {

constexpr UnixMillis kT0 = 1'800'000'000'000;  // a fixed "now"; every test moves it by hand

struct Harness {
  store::Store store{store::StoreLimits{64 << 20, 0}, store::make_eviction_policy("lru")};
  policy::PolicyConfig policy;
  FlowConfig cfg;
  std::unique_ptr<Cache> cache;
  http::TargetUri target;
  Waiter next_id = 1;

  explicit Harness(FlowConfig c = {}) : cfg(std::move(c)) {
    cache = std::make_unique<Cache>(store, cfg);
    http::parse_absolute_target("http://origin.test/a", target);
  }

  // A request for http://origin.test/a with these fields.
  struct Req {
    http::Headers headers;
    Txn t;
  };
  std::unique_ptr<Req> req(std::string method = "GET", http::Headers h = {}) {
    auto r = std::make_unique<Req>();
    r->headers = std::move(h);
    r->t.id = next_id++;
    r->t.method = method;
    r->t.headers = &r->headers;
    r->t.policy = &policy;
    r->t.lookup = method == "GET" || method == "HEAD";
    if (r->t.lookup) r->t.key = key::build_key(method, target, r->headers, {}, {});
    if (is_unsafe(method)) r->t.target = target;
    return r;
  }

  // Runs a fetch to completion with this response; returns the head verdict.
  HeadVerdict respond(FillId f, int status, http::Headers h, std::string body, UnixMillis now) {
    if (!h.has("content-length")) h.add("Content-Length", std::to_string(body.size()));
    auto v = cache->on_head(f, status, h, now);
    if (v.kind == HeadVerdict::Kind::stream) {
      cache->on_body(f, body.size());
      cache->on_complete(f, std::move(body), now);
    }
    return v;
  }

  // Stores `h` for the URL: one miss, fetched at `now`.
  void fill(http::Headers h, UnixMillis now, std::string body = "hello") {
    auto r = req();
    auto a = cache->begin(r->t, now);
    ASSERT_EQ(a.kind, Action::Kind::fetch);
    respond(a.fill, 200, std::move(h), std::move(body), now);
    cache->finish(a.fill);
  }

  // The body a new request at `now` is served from the store, or why it is not served.
  std::string served_body(UnixMillis now) {
    auto r = req();
    auto a = cache->begin(r->t, now);
    if (a.kind != Action::Kind::serve)
      return "(not served: action " + std::to_string(static_cast<int>(a.kind)) + ")";
    return *a.entry->body;
  }
};

http::Headers dated(UnixMillis now, std::initializer_list<std::pair<std::string, std::string>> rest) {
  http::Headers h;
  h.add("Date", http::format_http_date(now));
  for (auto& [n, v] : rest) h.add(n, v);
  return h;
}

TEST(CacheFlow, MissFetchesStoresAndTheNextRequestHits) {
  Harness h;
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0);
  EXPECT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_TRUE(a.store);
  EXPECT_TRUE(a.arm_timer);
  EXPECT_EQ(a.entry, nullptr);
  EXPECT_EQ(r->t.phase, Phase::fetching);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}, {"Content-Length", "5"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_EQ(v.kind, HeadVerdict::Kind::stream);
  EXPECT_TRUE(v.storing);
  EXPECT_EQ(hd.combined("via"), "1.1 cachefwd");
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=uri-miss; detail=storing");
  Reason why;
  EXPECT_EQ(h.cache->stream_outcome(a.fill, r->t.id, why), Outcome::miss);
  EXPECT_TRUE(h.cache->on_body(a.fill, 5));
  auto e = h.cache->on_complete(a.fill, "hello", kT0);
  ASSERT_NE(e, nullptr);
  // Only now, with the whole body in the store, is it `stored` (a late joiner would see this).
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=uri-miss; stored");
  h.cache->finish(a.fill);
  EXPECT_EQ(h.cache->fills(), 0u);

  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 10'500);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  EXPECT_EQ(b.cache_status, "cachefwd; hit; ttl=49");
  EXPECT_EQ(r2->t.outcome, Outcome::hit);
  EXPECT_EQ(*b.entry->body, "hello");
}

TEST(CacheFlow, ExpiryAtMaxAgeRevalidatesWithTheStoredEntryAnd304Freshens) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}, {"ETag", "\"v1\""}}), kT0);
  auto r = h.req();
  EXPECT_EQ(h.cache->begin(r->t, kT0 + 999).kind, Action::Kind::serve);  // still fresh
  auto r2 = h.req();
  auto a = h.cache->begin(r2->t, kT0 + 1000);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  ASSERT_NE(a.entry, nullptr);  // conditional: the caller sends the entry's validators
  auto hd = dated(kT0 + 1000, {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=100"}});
  auto v = h.cache->on_head(a.fill, 304, hd, kT0 + 1000);
  ASSERT_EQ(v.kind, HeadVerdict::Kind::serve_entry);
  EXPECT_EQ(v.cache_status, "cachefwd; fwd=stale; fwd-status=304; stored; detail=revalidated");
  EXPECT_EQ(outcome_label_from_cache_status(v.cache_status), "revalidated");
  EXPECT_EQ(*v.entry->body, "hello");
  h.cache->finish(a.fill);
  auto r3 = h.req();
  auto b = h.cache->begin(r3->t, kT0 + 50'000);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  EXPECT_EQ(b.cache_status, "cachefwd; hit; ttl=51");
}

TEST(CacheFlow, A304ThatSelectsNothingIsFetchedAgainUnconditionally) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}, {"ETag", "\"v1\""}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 5000);
  auto hd = dated(kT0 + 5000, {{"ETag", "\"v2\""}});
  auto v = h.cache->on_head(a.fill, 304, hd, kT0 + 5000);
  EXPECT_EQ(v.kind, HeadVerdict::Kind::refetch);
  // The unconditional answer then streams and is stored.
  auto v2 = h.respond(a.fill, 200, dated(kT0 + 5000, {{"Cache-Control", "max-age=9"}}), "new", kT0 + 5000);
  EXPECT_TRUE(v2.storing);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=stale; stored");
  Reason why;
  EXPECT_EQ(h.cache->stream_outcome(a.fill, r->t.id, why), Outcome::expired);
}

TEST(CacheFlow, A304WithoutValidatorsRefreshesTheResponseWeValidated) {
  // RFC 9111 §4.3.4: our conditional named one stored response; a 304 that repeats no validator
  // still answers for it (no second, unconditional request). ETag, Last-Modified and a Vary'd
  // variant alike, and must-revalidate on the stored response.
  struct Case {
    const char* name;
    std::initializer_list<std::pair<std::string, std::string>> fields;
    http::Headers request;
  };
  const std::string lm = http::format_http_date(kT0 - 86'400'000);
  for (const Case& c :
       {Case{"etag", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=1, must-revalidate"}}, {}},
        Case{"weak etag", {{"ETag", "W/\"v1\""}, {"Cache-Control", "max-age=1"}}, {}},
        Case{"last-modified", {{"Last-Modified", lm}, {"Cache-Control", "max-age=1"}}, {}},
        Case{"vary",
             {{"ETag", "\"fr\""}, {"Vary", "Accept-Language"}, {"Cache-Control", "max-age=1"}},
             http::Headers{{"Accept-Language", "fr"}}}}) {
    Harness h;
    {
      auto r = h.req("GET", c.request);
      auto a = h.cache->begin(r->t, kT0);
      ASSERT_EQ(a.kind, Action::Kind::fetch) << c.name;
      h.respond(a.fill, 200, dated(kT0, c.fields), "hello", kT0);
      h.cache->finish(a.fill);
    }
    auto r = h.req("GET", c.request);
    auto a = h.cache->begin(r->t, kT0 + 5000);
    ASSERT_EQ(a.kind, Action::Kind::fetch) << c.name;
    ASSERT_NE(a.entry, nullptr) << c.name;
    auto hd = dated(kT0 + 5000, {{"Cache-Control", "max-age=60"}});
    auto v = h.cache->on_head(a.fill, 304, hd, kT0 + 5000);
    ASSERT_EQ(v.kind, HeadVerdict::Kind::serve_entry) << c.name;
    EXPECT_EQ(v.outcome, Outcome::revalidated) << c.name;
    EXPECT_EQ(*v.entry->body, "hello") << c.name;
    h.cache->finish(a.fill);
    auto r2 = h.req("GET", c.request);
    EXPECT_EQ(h.cache->begin(r2->t, kT0 + 6000).kind, Action::Kind::serve) << c.name;
  }
}

TEST(CacheFlow, WithoutValidatorsAnExpiredEntryIsReplaced) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 2100);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  h.respond(a.fill, 200, dated(kT0 + 2100, {{"Cache-Control", "max-age=1"}}), "v2", kT0 + 2100);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=stale; fwd-status=200; stored");
  h.cache->finish(a.fill);
  EXPECT_EQ(h.served_body(kT0 + 2200), "v2");
}

TEST(CacheFlow, StaleWhileRevalidateServesAndRefreshesOnce) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1, stale-while-revalidate=30"}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 2500);
  ASSERT_EQ(a.kind, Action::Kind::serve_stale_and_refresh);
  EXPECT_NE(a.fill, 0u);
  EXPECT_EQ(a.cache_status, "cachefwd; hit; ttl=-2; detail=stale-while-revalidate");
  EXPECT_EQ(r->t.outcome, Outcome::stale_while_revalidate);
  EXPECT_EQ(outcome_label_from_cache_status(a.cache_status), "stale-while-revalidate");
  // A second request while the refresh runs: served stale, no second refresh.
  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 2600);
  ASSERT_EQ(b.kind, Action::Kind::serve_stale_and_refresh);
  EXPECT_EQ(b.fill, 0u);
  // Nobody waits on the refresh, and it runs on.
  EXPECT_FALSE(h.cache->leave(a.fill, 12345));
  h.respond(a.fill, 200, dated(kT0 + 2700, {{"Cache-Control", "max-age=60"}}), "fresh", kT0 + 2700);
  h.cache->finish(a.fill);
  EXPECT_EQ(h.served_body(kT0 + 3000), "fresh");
  // Past the window: validated in the foreground.
  Harness h2;
  h2.fill(dated(kT0, {{"Cache-Control", "max-age=1, stale-while-revalidate=5"}}), kT0);
  auto r4 = h2.req();
  EXPECT_EQ(h2.cache->begin(r4->t, kT0 + 7000).kind, Action::Kind::fetch);
}

TEST(CacheFlow, StaleIfErrorOn5xxAndOnConnectionErrorsWithinTheWindow) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1, stale-if-error=60"}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 5000);
  auto hd = dated(kT0 + 5000, {});
  auto v = h.cache->on_head(a.fill, 503, hd, kT0 + 5000);
  ASSERT_EQ(v.kind, HeadVerdict::Kind::serve_entry);
  EXPECT_EQ(v.cache_status, "cachefwd; fwd=stale; fwd-status=503; detail=stale-if-error");
  EXPECT_EQ(outcome_label_from_cache_status(v.cache_status), "stale-if-error");
  h.cache->finish(a.fill);

  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 6000);
  auto e = h.cache->on_error(b.fill, FetchFailure::connect, kT0 + 6000);
  ASSERT_NE(e.stale, nullptr);
  EXPECT_EQ(e.cache_status, "cachefwd; fwd=stale; detail=stale-if-error");
  h.cache->finish(b.fill);

  // Past the window the error goes to the client.
  auto r3 = h.req();
  auto c = h.cache->begin(r3->t, kT0 + 120'000);
  auto e2 = h.cache->on_error(c.fill, FetchFailure::timeout, kT0 + 120'000);
  EXPECT_EQ(e2.stale, nullptr);
  EXPECT_EQ(e2.status, 504);
  EXPECT_EQ(e2.detail, "upstream-timeout");
}

TEST(CacheFlow, OperatorStaleIfErrorYieldsToMustRevalidate) {
  Harness h;
  h.policy.stale_if_error_ms = 60'000;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 5000);
  EXPECT_NE(h.cache->on_error(a.fill, FetchFailure::connect, kT0 + 5000).stale, nullptr);
  Harness h2;
  h2.policy.stale_if_error_ms = 60'000;
  h2.fill(dated(kT0, {{"Cache-Control", "max-age=1, must-revalidate"}}), kT0);
  auto r2 = h2.req();
  auto b = h2.cache->begin(r2->t, kT0 + 5000);
  EXPECT_EQ(h2.cache->on_error(b.fill, FetchFailure::connect, kT0 + 5000).status, 502);
}

TEST(CacheFlow, ConcurrentMissesJoinOneFill) {
  Harness h;
  auto r1 = h.req();
  auto a = h.cache->begin(r1->t, kT0);
  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 1);
  ASSERT_EQ(b.kind, Action::Kind::join);
  EXPECT_EQ(b.fill, a.fill);
  EXPECT_EQ(r2->t.phase, Phase::joined);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}, {"Content-Length", "5"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0 + 2);
  EXPECT_TRUE(v.release.empty());
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r2->t.id), "cachefwd; fwd=uri-miss; collapsed; detail=storing");
  Reason why;
  EXPECT_EQ(h.cache->stream_outcome(a.fill, r2->t.id, why), Outcome::coalesced);
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=uri-miss; stored; collapsed"), "coalesced");
  // Leaving: the transfer stops only when the last waiter goes.
  EXPECT_FALSE(h.cache->leave(a.fill, r1->t.id));
  EXPECT_TRUE(h.cache->leave(a.fill, r2->t.id));
}

TEST(CacheFlow, AnUncacheableAnswerReleasesJoinersAndIsRememberedAsHitForMiss) {
  Harness h;
  auto r1 = h.req();
  auto a = h.cache->begin(r1->t, kT0);
  auto r2 = h.req();
  ASSERT_EQ(h.cache->begin(r2->t, kT0).kind, Action::Kind::join);
  auto hd = dated(kT0, {{"Cache-Control", "no-store"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_FALSE(v.storing);
  ASSERT_EQ(v.release, std::vector<Waiter>{r2->t.id});
  EXPECT_EQ(v.release_reason, Reason::no_store);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r1->t.id), "cachefwd; fwd=uri-miss; detail=no-store");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=uri-miss; detail=no-store"),
            "not-stored:no-store");
  auto again = h.cache->restart(r2->t, v.release_reason, kT0);
  EXPECT_EQ(again.kind, Action::Kind::fetch);
  EXPECT_FALSE(again.arm_timer);
  // Hit-for-miss: the next request does not register a fill others would queue behind...
  auto r3 = h.req();
  auto c = h.cache->begin(r3->t, kT0 + 1000);
  EXPECT_FALSE(c.arm_timer);
  auto r4 = h.req();
  EXPECT_EQ(h.cache->begin(r4->t, kT0 + 1000).kind, Action::Kind::fetch);
  // ...until the memory expires.
  auto r5 = h.req();
  EXPECT_TRUE(h.cache->begin(r5->t, kT0 + 31'000).arm_timer);
}

TEST(CacheFlow, JoinersGiveUpAfterTheCoalescingTimeout) {
  Harness h;
  auto r1 = h.req();
  auto a = h.cache->begin(r1->t, kT0);
  auto r2 = h.req();
  h.cache->begin(r2->t, kT0);
  auto released = h.cache->on_timer(a.fill, kT0 + 5000);
  EXPECT_EQ(released, std::vector<Waiter>{r2->t.id});
  // The slow fill is no longer joinable: a new request fetches on its own.
  auto r3 = h.req();
  EXPECT_EQ(h.cache->begin(r3->t, kT0 + 5001).kind, Action::Kind::fetch);
  auto b = h.cache->restart(r2->t, Reason::coalesce_timeout, kT0 + 5000);
  auto hd = dated(kT0, {});
  h.cache->on_head(b.fill, 200, hd, kT0 + 5100);
  EXPECT_EQ(h.cache->stream_cache_status(b.fill, r2->t.id), "cachefwd; fwd=uri-miss; detail=no-freshness");
  // A timer after the head releases nobody.
  auto hd2 = dated(kT0, {{"Cache-Control", "max-age=9"}});
  h.cache->on_head(a.fill, 200, hd2, kT0 + 6000);
  EXPECT_TRUE(h.cache->on_timer(a.fill, kT0 + 7000).empty());
}

TEST(CacheFlow, VaryVariantsAreStoredAndLookedUpThroughVaryKey) {
  Harness h;
  auto r1 = h.req("GET", {{"Accept-Language", "de"}});
  auto a = h.cache->begin(r1->t, kT0);
  auto r2 = h.req("GET", {{"Accept-Language", "fr"}});
  ASSERT_EQ(h.cache->begin(r2->t, kT0).kind, Action::Kind::join);
  auto r3 = h.req("GET", {{"Accept-Language", "de"}});
  ASSERT_EQ(h.cache->begin(r3->t, kT0).kind, Action::Kind::join);
  auto hd =
      dated(kT0, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Language"}, {"Content-Length", "2"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_EQ(v.release, std::vector<Waiter>{r2->t.id});
  EXPECT_EQ(v.release_reason, Reason::vary_miss);
  h.cache->on_complete(a.fill, "de", kT0);
  h.cache->finish(a.fill);
  auto r4 = h.req("GET", {{"Accept-Language", " de "}});
  auto b = h.cache->begin(r4->t, kT0 + 1);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  EXPECT_EQ(*b.entry->body, "de");
  auto r5 = h.req("GET", {{"Accept-Language", "fr"}});
  EXPECT_EQ(h.cache->begin(r5->t, kT0 + 1).kind, Action::Kind::fetch);
  auto r6 = h.req("GET");  // absent is another variant
  EXPECT_NE(h.cache->begin(r6->t, kT0 + 1).kind, Action::Kind::serve);
}

TEST(CacheFlow, OnlyIfCachedWithNothingUsableIs504) {
  Harness h;
  auto r = h.req("GET", {{"Cache-Control", "only-if-cached"}});
  auto a = h.cache->begin(r->t, kT0);
  ASSERT_EQ(a.kind, Action::Kind::answer);
  EXPECT_EQ(a.status, 504);
  EXPECT_EQ(r->t.outcome, Outcome::only_if_cached);
  EXPECT_EQ(outcome_label_from_cache_status(a.cache_status), "only-if-cached");
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0);
  auto r2 = h.req("GET", {{"Cache-Control", "only-if-cached"}});
  EXPECT_EQ(h.cache->begin(r2->t, kT0 + 1).kind, Action::Kind::serve);
}

TEST(CacheFlow, HeadMissIsForwardedUnstoredAndHeadHitsAStoredGet) {
  Harness h;
  auto r = h.req("HEAD");
  auto a = h.cache->begin(r->t, kT0);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_FALSE(a.store);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_TRUE(v.no_body);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=uri-miss; detail=head");
  h.cache->finish(a.fill);
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0);
  auto r2 = h.req("HEAD");
  EXPECT_EQ(h.cache->begin(r2->t, kT0 + 1).kind, Action::Kind::serve);
}

TEST(CacheFlow, RangeMissIsForwardedAndRangeHitIsCutFromTheStoredBody) {
  Harness h;
  auto r = h.req("GET", {{"Range", "bytes=1-2"}});
  auto a = h.cache->begin(r->t, kT0);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_FALSE(a.store);
  EXPECT_FALSE(a.arm_timer);
  h.cache->finish(a.fill);
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0, "hello");
  auto r2 = h.req("GET", {{"Range", "bytes=1-2"}});
  auto b = h.cache->begin(r2->t, kT0 + 1);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  auto d = deliver(*b.entry, "GET", r2->headers, kT0 + 1);
  EXPECT_EQ(d.kind, Delivery::Kind::partial);
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.first, 1u);
  EXPECT_EQ(d.length, 2u);
  EXPECT_EQ(deliver(*b.entry, "GET", {{"Range", "bytes=9-"}}, kT0).kind, Delivery::Kind::unsatisfiable);
}

TEST(CacheFlow, ClientValidatorsAreAnsweredFromTheStoreWithAge) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=600"}, {"ETag", "\"a\""}}), kT0);
  auto r = h.req("GET", {{"If-None-Match", "\"a\""}});
  auto b = h.cache->begin(r->t, kT0 + 42'500);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  auto d = deliver(*b.entry, "GET", r->headers, kT0 + 42'500);
  EXPECT_EQ(d.kind, Delivery::Kind::not_modified);
  EXPECT_EQ(d.age_s, 42);
  EXPECT_EQ(d.not_modified_fields.combined("etag"), "\"a\"");
  EXPECT_EQ(deliver(*b.entry, "GET", {}, kT0 + 42'500).kind, Delivery::Kind::full);
}

TEST(CacheFlow, TooLargeByLengthOrWhileStreamingIsNotStored) {
  FlowConfig cfg;
  cfg.max_object_size = 10;
  Harness h(cfg);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}, {"Content-Length", "11"}});
  auto v = h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_FALSE(v.storing);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=uri-miss; detail=too-large");
  h.cache->finish(a.fill);
  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 31'000);
  auto hd2 = dated(kT0, {{"Cache-Control", "max-age=60"}});  // no length: decided while streaming
  EXPECT_TRUE(h.cache->on_head(b.fill, 200, hd2, kT0 + 31'000).storing);
  // Not claimed before the body is in: it may yet be too large.
  EXPECT_EQ(h.cache->stream_cache_status(b.fill, r2->t.id), "cachefwd; fwd=uri-miss; detail=storing");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=uri-miss; detail=storing"), "miss");
  EXPECT_TRUE(h.cache->on_body(b.fill, 10));
  EXPECT_FALSE(h.cache->on_body(b.fill, 11));
  EXPECT_EQ(h.cache->on_complete(b.fill, std::string(11, 'x'), kT0 + 31'000), nullptr);
  Reason why;
  EXPECT_EQ(h.cache->stream_outcome(b.fill, r2->t.id, why), Outcome::not_stored);
  EXPECT_EQ(why, Reason::too_large);
}

TEST(CacheFlow, AnIncompleteBodyIsNotStored) {
  Harness h;
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}, {"Content-Length", "10"}});
  h.cache->on_head(a.fill, 200, hd, kT0);
  EXPECT_EQ(h.cache->on_complete(a.fill, "short", kT0), nullptr);
  Reason why;
  EXPECT_EQ(h.cache->stream_outcome(a.fill, r->t.id, why), Outcome::not_stored);
  EXPECT_EQ(why, Reason::incomplete);
  h.cache->finish(a.fill);
  auto r2 = h.req();
  EXPECT_EQ(h.cache->begin(r2->t, kT0 + 1).kind, Action::Kind::fetch);
}

TEST(CacheFlow, UnsafeMethodsAreWrittenThroughAndInvalidateOnSuccess) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0);
  auto r = h.req("POST");
  auto a = h.cache->begin(r->t, kT0 + 1);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_FALSE(a.store);
  EXPECT_EQ(r->t.outcome, Outcome::bypass);
  auto hd = dated(kT0, {{"Location", "/b"}});
  auto v = h.cache->on_head(a.fill, 201, hd, kT0 + 2);
  ASSERT_EQ(v.invalidate.size(), 2u);
  EXPECT_EQ(v.invalidate[1].path, "/b");
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=method");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=method"), "bypass");
  key::KeyPolicy kp;
  EXPECT_EQ(h.cache->purge_url(v.invalidate[0], std::span(&kp, 1)), 1u);
  // An error answer invalidates nothing.
  auto r2 = h.req("DELETE");
  auto b = h.cache->begin(r2->t, kT0 + 3);
  auto hd2 = dated(kT0, {});
  EXPECT_TRUE(h.cache->on_head(b.fill, 500, hd2, kT0 + 3).invalidate.empty());
}

TEST(CacheFlow, ARuleBypassIsNotLookedUp) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0);
  auto r = h.req();
  r->t.lookup = false;
  r->t.rule_bypass = true;
  auto a = h.cache->begin(r->t, kT0 + 1);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_FALSE(a.store);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}});
  h.cache->on_head(a.fill, 200, hd, kT0 + 1);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=bypass; detail=rule");
}

TEST(CacheFlow, ASecondTierLookupMayAnswerLater) {
  FlowConfig cfg;
  cfg.second_tier = true;
  Harness h(cfg);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0);
  ASSERT_EQ(a.kind, Action::Kind::lookup);
  EXPECT_EQ(r->t.phase, Phase::lookup_pending);
  auto b = h.cache->lookup_done(r->t, nullptr, kT0 + 3);
  EXPECT_EQ(b.kind, Action::Kind::fetch);
  // The tier answers with an entry: served as a hit, aged at the time the answer arrives.
  auto entry = std::make_shared<StoredResponse>();
  entry->status = 200;
  entry->body = std::make_shared<const std::string>("t2");
  entry->response_time = kT0;
  entry->freshness_lifetime_ms = 60'000;
  auto r2 = h.req();
  ASSERT_EQ(h.cache->begin(r2->t, kT0).kind, Action::Kind::lookup);
  auto c = h.cache->lookup_done(r2->t, entry, kT0 + 2000);
  ASSERT_EQ(c.kind, Action::Kind::serve);
  EXPECT_EQ(c.cache_status, "cachefwd; hit; ttl=58");
  // A stray answer for a request no longer pending is ignored.
  EXPECT_EQ(h.cache->lookup_done(r2->t, entry, kT0 + 3000).kind, Action::Kind::answer);
}

TEST(CacheFlow, RequestNoCacheRevalidatesAFreshEntry) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}, {"ETag", "\"x\""}}), kT0);
  auto r = h.req("GET", {{"Cache-Control", "no-cache"}});
  auto a = h.cache->begin(r->t, kT0 + 1);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  EXPECT_NE(a.entry, nullptr);
  auto hd = dated(kT0, {{"Cache-Control", "max-age=60"}, {"Content-Length", "5"}});
  h.cache->on_head(a.fill, 200, hd, kT0 + 2);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r->t.id), "cachefwd; fwd=request; fwd-status=200; detail=storing");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=request; fwd-status=200; stored"), "expired");
}

TEST(CacheFlow, ValidatorsWithoutLifetimeAreStoredAndRevalidatedOnEveryUse) {
  Harness h;
  // `public` makes it storable (§3); with no lifetime, the ETag is what makes it worth keeping.
  h.fill(dated(kT0, {{"Cache-Control", "public"}, {"ETag", "\"e\""}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 1);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  ASSERT_NE(a.entry, nullptr);
  auto hd = dated(kT0, {{"ETag", "\"e\""}});
  EXPECT_EQ(h.cache->on_head(a.fill, 304, hd, kT0 + 2).kind, HeadVerdict::Kind::serve_entry);
  // Without a validator the same response is not kept.
  Harness h2;
  auto r2 = h2.req();
  auto b = h2.cache->begin(r2->t, kT0);
  auto hd2 = dated(kT0, {{"Cache-Control", "public"}});
  EXPECT_FALSE(h2.cache->on_head(b.fill, 200, hd2, kT0).storing);
}

TEST(CacheFlow, AgeAndDateFromTheUpstreamCountTowardsFreshness) {
  Harness h;
  // Age: 50 of max-age=60: fresh for 10 more seconds only.
  h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}, {"Age", "50"}}), kT0);
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 9000);
  ASSERT_EQ(a.kind, Action::Kind::serve);
  EXPECT_EQ(a.cache_status, "cachefwd; hit; ttl=1");
  auto r2 = h.req();
  EXPECT_EQ(h.cache->begin(r2->t, kT0 + 10'000).kind, Action::Kind::fetch);
}

TEST(CacheFlow, AListBasedAgeCountsByItsFirstValue) {
  // RFC 9111 §5.1: Age 7200 of max-age=3600 is stale, whether it comes as "7200, 0" or as two lines.
  for (bool two_lines : {false, true}) {
    Harness h;
    auto hd = dated(kT0, {{"Cache-Control", "max-age=3600"}});
    if (two_lines) {
      hd.add("Age", "7200");
      hd.add("Age", "0");
    } else {
      hd.add("Age", "7200, 0");
    }
    h.fill(std::move(hd), kT0);
    auto r = h.req();
    EXPECT_EQ(h.cache->begin(r->t, kT0 + 1).kind, Action::Kind::fetch) << two_lines;
  }
}

TEST(CacheFlow, AnyFinalStatusWithExplicitFreshnessIsServedForExactlyThatLifetime) {
  // RFC 9111 §3, §4.2.1: the origin asked for it; this is not the operator's negative caching.
  for (int status : {302, 303, 307, 400, 404, 500, 502, 503, 504, 299, 499, 599}) {
    Harness h;
    h.policy.default_ttl_ms = 3'600'000;  // --ttl does not stretch an explicit lifetime
    auto r = h.req();
    auto a = h.cache->begin(r->t, kT0);
    auto v = h.respond(a.fill, status, dated(kT0, {{"Cache-Control", "max-age=10"}}), "x", kT0);
    EXPECT_TRUE(v.storing) << status;
    h.cache->finish(a.fill);
    auto r2 = h.req();
    auto b = h.cache->begin(r2->t, kT0 + 9'999);
    ASSERT_EQ(b.kind, Action::Kind::serve) << status;
    EXPECT_EQ(b.entry->status, status);
    auto r3 = h.req();
    EXPECT_EQ(h.cache->begin(r3->t, kT0 + 10'000).kind, Action::Kind::fetch) << status;
  }
  // Without explicit freshness --ttl fills in for 200 only, not for a 302 or a 503.
  for (int status : {302, 503}) {
    Harness h;
    h.policy.default_ttl_ms = 3'600'000;
    auto r = h.req();
    auto a = h.cache->begin(r->t, kT0);
    EXPECT_FALSE(h.respond(a.fill, status, dated(kT0, {}), "x", kT0).storing) << status;
  }
}

TEST(CacheFlow, NoCacheResponsesAreStoredAndRevalidatedOnEveryUse) {
  // RFC 9111 §5.2.2.4: stored, never served without a successful validation, conditional on the
  // stored ETag; each 304 serves the stored body.
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "no-cache"}, {"ETag", "\"nc\""}}), kT0, "kept body");
  for (UnixMillis at : {kT0 + 1, kT0 + 2}) {
    auto r = h.req();
    auto a = h.cache->begin(r->t, at);
    ASSERT_EQ(a.kind, Action::Kind::fetch);
    ASSERT_NE(a.entry, nullptr) << "conditional on the stored response";
    auto hd = dated(at, {{"ETag", "\"nc\""}, {"Cache-Control", "no-cache"}});
    auto v = h.cache->on_head(a.fill, 304, hd, at);
    ASSERT_EQ(v.kind, HeadVerdict::Kind::serve_entry);
    EXPECT_EQ(*v.entry->body, "kept body");
    EXPECT_EQ(v.outcome, Outcome::revalidated);
    h.cache->finish(a.fill);
  }
}

TEST(CacheFlow, InterimResponsesAreForwardedAsTheyAreWithOurVia) {
  // RFC 9110 §15.2: 1xx responses go to the client before the final one, hop-by-hop fields out.
  http::Headers hints{{"Link", "</s.css>; rel=preload"}, {"Connection", "X-Hop"}, {"X-Hop", "1"}};
  EXPECT_EQ(interim_response(103, hints, true, "cachefwd"),
            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nVia: 1.1 cachefwd\r\n\r\n");
  EXPECT_EQ(interim_response(102, {}, true, "p"), "HTTP/1.1 102 Processing\r\nVia: 1.1 p\r\n\r\n");
  // Never to an HTTP/1.0 client, never a 101, never the upstream's 100 Continue (we answer Expect).
  EXPECT_EQ(interim_response(103, hints, false, "cachefwd"), "");
  EXPECT_EQ(interim_response(101, {}, true, "cachefwd"), "");
  EXPECT_EQ(interim_response(100, {}, true, "cachefwd"), "");
  EXPECT_EQ(interim_response(200, {}, true, "p"), "");
}

TEST(CacheFlow, APostResponseWithContentLocationOfItsTargetAnswersALaterGet) {
  // RFC 9110 §9.3.3, RFC 9111 §4: stored under the GET key, after the POST's own invalidation.
  for (bool same_location : {true, false}) {
    Harness h;
    h.fill(dated(kT0, {{"Cache-Control", "max-age=60"}}), kT0, "old get");
    auto p = h.req("POST");
    p->t.get_key = key::build_key("GET", h.target, p->headers, {}, {});
    auto a = h.cache->begin(p->t, kT0 + 1);
    ASSERT_EQ(a.kind, Action::Kind::fetch);
    auto hd = dated(kT0 + 1, {{"Cache-Control", "max-age=60"},
                              {"Content-Location", same_location ? "/a" : "/elsewhere"},
                              {"Content-Length", "6"}});
    auto v = h.cache->on_head(a.fill, 200, hd, kT0 + 1);
    ASSERT_EQ(v.invalidate.size(), same_location ? 1u : 2u);
    EXPECT_EQ(v.storing, same_location);
    for (auto& t : v.invalidate) h.cache->purge_url(t, std::array{key::KeyPolicy{}});
    h.cache->on_body(a.fill, 6);
    h.cache->on_complete(a.fill, "posted", kT0 + 1);
    h.cache->finish(a.fill);
    auto g = h.req();
    auto b = h.cache->begin(g->t, kT0 + 2);
    if (same_location) {
      ASSERT_EQ(b.kind, Action::Kind::serve);
      EXPECT_EQ(*b.entry->body, "posted");
    } else {
      EXPECT_EQ(b.kind, Action::Kind::fetch) << "invalidated, and not replaced";
    }
  }
}

// Moved from the end-to-end suites, where each slept 2.1 s past a one-second lifetime.

TEST(CacheFlow, TtlAppliesOnlyWithoutOriginFreshnessAndExpires) {
  Harness h;
  h.policy.default_ttl_ms = 1000;  // --ttl 1
  h.fill(dated(kT0, {}), kT0, "plain");
  auto r = h.req();
  EXPECT_EQ(h.cache->begin(r->t, kT0 + 500).kind, Action::Kind::serve);
  auto r2 = h.req();
  auto a = h.cache->begin(r2->t, kT0 + 2100);
  ASSERT_EQ(a.kind, Action::Kind::fetch) << "expired entries must not be served";
  auto hd = dated(kT0 + 2100, {{"Content-Length", "5"}});
  h.cache->on_head(a.fill, 200, hd, kT0 + 2100);
  EXPECT_EQ(h.cache->stream_cache_status(a.fill, r2->t.id), "cachefwd; fwd=stale; fwd-status=200; detail=storing");
}

TEST(CacheFlow, OriginMaxAgeBeatsTtl) {
  Harness h;
  h.policy.default_ttl_ms = 600'000;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}}), kT0);
  auto r = h.req();
  EXPECT_EQ(h.cache->begin(r->t, kT0 + 2100).kind, Action::Kind::fetch);
}

TEST(CacheFlow, ClampBoundsTheOriginsLifetime) {
  Harness h;
  h.policy.ttl_mode = policy::PolicyConfig::TtlMode::clamp;
  h.policy.max_ttl_ms = 1000;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=3600"}}), kT0);
  auto r = h.req();
  EXPECT_EQ(h.cache->begin(r->t, kT0 + 900).kind, Action::Kind::serve);
  auto r2 = h.req();
  EXPECT_EQ(h.cache->begin(r2->t, kT0 + 2100).kind, Action::Kind::fetch);
}

TEST(CacheFlow, ListedErrorStatusesAreStoredForTheirOwnShortTtl) {
  Harness h;
  h.policy.default_ttl_ms = 600'000;
  h.policy.status_ttl_ms = {{404, 1000}};
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0);
  h.respond(a.fill, 404, dated(kT0, {}), "missing", kT0);
  h.cache->finish(a.fill);
  auto r2 = h.req();
  auto b = h.cache->begin(r2->t, kT0 + 500);
  ASSERT_EQ(b.kind, Action::Kind::serve);
  EXPECT_EQ(b.entry->status, 404);
  auto r3 = h.req();
  EXPECT_EQ(h.cache->begin(r3->t, kT0 + 2100).kind, Action::Kind::fetch)
      << "the error TTL is separate from and shorter than --ttl";
}

TEST(CacheFlow, AChangedResourceReplacesTheEntry) {
  Harness h;
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1"}, {"ETag", "\"1\""}}), kT0, "v1");
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 2100);
  ASSERT_EQ(a.kind, Action::Kind::fetch);
  ASSERT_NE(a.entry, nullptr);
  auto v = h.respond(a.fill, 200, dated(kT0 + 2100, {{"Cache-Control", "max-age=60"}, {"ETag", "\"2\""}}),
                     "v2", kT0 + 2100);
  EXPECT_EQ(v.kind, HeadVerdict::Kind::stream);
  h.cache->finish(a.fill);
  EXPECT_EQ(h.served_body(kT0 + 2200), "v2");
}

TEST(CacheFlow, MustRevalidateForbidsStaleIfErrorEvenTheOperators) {
  Harness h;
  h.policy.stale_if_error_ms = 60'000;  // --stale-if-error 1m
  h.fill(dated(kT0, {{"Cache-Control", "max-age=1, must-revalidate"}}), kT0, "strict");
  auto r = h.req();
  auto a = h.cache->begin(r->t, kT0 + 2100);
  auto hd = dated(kT0 + 2100, {});
  auto v = h.cache->on_head(a.fill, 503, hd, kT0 + 2100);
  EXPECT_EQ(v.kind, HeadVerdict::Kind::stream);  // the 503 goes to the client
  // The origin's own stale-if-error (RFC 5861 §4) on a 503, within its window.
  Harness h2;
  h2.fill(dated(kT0, {{"Cache-Control", "max-age=1, stale-if-error=60"}}), kT0, "good");
  auto r2 = h2.req();
  auto b = h2.cache->begin(r2->t, kT0 + 2100);
  auto hd2 = dated(kT0 + 2100, {});
  auto v2 = h2.cache->on_head(b.fill, 503, hd2, kT0 + 2100);
  ASSERT_EQ(v2.kind, HeadVerdict::Kind::serve_entry);
  EXPECT_EQ(*v2.entry->body, "good");
}

TEST(CacheFlow, LabelsOfEveryOutcome) {
  EXPECT_EQ(outcome_label(Outcome::not_stored, Reason::set_cookie), "not-stored:set-cookie");
  EXPECT_EQ(outcome_label(Outcome::hit, Reason::none), "hit");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; hit; ttl=3"), "hit");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=uri-miss; stored"), "miss");
  EXPECT_EQ(outcome_label_from_cache_status("cachefwd; fwd=bypass; detail=upstream-timeout"), "error");
  EXPECT_EQ(outcome_label_from_cache_status("other; hit"), "unknown");
  EXPECT_EQ(to_string(Phase::lookup_pending), "lookup-pending");
}

}  // namespace
}  // namespace cachefwd::cache::flow
