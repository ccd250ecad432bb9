// simulate_trace / simulate_capture: a spec in, results out; the input through the spec's open
// callback (a string here) and throughput through an injected clock.
#include "replay/simulation.h"

#include <gtest/gtest.h>

#include <sstream>

namespace cachefwd::replay {
namespace {

class StringInput final : public Input {
 public:
  explicit StringInput(const std::string& text) : in_(text) {}
  std::istream& stream() override { return in_; }

 private:
  std::istringstream in_;
};

OpenInput opener(const std::string& text, int* opened) {
  return [text, opened] {
    ++*opened;
    return std::make_unique<StringInput>(text);
  };
}

// A clock that advances one second per reading.
SecondsClock ticking() {
  auto t = std::make_shared<double>(0);
  return [t] { return *t += 1; };
}

TEST(SimulateTrace, LruAndBeladyOnAHandCheckedSequence) {
  int opened = 0;
  TraceSimSpec spec;
  spec.name = "abcabc.csv";
  // a b c a b c, unit sizes, room for two: LRU misses all six; Belady keeps a at c's miss (a is
  // needed sooner than b), then hits a and c: four misses.
  spec.open = opener("1,a,1\n2,b,1\n3,c,1\n4,a,1\n5,b,1\n6,c,1\n", &opened);
  spec.format = TraceFormat::kCsv;
  spec.sizes = *parse_cache_sizes("2");
  spec.policies = {"lru", "belady"};
  spec.clock = ticking();
  const auto r = simulate_trace(spec);
  EXPECT_EQ(opened, 1) << "absolute sizes need one pass";
  EXPECT_EQ(r.requests, 6u);
  EXPECT_EQ(r.objects, 3u);
  EXPECT_TRUE(r.has_belady);
  ASSERT_EQ(r.runs.size(), 2u);
  EXPECT_EQ(r.runs[0].policy, "lru");
  EXPECT_EQ(r.runs[0].counters.misses, 6u);
  EXPECT_EQ(r.runs[1].policy, "belady");
  EXPECT_EQ(r.runs[1].counters.misses, 4u);
  EXPECT_GT(r.runs[0].seconds, 0) << "the injected clock times each run";
}

TEST(SimulateTrace, PercentSizesReadTheInputTwiceAndEmptyInputsSimulateNothing) {
  int opened = 0;
  TraceSimSpec spec;
  spec.open = opener("1,a,100\n2,b,300\n3,a,100\n", &opened);
  spec.format = TraceFormat::kCsv;
  spec.sizes = *parse_cache_sizes("50%");
  spec.policies = {"lru"};
  auto r = simulate_trace(spec);
  EXPECT_EQ(opened, 2);
  EXPECT_EQ(r.footprint_bytes, 400u);
  EXPECT_EQ(r.runs[0].cache_bytes, 200u);
  EXPECT_EQ(r.runs[0].seconds, 0) << "no clock, no timing";

  spec.open = opener("", &opened);
  r = simulate_trace(spec);
  EXPECT_EQ(r.requests, 0u);
  spec.open = opener("0,a\n\x01\x02\n", &opened);  // a line with two fields, then bytes
  r = simulate_trace(spec);
  EXPECT_EQ(r.requests, 0u);
  EXPECT_EQ(r.errors.bad, 2u);
}

TEST(SimulateCapture, AnAccessLogWithATtl) {
  int opened = 0;
  CaptureSimSpec spec;
  std::string log;
  for (int i = 0; i < 4; ++i)
    log += "127.0.0.1 - - [22/Nov/2026:04:13:1" + std::to_string(i) + " +0000] \"GET /a HTTP/1.1\" 200 100\n";
  spec.open = opener(log, &opened);
  spec.format = HttpFormat::kLog;
  // 100% of the footprint (body bytes) cannot hold the entry as serve charges it (head, fields
  // and bookkeeping besides the body); 1MiB can.
  spec.sizes = *parse_cache_sizes("100%,1MiB");
  spec.policies = {"lru"};
  spec.policy_config.default_ttl_ms = 60'000;
  spec.ttl_text = "1m";
  const auto r = simulate_capture(spec);
  EXPECT_EQ(opened, 2);
  EXPECT_TRUE(r.footprint_known);
  EXPECT_EQ(r.footprint_bytes, 100u);
  EXPECT_EQ(r.requests, 4u);
  ASSERT_EQ(r.runs.size(), 2u);
  for (const auto& run : r.runs) EXPECT_EQ(run.counters.hits, run.cache_bytes == (1u << 20) ? 3u : 0u);
}

TEST(PolicyList, UnknownNamesAreErrorsAndBeladyOnlyWhereAllowed) {
  EXPECT_EQ(parse_policy_list("lru,belady", true), (std::vector<std::string>{"lru", "belady"}));
  EXPECT_EQ(parse_policy_list("lru,belady", false), std::vector<std::string>{"lru"});
  EXPECT_THROW(parse_policy_list("lru,lfu", true), SimulationError);
}

}  // namespace
}  // namespace cachefwd::replay
