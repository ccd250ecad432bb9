// One command-line grammar (the real binary): typed values, one-line errors with the subcommand's
// name, exit 2 for usage and 1 for runtime failures, suggestions for misspelt flags, --version
// everywhere, host names as addresses, and `-` for standard output.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

namespace {

struct Outcome {
  int status;
  std::string output;
};

Outcome cachefwd(const std::vector<std::string>& args) {
  Outcome o;
  o.status = run_cachefwd(args, o.output);
  return o;
}

// Exactly one line of error, starting "cachefwd <sub>: ".
void expect_one_line_error(const Outcome& o, const std::string& sub, int status, const std::string& needle) {
  EXPECT_EQ(o.status, status) << o.output;
  EXPECT_EQ(o.output.rfind("cachefwd " + sub + ": ", 0), 0u) << o.output;
  EXPECT_EQ(o.output.find('\n'), o.output.size() - 1) << "more than one line: " << o.output;
  EXPECT_NE(o.output.find(needle), std::string::npos) << o.output;
}

TEST(Cli, NonsenseIsAUsageErrorOnOneLine) {
  expect_one_line_error(cachefwd({"bench", "-c", "0"}), "bench", 2,
                        "--connections: must be at least 1 (got 0)");
  expect_one_line_error(cachefwd({"bench", "--zipf", "-1"}), "bench", 2, "--zipf: must be at least 0");
  expect_one_line_error(cachefwd({"bench", "--rate", "-5"}), "bench", 2, "--rate: must be at least 0");
  expect_one_line_error(cachefwd({"bench", "--keys", "0"}), "bench", 2, "--keys: must be at least 1");
  expect_one_line_error(cachefwd({"bench", "-c", "many"}), "bench", 2, "'many' is not a number");
  expect_one_line_error(cachefwd({"bench", "--quiet"}), "bench", 2, "--quiet without --json");
  expect_one_line_error(cachefwd({"serve", "--max-bytes", "0", "--dump-config"}), "serve", 2, "--no-cache");
  expect_one_line_error(cachefwd({"serve", "--ttl", "soon"}), "serve", 2, "--ttl: wants a duration");
  expect_one_line_error(cachefwd({"serve", "--max-object-size", "big"}), "serve", 2, "wants a size");
  expect_one_line_error(cachefwd({"serve", "--listen", "nowhere"}), "serve", 2, "wants ADDR:PORT");
  expect_one_line_error(cachefwd({"replay", "--plot", "x.svg", "capture.har"}), "replay", 2, "--simulate");
  expect_one_line_error(cachefwd({"replay", "--timeout", "-1s", "x.har"}), "replay", 2, "--timeout");
  expect_one_line_error(cachefwd({"origin", "--default-size", "huge"}), "origin", 2, "wants a size");
  // No more 300-digit ranges or CLI11 exit codes (105, 106, 109).
  EXPECT_EQ(cachefwd({"bench", "-c", "0"}).output.find("e+308"), std::string::npos);
}

TEST(Cli, MisspeltFlagsGetASuggestion) {
  expect_one_line_error(cachefwd({"bench", "--tiemout", "5s"}), "bench", 2,
                        "unknown option --tiemout (did you mean --timeout?)");
  expect_one_line_error(cachefwd({"serve", "--listn", "127.0.0.1:1"}), "serve", 2,
                        "(did you mean --listen?)");
  expect_one_line_error(cachefwd({"replay", "--simulte", "x"}), "replay", 2, "(did you mean --simulate?)");
  const auto o = cachefwd({"frobnicate"});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.output.find("cachefwd: unknown subcommand 'frobnicate'"), std::string::npos) << o.output;
}

TEST(Cli, DurationsAreDurationsEverywhere) {
  auto o = cachefwd({"serve", "--ttl", "1m30s", "--drain-timeout", "1.5s", "--dump-config"});
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_NE(o.output.find("ttl = \"1m30s\""), std::string::npos) << o.output;
  expect_one_line_error(cachefwd({"bench", "--duration", "5x"}), "bench", 2, "1m30s");
  expect_one_line_error(cachefwd({"bench", "--max-age", "often"}), "bench", 2, "--max-age wants a duration");
}

TEST(Cli, VersionOnEverySubcommand) {
  for (const char* sub : {"serve", "bench", "replay", "origin"}) {
    const auto o = cachefwd({sub, "--version"});
    EXPECT_EQ(o.status, 0) << sub;
    EXPECT_EQ(o.output, "cachefwd 0.1.0\n") << sub;
  }
}

TEST(Cli, HelpShowsValueKinds) {
  std::string help;
  ASSERT_EQ(run_cachefwd({"serve", "--help"}, help), 0);
  EXPECT_NE(help.find("--ttl DURATION"), std::string::npos) << help;
  EXPECT_NE(help.find("SIZE"), std::string::npos);
  EXPECT_NE(help.find("ADDR:PORT"), std::string::npos);
  EXPECT_EQ(help.find(" TEXT "), std::string::npos) << help;
  help.clear();
  ASSERT_EQ(run_cachefwd({"bench", "--help"}, help), 0);
  EXPECT_NE(help.find("--timeout DURATION"), std::string::npos) << help;
  EXPECT_EQ(help.find(" TEXT "), std::string::npos) << help;
}

TEST(Cli, HostNamesAndJsonToStandardOutput) {
  TestOrigin origin([](const OriginRequest&) { return respond("hello", {{"Cache-Status", "origin; hit"}}); });
  std::string url = origin.url("/x");
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  const auto o = cachefwd({"bench", "--url", url, "-n", "5", "-c", "1", "--json", "-", "--quiet"});
  ASSERT_EQ(o.status, 0) << o.output;
  EXPECT_EQ(o.output.front(), '{') << "only the JSON on stdout with --quiet: " << o.output;
  EXPECT_NE(o.output.find("\"responses\":5"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("\"hits\":5"), std::string::npos) << o.output;
}

TEST(Cli, UnreadableInputsAreRuntimeErrors) {
  expect_one_line_error(cachefwd({"replay", "--simulate", "/tmp"}), "replay", 1, "/tmp is a directory");
  expect_one_line_error(cachefwd({"replay", "--simulate", "/nonexistent/trace.csv"}), "replay", 1,
                        "cannot open");
  expect_one_line_error(cachefwd({"serve", "--config", "/tmp"}), "serve", 2, "is a directory");
}

TEST(Cli, AnUnreachableTargetIsARuntimeErrorThatSaysSo) {
  // Port 1 on loopback refuses; bench gives up after one --timeout instead of retrying for the run.
  const auto o = cachefwd(
      {"bench", "--proxy", "localhost:1", "-n", "1", "--timeout", "500ms", "--quiet", "--json", "/dev/null"});
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("cachefwd bench: no responses: could not connect"), std::string::npos) << o.output;
}

}  // namespace
