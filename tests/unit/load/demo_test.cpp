// `cachefwd bench` with no target (issue 5): needs a cachefwd binary with `serve`, named by the
// CACHEFWD_BINARY environment variable (the unit test program does not depend on the binary).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace {

TEST(BenchDemo, NoTargetExitsZeroAndReportsANonZeroHitRatio) {
  const char* bin = std::getenv("CACHEFWD_BINARY");
  if (bin == nullptr) GTEST_SKIP() << "set CACHEFWD_BINARY=path/to/cachefwd to run";
  const std::string cmd = std::string("'") + bin +
                          "' bench --duration 1500ms --keys 200 --zipf 1 --connections 8 --no-progress 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("embedded cachefwd serve"), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(\n  hit ratio +([0-9.]+)%)"))) << out;
  const double hit_ratio = std::stod(m[1]);
  // 200 keys, Zipf 1, 1.5 s: every key is missed at most once (max-age 60), so hits dominate.
  EXPECT_GT(hit_ratio, 50.0) << out;
  // Each key reaches the origin once (max-age 60, coalescing); misses also count requests that
  // joined a fetch in flight, so the bound is on origin requests.
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(\n  requests reaching it +([0-9]+)\n)"))) << out;
  EXPECT_LE(std::stoul(m[1]), 200u) << out;
  EXPECT_NE(out.find("RSS at end"), std::string::npos) << out;
}

}  // namespace
