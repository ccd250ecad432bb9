// One gateway in front of several services (issue 13): a rule names its upstream; each service
// keeps its own partition and limits; unrouted requests go to --upstream or get 404.
#include <gtest/gtest.h>

#include <string>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

ClientResponse get(const ProxyProcess& proxy, const std::string& path) {
  ClientRequest req;
  req.url = proxy.proxy_url() + path;
  return curl_fetch(req);
}

std::string admin_get(std::uint16_t port, const std::string& path) {
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  return curl_fetch(req).body;
}

OriginResponse named(const char* service, const OriginRequest& r) {
  return respond(std::string(service) + " " + r.target, {{"Cache-Control", "max-age=60"}});
}

}  // namespace

TEST(RuleUpstreams, TwoServicesBehindOneGatewayKeepSeparatePartitions) {
  TestOrigin users([](const OriginRequest& r) { return named("users", r); });
  TestOrigin orders([](const OriginRequest& r) { return named("orders", r); });
  ProxyProcess proxy({"--rule",
                      "name=users,path=/users/*,upstream=http://127.0.0.1:" + std::to_string(users.port()) +
                          "/api,ttl=30s,max-entries=1",
                      "--rule", "name=orders,path=/orders/*,upstream=" + orders.url("/") + ",max-entries=10",
                      "--admin", "127.0.0.1:0"});
  auto u1 = get(proxy, "/users/1");
  EXPECT_EQ(u1.status, 200);
  EXPECT_EQ(u1.body, "users /api/users/1") << "the rule's URL path is a prefix";
  EXPECT_EQ(get(proxy, "/users/1").header("Cache-Status").find("hit") != std::string::npos, true);
  EXPECT_EQ(get(proxy, "/orders/7").body, "orders /orders/7");
  EXPECT_EQ(get(proxy, "/orders/8").body, "orders /orders/8");
  EXPECT_EQ(users.requests(), 1);
  EXPECT_EQ(orders.requests(), 2);
  // users' own limit (max-entries=1) evicts within its partition only.
  EXPECT_EQ(get(proxy, "/users/2").body, "users /api/users/2");
  EXPECT_EQ(get(proxy, "/orders/7").header("Cache-Status").find("hit") != std::string::npos, true)
      << "orders' entries are not users' to evict";
  EXPECT_EQ(orders.requests(), 2);

  auto metrics = admin_get(proxy.admin_port(), "/metrics");
  EXPECT_NE(metrics.find("cachefwd_partition_entries{partition=\"rule:users\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("cachefwd_partition_entries{partition=\"rule:orders\"} 2\n"), std::string::npos)
      << metrics;

  // Each service has its own counters.
  auto stats = admin_get(proxy.admin_port(), "/stats");
  EXPECT_NE(stats.find(R"("services":{"orders":{"hit":1,"miss":2},"users":{"hit":1,"miss":2}})"),
            std::string::npos)
      << stats;
  metrics = admin_get(proxy.admin_port(), "/metrics");
  EXPECT_NE(metrics.find("cachefwd_service_outcomes_total{service=\"users\",outcome=\"miss\"} 2\n"),
            std::string::npos)
      << metrics;
  auto other = get(proxy, "/elsewhere");
  EXPECT_EQ(other.status, 404) << "no rule routes it and there is no --upstream: " << other.body;
  EXPECT_EQ(users.requests() + orders.requests(), 4);
}

TEST(RuleUpstreams, UnroutedRequestsGoToTheDefaultUpstream) {
  TestOrigin users([](const OriginRequest& r) { return named("users", r); });
  TestOrigin fallback([](const OriginRequest& r) { return named("default", r); });
  ProxyProcess proxy(
      {"--upstream", fallback.url("/"), "--rule", "name=users,path=/users/,upstream=" + users.url("/")});
  EXPECT_EQ(get(proxy, "/users/1").body, "users /users/1");
  EXPECT_EQ(get(proxy, "/other").body, "default /other");
  EXPECT_EQ(users.requests(), 1);
  EXPECT_EQ(fallback.requests(), 1);
}

TEST(RuleUpstreams, ABadUpstreamInARuleIsRefusedAtStartup) {
  std::string out;
  EXPECT_NE(run_cachefwd({"serve", "--rule", "path=/x,upstream=ftp://h/"}, out), 0);
  EXPECT_NE(out.find("upstream"), std::string::npos) << out;
}
