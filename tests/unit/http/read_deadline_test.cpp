#include "http/read_deadline.h"

#include <gtest/gtest.h>

using namespace cachefwd::http;
using Phase = RequestParser::Phase;

namespace {
ReadTimeouts timeouts() {
  ReadTimeouts t;
  t.idle_ms = 60'000;
  t.head_ms = 10'000;
  t.body_idle_ms = 5'000;
  return t;
}
}  // namespace

TEST(ReadDeadline, AHeadDribbledOneByteASecondStillTimesOutFromItsFirstByte) {
  ReadDeadline d(timeouts());
  d.observe(Phase::idle, 0, false);
  EXPECT_EQ(d.deadline_ms(), 60'000);
  d.observe(Phase::head, 1'000, true);
  for (std::int64_t t = 2'000; t <= 10'000; t += 1'000) {
    d.observe(Phase::head, t, true);
    EXPECT_EQ(d.deadline_ms(), 11'000) << "a byte of the head does not extend the head deadline";
  }
  EXPECT_FALSE(d.expired(10'999));
  EXPECT_TRUE(d.expired(11'000));
}

TEST(ReadDeadline, BodyBytesRestartTheBodyIdleClock) {
  ReadDeadline d(timeouts());
  d.observe(Phase::head, 0, true);
  d.observe(Phase::body, 2'000, true);
  EXPECT_EQ(d.deadline_ms(), 7'000);
  d.observe(Phase::body, 6'000, true);
  EXPECT_EQ(d.deadline_ms(), 11'000) << "a slow but moving body is not cut";
  d.observe(Phase::body, 8'000, false);
  EXPECT_EQ(d.deadline_ms(), 11'000) << "no bytes, no extension";
  EXPECT_TRUE(d.expired(11'000));
}

TEST(ReadDeadline, AnsweringSuspendsAndTheNextRequestStartsFresh) {
  ReadDeadline d(timeouts());
  d.observe(Phase::head, 0, true);
  d.suspend();
  EXPECT_FALSE(d.deadline_ms().has_value());
  EXPECT_FALSE(d.expired(1'000'000));
  // A pipelined next request whose head is already partly there gets its own head deadline.
  d.observe(Phase::head, 50'000, false);
  EXPECT_EQ(d.deadline_ms(), 60'000);
  d.suspend();
  d.observe(Phase::idle, 70'000, false);
  EXPECT_EQ(d.deadline_ms(), 130'000);
}
