#include "load/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>

#include "load/origin.h"

namespace cachefwd::load {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { port_ = origin_.start(HostPort{"127.0.0.1", 0}); }
  Workload urls(const std::vector<std::string>& targets) {
    std::vector<std::string> u;
    for (const auto& t : targets) u.push_back(fmt::format("http://127.0.0.1:{}{}", port_, t));
    std::string err;
    auto w = Workload::from_urls(u, 0, &err);
    EXPECT_TRUE(w) << err;
    return *w;
  }
  LoadOptions opts() {
    LoadOptions o;
    o.connect_to = HostPort{"127.0.0.1", port_};
    return o;
  }
  OriginThread origin_;
  std::uint16_t port_ = 0;
};

TEST_F(EngineTest, OpenModelHoldsTheRateWithinTwoPercent) {
  const auto w = urls({"/obj/1?size=512"});
  auto o = opts();
  o.rate = 2000;
  o.connections = 8;
  o.duration_s = 3;
  const LoadResult r = run_load(w, o);
  EXPECT_NEAR(r.throughput(), 2000.0, 2000.0 * 0.02) << "responses " << r.responses << " in " << r.elapsed_s;
  EXPECT_NEAR(static_cast<double>(r.sent), 6000.0, 6000.0 * 0.02);
  EXPECT_EQ(r.errors(), 0u);
  // The origin answered what we sent (in-flight at the stop excluded).
  EXPECT_GE(origin_.stats().requests.load(), r.responses);
  EXPECT_EQ(r.status_1xx_2xx, r.responses);
  EXPECT_EQ(r.body_bytes, r.responses * 512);
  ASSERT_GE(r.series.size(), 2u);
  double prev = 0;
  for (std::size_t i = 0; i < r.series.size(); ++i) {
    const double dt = r.series[i].t_s - prev;
    prev = r.series[i].t_s;
    if (dt < 0.5) continue;  // the last, partial interval
    EXPECT_NEAR(static_cast<double>(r.series[i].responses) / dt, 2000.0, 2000.0 * 0.05) << "interval " << i;
  }
}

// Coordinated omission: a target that takes 100 ms per request on one connection can answer 10/s.
// Asked for 40/s, the open model must report the queueing the schedule implies (latency from the
// intended send time), while the closed model only sees the 100 ms service time.
TEST_F(EngineTest, OpenModelLatencyCountsFromTheIntendedSendTime) {
  const auto w = urls({"/slow?delay_ms=100&size=10"});
  auto o = opts();
  o.connections = 1;
  o.duration_s = 1.2;
  const LoadResult closed = run_load(w, o);
  ASSERT_GT(closed.responses, 5u);
  EXPECT_GE(closed.latency.percentile(50), 100'000'000u);
  EXPECT_LT(closed.latency.percentile(99), 180'000'000u);

  o.rate = 40;
  const LoadResult open = run_load(w, o);
  ASSERT_GT(open.responses, 5u);
  // The k-th answer arrives at ~100 ms * k while it was due at 25 ms * k: the last ones of the
  // run waited far longer than one service time.
  EXPECT_GT(open.latency.max(), 500'000'000u);
  EXPECT_GT(open.max_backlog, 10u);
  EXPECT_GT(open.late_sends, 10u);
}

TEST_F(EngineTest, ClassifiesHitsAndMissesFromCacheStatus) {
  const auto w = urls({"/a?size=100&cache-status=cachefwd%3B%20hit",
                       "/b?size=300&cache-status=cachefwd%3B%20fwd%3Duri-miss%3B%20stored", "/c?size=50"});
  auto o = opts();
  o.connections = 4;
  o.requests = 3000;
  o.duration_s = 10;
  const LoadResult r = run_load(w, o);
  ASSERT_EQ(r.responses, 3000u);
  EXPECT_EQ(r.hits + r.misses + r.unclassified, 3000u);
  EXPECT_NEAR(static_cast<double>(r.hits), 1000, 120);
  EXPECT_NEAR(static_cast<double>(r.misses), 1000, 120);
  EXPECT_EQ(r.hit_body_bytes, r.hits * 100);
  EXPECT_EQ(r.miss_body_bytes, r.misses * 300);
  EXPECT_EQ(r.body_bytes, r.hits * 100 + r.misses * 300 + r.unclassified * 50);
  EXPECT_EQ(r.hit_latency.count(), r.hits);
  EXPECT_EQ(r.miss_latency.count(), r.misses);
  EXPECT_DOUBLE_EQ(r.hit_ratio(), static_cast<double>(r.hits) / static_cast<double>(r.hits + r.misses));
  EXPECT_DOUBLE_EQ(r.byte_hit_ratio(),
                   static_cast<double>(r.hits * 100) / static_cast<double>(r.hits * 100 + r.misses * 300));
  // --requests drains: the origin saw exactly what was measured.
  EXPECT_EQ(origin_.stats().requests.load(), 3000u);
}

TEST_F(EngineTest, PipeliningHeadAndStatusClasses) {
  const auto w = urls({"/ok?size=2000", "/gone?status=404&size=10", "/err?status=503&size=0"});
  auto o = opts();
  o.connections = 2;
  o.pipeline = 8;
  o.requests = 1500;
  o.head_fraction = 0.5;
  const LoadResult r = run_load(w, o);
  ASSERT_EQ(r.responses, 1500u);
  EXPECT_EQ(r.errors(), 0u);
  EXPECT_EQ(r.status_1xx_2xx + r.status_4xx + r.status_5xx, 1500u);
  EXPECT_NEAR(static_cast<double>(r.status_4xx), 500, 100);
  EXPECT_NEAR(static_cast<double>(r.status_5xx), 500, 100);
  // HEAD answers carried no body: about half the 2xx bodies arrived.
  EXPECT_LT(r.body_bytes, r.status_1xx_2xx * 2000 + r.status_4xx * 10);
  EXPECT_GT(origin_.stats().head.load(), 500u);
}

TEST_F(EngineTest, ConnectionClosesAreFollowedByReconnects) {
  const auto w = urls({"/x?close=1&size=10"});
  auto o = opts();
  o.connections = 2;
  o.requests = 200;
  const LoadResult r = run_load(w, o);
  EXPECT_EQ(r.responses, 200u);
  EXPECT_EQ(r.errors(), 0u);
  EXPECT_GE(r.reconnects, 190u);
  EXPECT_GE(origin_.stats().connections_accepted.load(), 200u);
}

TEST(EngineErrors, RefusedConnectionsAreCountedAsConnectErrors) {
  // A port nobody listens on: bind one, note it, close it.
  OriginThread o;
  const auto port = o.start(HostPort{"127.0.0.1", 0});
  o.stop();
  std::string err;
  auto w = Workload::from_urls({fmt::format("http://127.0.0.1:{}/", port)}, 0, &err);
  ASSERT_TRUE(w);
  LoadOptions lo;
  lo.connect_to = HostPort{"127.0.0.1", port};
  lo.connections = 2;
  lo.duration_s = 0.35;
  const LoadResult r = run_load(*w, lo);
  EXPECT_EQ(r.responses, 0u);
  EXPECT_GE(r.err_connect, 2u);
}

TEST_F(EngineTest, SlowResponsesTimeOut) {
  const auto w = urls({"/slow?delay_ms=2000"});
  auto o = opts();
  o.connections = 2;
  o.duration_s = 0.8;
  o.timeout_s = 0.3;
  const LoadResult r = run_load(w, o);
  EXPECT_EQ(r.responses, 0u);
  EXPECT_GE(r.err_timeout, 2u);
}

}  // namespace
}  // namespace cachefwd::load
