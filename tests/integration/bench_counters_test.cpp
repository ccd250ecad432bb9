// cachefwd bench's hit ratio (from Cache-Status on responses) equals the proxy's own counters
// (admin /stats) on a known Zipf workload (issue #5).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "support/proxy_process.h"

using namespace cachefwd::testing;

namespace {
long long json_int(const std::string& text, const std::string& object, const std::string& field) {
  auto at = text.find("\"" + object + "\"");
  if (at == std::string::npos) return -1;
  std::smatch m;
  std::string rest = text.substr(at);
  if (!std::regex_search(rest, m, std::regex("\"" + field + "\": *([0-9]+)"))) return -1;
  return std::stoll(m[1]);
}
}  // namespace

TEST(BenchCounters, ClientHitRatioAgreesWithTheProxysCounters) {
  std::string json = "/tmp/cachefwd-bench-" + std::to_string(::getpid()) + ".json";
  std::string out;
  int rc = run_cachefwd({"bench", "--duration", "1500ms", "--keys", "500", "--zipf", "1.1", "--connections", "4",
                         "--no-progress", "--json", json},
                        out);
  ASSERT_EQ(rc, 0) << out;
  std::ifstream in(json);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  long long client_hits = json_int(text, "cache", "hits");
  long long client_misses = json_int(text, "cache", "misses");
  long long proxy_hits = json_int(text, "delta", "hits");
  long long proxy_misses = json_int(text, "delta", "misses");
  ASSERT_GT(client_hits, 0) << text;
  ASSERT_GE(proxy_hits, 0) << "bench did not read the proxy's counters: " << text;
  // The windows differ only by the requests in flight when measuring stops: one per connection.
  EXPECT_LE(std::llabs(client_hits - proxy_hits), 4) << text;
  EXPECT_LE(std::llabs(client_misses - proxy_misses), 4) << text;
  // Each key goes upstream once (max-age 60): at most 500 origin fetches. A request that joined a
  // fetch in flight is a (collapsed) miss too, so misses = fetches + collapsed joins.
  long long coalesced = json_int(text, "delta", "coalesced");
  ASSERT_GE(coalesced, 0) << text;
  EXPECT_LE(json_int(text, "origin", "requests"), 500) << text;
  EXPECT_LE(proxy_misses - coalesced, 500) << text;
  std::remove(json.c_str());
}
