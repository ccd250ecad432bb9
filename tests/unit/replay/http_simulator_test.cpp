// The HTTP-aware simulation, case by case from RFC 9111: what a shared cache may store and for how
// long, with each request's recorded time as `now`.
#include "replay/http_simulator.h"

#include <gtest/gtest.h>

namespace cachefwd::replay {
namespace {

using Outcome = HttpSimulator::Outcome;
constexpr UnixMillis kT0 = 1'795'320'784'000;  // 2026-11-22T04:13:04Z

HttpRequest get(std::string url, UnixMillis t,
                std::initializer_list<std::pair<std::string_view, std::string_view>> resp, int status = 200,
                std::uint64_t size = 1000) {
  HttpRequest r;
  r.method = "GET";
  r.url = std::move(url);
  r.time = t;
  r.status = status;
  r.size = size;
  r.has_response_headers = true;
  r.response_headers = http::Headers(resp);
  return r;
}

HttpSimulator sim(std::int64_t default_ttl_ms = 0, std::uint64_t bytes = 1 << 30) {
  cache::policy::PolicyConfig cfg;
  cfg.default_ttl_ms = default_ttl_ms;
  return HttpSimulator("lru", bytes, cfg);
}

TEST(HttpSimulator, MaxAgeHitsWhileFreshThenMissesWhenStale) {
  auto s = sim();
  const auto r = [&](UnixMillis dt) {
    return get("http://a/x", kT0 + dt, {{"Cache-Control", "max-age=60"}});
  };
  EXPECT_EQ(s.access(r(0)), Outcome::miss);
  EXPECT_EQ(s.access(r(1'000)), Outcome::hit);
  EXPECT_EQ(s.access(r(59'000)), Outcome::hit);
  // RFC 9111 §4.2: fresh while age < lifetime; at 61 s it is stale and must be validated.
  EXPECT_EQ(s.access(r(61'000)), Outcome::expired);
  EXPECT_EQ(s.access(r(62'000)), Outcome::hit);  // the refetched response is stored again
  const auto& c = s.counters();
  EXPECT_EQ(c.requests, 5u);
  EXPECT_EQ(c.hits, 3u);
  EXPECT_EQ(c.stale_misses, 1u);
  EXPECT_EQ(c.stored, 2u);
  EXPECT_DOUBLE_EQ(c.hit_ratio(), 0.6);
  EXPECT_DOUBLE_EQ(c.byte_hit_ratio(), 0.6);
}

TEST(HttpSimulator, ExpiresMinusDateIsTheLifetime) {
  // RFC 9111 §4.2.1: freshness_lifetime = Expires - Date when there is no max-age.
  auto s = sim();
  const auto r = [&](UnixMillis dt) {
    return get("http://a/e", kT0 + dt,
               {{"Date", "Sun, 22 Nov 2026 04:13:04 GMT"}, {"Expires", "Sun, 22 Nov 2026 04:13:34 GMT"}});
  };
  EXPECT_EQ(s.access(r(0)), Outcome::miss);
  EXPECT_EQ(s.access(r(20'000)), Outcome::hit);
  EXPECT_EQ(s.access(r(40'000)), Outcome::expired);
  // s-maxage wins over max-age in a shared cache (§5.2.2.10).
  EXPECT_EQ(s.access(get("http://a/s", kT0, {{"Cache-Control", "max-age=1, s-maxage=100"}})), Outcome::miss);
  EXPECT_EQ(s.access(get("http://a/s", kT0 + 50'000, {{"Cache-Control", "max-age=1, s-maxage=100"}})),
            Outcome::hit);
}

TEST(HttpSimulator, WhatASharedCacheMustNotStore) {
  auto s = sim(60'000);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(s.access(get("http://a/ns", kT0 + i, {{"Cache-Control", "no-store, max-age=60"}})),
              Outcome::not_stored);
    EXPECT_EQ(s.access(get("http://a/p", kT0 + i, {{"Cache-Control", "private, max-age=60"}})),
              Outcome::not_stored);
    EXPECT_EQ(s.access(get("http://a/c", kT0 + i, {{"Set-Cookie", "id=1"}, {"Cache-Control", "max-age=60"}})),
              Outcome::not_stored);
    // Negative caching is opt-in: a 404 without explicit freshness gets no --ttl lifetime.
    EXPECT_EQ(s.access(get("http://a/404", kT0 + i, {}, 404)), Outcome::not_stored);
    // --ttl (60 s here) does not make a 500 storable: only the origin's own freshness does.
    EXPECT_EQ(s.access(get("http://a/500", kT0 + i, {}, 500)), Outcome::not_stored);
  }
  const auto& ns = s.counters().not_stored;
  EXPECT_EQ(ns.at("no-store"), 2u);
  EXPECT_EQ(ns.at("private"), 2u);
  EXPECT_EQ(ns.at("set-cookie"), 2u);
  EXPECT_EQ(ns.at("status"), 2u);  // 500 is not heuristically cacheable
  EXPECT_EQ(s.counters().hits, 0u);
  // A 404 with explicit freshness is stored (RFC 9110 §15.1: heuristically cacheable status).
  EXPECT_EQ(s.access(get("http://a/404b", kT0, {{"Cache-Control", "max-age=60"}}, 404)), Outcome::miss);
  EXPECT_EQ(s.access(get("http://a/404b", kT0 + 1, {{"Cache-Control", "max-age=60"}}, 404)), Outcome::hit);
  // So is any final status with explicit freshness (RFC 9111 §3): the origin asked for it.
  EXPECT_EQ(s.access(get("http://a/500b", kT0, {{"Cache-Control", "max-age=60"}}, 500)), Outcome::miss);
  EXPECT_EQ(s.access(get("http://a/500b", kT0 + 1, {{"Cache-Control", "max-age=60"}}, 500)), Outcome::hit);
}

TEST(HttpSimulator, LogsWithoutHeadersDependOnTheConfiguredTtl) {
  HttpRequest r;
  r.method = "GET";
  r.url = "/a";
  r.status = 200;
  r.size = 10;
  r.time = kT0;
  auto none = sim(0);
  EXPECT_EQ(none.access(r), Outcome::not_stored);
  EXPECT_EQ(none.access(r), Outcome::not_stored);
  EXPECT_EQ(none.counters().not_stored.at("no-freshness"), 2u);
  auto ttl = sim(30'000);
  EXPECT_EQ(ttl.access(r), Outcome::miss);
  r.time = kT0 + 29'000;
  EXPECT_EQ(ttl.access(r), Outcome::hit);
  r.time = kT0 + 31'000;
  EXPECT_EQ(ttl.access(r), Outcome::expired);
}

TEST(HttpSimulator, RequestDirectivesAndMethods) {
  auto s = sim();
  const auto r = get("http://a/x", kT0, {{"Cache-Control", "max-age=60"}});
  EXPECT_EQ(s.access(r), Outcome::miss);
  // RFC 9111 §5.2.1.4: request no-cache forbids using a stored response without validation.
  auto nc = r;
  nc.request_headers.add("Cache-Control", "no-cache");
  EXPECT_EQ(s.access(nc), Outcome::expired);
  // HEAD is answered from the stored GET response.
  auto head = r;
  head.method = "HEAD";
  EXPECT_EQ(s.access(head), Outcome::hit);
  // §4.4: a successful unsafe request invalidates the stored response for its URI.
  auto post = r;
  post.method = "POST";
  EXPECT_EQ(s.access(post), Outcome::bypass);
  EXPECT_EQ(s.counters().invalidated, 1u);
  EXPECT_EQ(s.access(r), Outcome::miss);
  // A failed unsafe request leaves it alone.
  post.status = 500;
  EXPECT_EQ(s.access(post), Outcome::bypass);
  EXPECT_EQ(s.access(r), Outcome::hit);
  // A HEAD miss stores nothing (no body).
  auto h2 = get("http://a/h", kT0, {{"Cache-Control", "max-age=60"}});
  h2.method = "HEAD";
  EXPECT_EQ(s.access(h2), Outcome::not_stored);
  EXPECT_EQ(s.access(h2), Outcome::not_stored);
  // §3.5: a request with Authorization is stored only if the response allows it explicitly.
  auto auth = get("http://a/auth", kT0, {{"Cache-Control", "max-age=60"}});
  auth.request_headers.add("Authorization", "Bearer x");
  EXPECT_EQ(s.access(auth), Outcome::not_stored);
  EXPECT_EQ(s.access(auth), Outcome::not_stored);
  auto pub = get("http://a/pub", kT0, {{"Cache-Control", "public, max-age=60"}});
  pub.request_headers.add("Authorization", "Bearer x");
  EXPECT_EQ(s.access(pub), Outcome::miss);
  EXPECT_EQ(s.access(pub), Outcome::hit);
}

TEST(HttpSimulator, EvictsThroughTheRealStore) {
  // Room for two 10000-byte responses (body, head and bookkeeping, as serve charges them): LRU
  // evicts the least recently used.
  auto s = sim(0, 25'000);
  const auto r = [&](const char* u) { return get(u, kT0, {{"Cache-Control", "max-age=60"}}, 200, 10'000); };
  EXPECT_EQ(s.access(r("http://a/1")), Outcome::miss);
  EXPECT_EQ(s.access(r("http://a/2")), Outcome::miss);
  EXPECT_EQ(s.access(r("http://a/1")), Outcome::hit);
  EXPECT_EQ(s.access(r("http://a/3")), Outcome::miss);  // evicts /2
  EXPECT_EQ(s.access(r("http://a/1")), Outcome::hit);
  EXPECT_EQ(s.access(r("http://a/2")), Outcome::miss);
  EXPECT_THROW(HttpSimulator("nope", 1, {}), std::invalid_argument);
}

}  // namespace
}  // namespace cachefwd::replay
