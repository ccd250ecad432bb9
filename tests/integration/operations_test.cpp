// Operating the proxy end to end (issue #4): admin API, purge, metrics, access control, access
// log, config file, signals.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

ClientResponse admin(std::uint16_t port, const std::string& method, const std::string& path,
                     std::vector<std::string> headers = {}) {
  ClientRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  req.headers = std::move(headers);
  if (method == "POST") req.body = "";
  return curl_fetch(req);
}

// A counter's value in Prometheus text, e.g. metric("cachefwd_cache_lookups_total{result=\"hit\"}").
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string temp_path(const std::string& name) {
  return "/tmp/cachefwd-test-" + std::to_string(::getpid()) + "-" + name;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct CachedOrigin {
  TestOrigin origin{[](const OriginRequest& r) {
    std::vector<std::pair<std::string, std::string>> h{{"Cache-Control", "max-age=300"}};
    if (r.target.rfind("/tagged", 0) == 0) h.emplace_back("Cache-Tag", "product-7, catalog");
    return respond("body of " + r.target, h);
  }};
};
}  // namespace

TEST(Admin, PurgeByUrlPrefixTagAndAllMakesTheNextRequestMiss) {
  CachedOrigin o;
  ProxyProcess proxy({"--admin", "127.0.0.1:0"});
  auto ap = proxy.admin_port();
  ASSERT_NE(ap, 0);
  auto get = [&](const std::string& path) { return proxy_get(proxy.proxy_url(), o.origin.url(path)); };
  for (auto p : {"/a", "/dir/b", "/dir/c", "/tagged/1", "/tagged/2", "/z"}) get(p);
  for (auto p : {"/a", "/dir/b", "/dir/c", "/tagged/1", "/tagged/2", "/z"})
    ASSERT_NE(get(p).header("Cache-Status").find("hit"), std::string::npos) << p;

  auto r = admin(ap, "POST", "/purge?url=" + url_encode(o.origin.url("/a")));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"purged\":1"), std::string::npos) << r.body;
  EXPECT_EQ(o.origin.requests_for("/a"), 1);
  get("/a");
  EXPECT_EQ(o.origin.requests_for("/a"), 2);

  r = admin(ap, "POST", "/purge?prefix=" + url_encode(o.origin.url("/dir/")));
  EXPECT_NE(r.body.find("\"purged\":2"), std::string::npos) << r.body;
  get("/dir/b");
  get("/dir/c");
  EXPECT_EQ(o.origin.requests_for("/dir/b"), 2);
  EXPECT_EQ(o.origin.requests_for("/dir/c"), 2);

  r = admin(ap, "POST", "/purge?tag=product-7");
  EXPECT_NE(r.body.find("\"purged\":2"), std::string::npos) << r.body;
  get("/tagged/1");
  EXPECT_EQ(o.origin.requests_for("/tagged/1"), 2);
  EXPECT_NE(get("/z").header("Cache-Status").find("hit"), std::string::npos) << "a tag purge leaves others";

  r = admin(ap, "POST", "/purge?all=1");
  EXPECT_EQ(r.status, 200);
  get("/z");
  EXPECT_EQ(o.origin.requests_for("/z"), 2);
  EXPECT_EQ(admin(ap, "POST", "/purge").status, 400);
  EXPECT_EQ(admin(ap, "GET", "/purge?all=1").status, 405);
}

TEST(Admin, PurgeByPartitionRemovesOnlyThatRulesEntries) {
  CachedOrigin o;
  ProxyProcess proxy({"--admin", "127.0.0.1:0", "--rule", "name=api,path=/api/,partition=apis"});
  auto ap = proxy.admin_port();
  proxy_get(proxy.proxy_url(), o.origin.url("/api/x"));
  proxy_get(proxy.proxy_url(), o.origin.url("/web/x"));
  auto r = admin(ap, "POST", "/purge?partition=apis");
  EXPECT_NE(r.body.find("\"purged\":1"), std::string::npos) << r.body;
  proxy_get(proxy.proxy_url(), o.origin.url("/api/x"));
  proxy_get(proxy.proxy_url(), o.origin.url("/web/x"));
  EXPECT_EQ(o.origin.requests_for("/api/x"), 2);
  EXPECT_EQ(o.origin.requests_for("/web/x"), 1);
}

TEST(Admin, PurgeMethodOnTheProxyPort) {
  CachedOrigin o;
  ProxyProcess proxy({});
  proxy_get(proxy.proxy_url(), o.origin.url("/p"));
  ClientRequest purge;
  purge.method = "PURGE";
  purge.url = o.origin.url("/p");
  purge.proxy = proxy.proxy_url();
  EXPECT_EQ(curl_fetch(purge).status, 200);
  EXPECT_EQ(curl_fetch(purge).status, 404) << "nothing stored any more";
  proxy_get(proxy.proxy_url(), o.origin.url("/p"));
  EXPECT_EQ(o.origin.requests_for("/p"), 2);
}

TEST(Admin, MetricsCountersMoveWithRequests) {
  CachedOrigin o;
  ProxyProcess proxy({"--admin", "127.0.0.1:0"});
  auto ap = proxy.admin_port();
  auto before = admin(ap, "GET", "/metrics").body;
  EXPECT_EQ(metric(before, "cachefwd_cache_lookups_total{result=\"hit\"}"), 0);
  for (int i = 0; i < 4; ++i) proxy_get(proxy.proxy_url(), o.origin.url("/m"));
  auto after = admin(ap, "GET", "/metrics");
  EXPECT_EQ(after.status, 200);
  EXPECT_NE(after.header("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_EQ(metric(after.body, "cachefwd_cache_lookups_total{result=\"hit\"}"), 3);
  EXPECT_EQ(metric(after.body, "cachefwd_cache_lookups_total{result=\"miss\"}"), 1);
  EXPECT_EQ(metric(after.body, "cachefwd_stores_total"), 1);
  EXPECT_EQ(metric(after.body, "cachefwd_requests_total"), 4);
  EXPECT_EQ(metric(after.body, "cachefwd_store_entries"), 1);
  EXPECT_GT(metric(after.body, "cachefwd_process_resident_memory_bytes"), 1e6);
  EXPECT_EQ(metric(after.body, "cachefwd_hit_latency_seconds_count"), 3);
  ClientRequest del;
  del.method = "DELETE";
  del.url = o.origin.url("/gone");
  del.proxy = proxy.proxy_url();
  curl_fetch(del);
  auto later = admin(ap, "GET", "/metrics").body;
  EXPECT_EQ(metric(later, "cachefwd_bypasses_total{reason=\"method\"}"), 1);
  EXPECT_EQ(metric(later, "cachefwd_bypasses_total{reason=\"rule\"}"), 0);
  auto stats = admin(ap, "GET", "/stats");
  EXPECT_NE(stats.body.find("\"hits\":3"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("\"hit_ratio\":0.75"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("\"bypasses_by_reason\":{\"method\":1"), std::string::npos) << stats.body;
  // The cache flow's outcomes, under the names `replay --json` uses.
  EXPECT_NE(stats.body.find("\"outcomes\":{\"hit\":3,\"miss\":1,\"bypass\":1}"), std::string::npos) << stats.body;
  EXPECT_EQ(metric(later, "cachefwd_outcomes_total{outcome=\"hit\"}"), 3);
  EXPECT_EQ(metric(later, "cachefwd_outcomes_total{outcome=\"bypass\"}"), 1);
}

TEST(Admin, TokenIsRequiredWhenConfigured) {
  ProxyProcess proxy({"--admin", "127.0.0.1:0", "--admin-token", "s3cret"});
  auto ap = proxy.admin_port();
  EXPECT_EQ(admin(ap, "GET", "/stats").status, 401);
  EXPECT_EQ(admin(ap, "GET", "/stats", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(admin(ap, "GET", "/stats", {"Authorization: Bearer s3cret"}).status, 200);
}

TEST(Admin, NonLoopbackAdminWithoutTokenRefusesToStart) {
  std::string out;
  EXPECT_EQ(run_cachefwd({"serve", "--admin", "0.0.0.0:9999", "--dump-config"}, out), 2);
  EXPECT_NE(out.find("--admin-token"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run_cachefwd({"serve", "--admin", "0.0.0.0:9999", "--admin-token", "t", "--dump-config"}, out), 0) << out;
}

TEST(AccessControl, DeniedDestinationsGet403) {
  CachedOrigin o;
  {
    ProxyProcess proxy({"--deny-dest", "127.0.0.0/8"});
    auto r = proxy_get(proxy.proxy_url(), o.origin.url("/x"));
    EXPECT_EQ(r.status, 403);
    // A name that resolves into a denied range is refused too (checked on the resolved address).
    auto byname = proxy_get(proxy.proxy_url(), "http://localhost:" + std::to_string(o.origin.port()) + "/x");
    EXPECT_EQ(byname.status, 403);
  }
  {
    ProxyProcess proxy({"--deny-dest", "*.internal,localhost"});
    EXPECT_EQ(proxy_get(proxy.proxy_url(), "http://localhost:" + std::to_string(o.origin.port()) + "/x").status, 403);
    EXPECT_EQ(proxy_get(proxy.proxy_url(), o.origin.url("/x")).status, 200);
  }
  {
    ProxyProcess proxy({"--allow-dest", "10.0.0.0/8"});
    EXPECT_EQ(proxy_get(proxy.proxy_url(), o.origin.url("/x")).status, 403) << "not on the allow list";
  }
  EXPECT_EQ(o.origin.requests(), 1);
}

TEST(AccessLog, OneLinePerResponseWithCacheStatus) {
  CachedOrigin o;
  std::string path = temp_path("access.log");
  std::remove(path.c_str());
  {
    ProxyProcess proxy({"--access-log", path});
    proxy_get(proxy.proxy_url(), o.origin.url("/log"), {"User-Agent: test-agent/1"});
    proxy_get(proxy.proxy_url(), o.origin.url("/log"));
    EXPECT_EQ(proxy.terminate(), 0);
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^127\\.0\\.0\\.1 - - \\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:"))) << lines[0];
  EXPECT_NE(lines[0].find("\"GET " + o.origin.url("/log") + " HTTP/1.1\" 200 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"test-agent/1\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" cache=miss+stored "), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("cache=hit"), std::string::npos) << lines[1];
  std::remove(path.c_str());
}

TEST(Config, FileSettingsApplyAndTheCommandLineWins) {
  CachedOrigin o;
  std::string path = temp_path("config.toml");
  {
    std::ofstream f(path);
    f << "ttl = \"60s\"\nmax-object-size = \"1KiB\"\n";
  }
  TestOrigin plain([](const OriginRequest&) { return respond(std::string(100, 'p'), {}); });
  ProxyProcess proxy({"--config", path, "--max-object-size", "4KiB"});
  proxy_get(proxy.proxy_url(), plain.url("/t"));
  auto r = proxy_get(proxy.proxy_url(), plain.url("/t"));
  EXPECT_NE(r.header("Cache-Status").find("hit"), std::string::npos) << "ttl from the file";
  std::string out;
  run_cachefwd({"serve", "--config", path, "--max-object-size", "4KiB", "--dump-config"}, out);
  EXPECT_NE(out.find("ttl = \"60s\""), std::string::npos) << out;
  EXPECT_NE(out.find("max-object-size = \"4KiB\""), std::string::npos) << out;
  std::remove(path.c_str());
}

TEST(Config, TheDumpOfTheDefaultsReadsBackToItself) {
  // Found by fuzz_serve_config: `admin = ""` (an unset ADDR:PORT) was passed on as --admin '' and
  // refused, so --dump-config's own output could not be used as a config file.
  std::string first, second;
  ASSERT_EQ(run_cachefwd({"serve", "--dump-config"}, first), 0) << first;
  ASSERT_NE(first.find("admin = \"\""), std::string::npos) << first;
  std::string path = temp_path("dumped.toml");
  {
    std::ofstream f(path);
    f << first;
  }
  EXPECT_EQ(run_cachefwd({"serve", "--config", path, "--dump-config"}, second), 0) << second;
  EXPECT_EQ(second, first);
  std::remove(path.c_str());
}

TEST(Config, BrokenFilesAndDirectoriesAreRefusedWithFileAndLine) {
  std::string out;
  EXPECT_EQ(run_cachefwd({"serve", "--config", "/tmp", "--dump-config"}, out), 2);
  EXPECT_NE(out.find("cachefwd serve: --config /tmp: is a directory"), std::string::npos) << out;
  std::string path = temp_path("broken.toml");
  {
    std::ofstream f(path);
    f << "ttl = \"60s\"\nlisten = [\"127.0.0.1:3128\"\n";
  }
  EXPECT_EQ(run_cachefwd({"serve", "--config", path, "--dump-config"}, out), 2);
  // The array that never closes: toml++ reports the end of line 2, where its `]` is missing.
  EXPECT_NE(out.find("--config " + path + ":2:"), std::string::npos) << out;
  {
    std::ofstream f(path);
    f << "listen = [\n  \"127.0.0.1:3999\",\n]\nttl = \"1m30s\"\n";
  }
  EXPECT_EQ(run_cachefwd({"serve", "--config", path, "--dump-config"}, out), 0) << out;
  EXPECT_NE(out.find("listen = [\"127.0.0.1:3999\"]"), std::string::npos) << out;
  EXPECT_NE(out.find("ttl = \"1m30s\""), std::string::npos) << out;
  std::remove(path.c_str());
}

TEST(Signals, SighupWithABrokenConfigKeepsTheOldOne) {
  CachedOrigin o;
  std::string path = temp_path("reload.toml");
  {
    std::ofstream f(path);
    f << "deny-dest = \"\"\n";
  }
  ProxyProcess proxy({"--config", path});
  EXPECT_EQ(proxy_get(proxy.proxy_url(), o.origin.url("/h1")).status, 200);
  {
    std::ofstream f(path);
    f << "this is = not [valid\n";
  }
  proxy.signal(SIGHUP);
  ASSERT_TRUE(proxy.wait_for_log("not reloaded", 3000)) << proxy.log();
  EXPECT_EQ(proxy_get(proxy.proxy_url(), o.origin.url("/h2")).status, 200);
  {
    std::ofstream f(path);
    f << "deny-dest = \"127.0.0.0/8\"\n";
  }
  proxy.signal(SIGHUP);
  ASSERT_TRUE(proxy.wait_for_log("configuration reloaded", 3000)) << proxy.log();
  EXPECT_EQ(proxy_get(proxy.proxy_url(), o.origin.url("/h3")).status, 403) << "the new config applies";
  EXPECT_NE(proxy_get(proxy.proxy_url(), o.origin.url("/h1")).status, 0);
  std::remove(path.c_str());
}

TEST(Signals, SigtermDrainsAnInFlightSlowResponse) {
  TestOrigin origin([](const OriginRequest&) {
    auto r = respond("slow but complete", {});
    r.delay_ms = 800;
    return r;
  });
  ProxyProcess proxy({"--drain-timeout", "5s"});
  auto pending = std::async(std::launch::async, [&] { return proxy_get(proxy.proxy_url(), origin.url("/slow")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  proxy.signal(SIGTERM);
  auto r = pending.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow but complete");
  EXPECT_EQ(proxy.wait_exit(5000), 0);
}
