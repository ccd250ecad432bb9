// What goes upstream for a client request (proxy/upstream_request.h): our Via, the target's Host,
// and, when the flow asks for a revalidation, the stored response's validators (RFC 9111 §4.3.1).
#include "proxy/upstream_request.h"

#include <gtest/gtest.h>

namespace cachefwd::proxy {
namespace {

http::Request client_get(http::Headers h) {
  http::Request r;
  r.method = "GET";
  r.target = "http://origin.test/lm";
  r.version_major = 1;
  r.version_minor = 1;
  r.headers = std::move(h);
  return r;
}

TEST(UpstreamRequest, LastModifiedBecomesIfModifiedSinceAndETagIfNoneMatch) {
  http::TargetUri target;
  ASSERT_TRUE(http::parse_absolute_target("http://origin.test/lm", target));
  cache::StoredResponse stale;
  stale.headers = {{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"ETag", "\"e1\""}};
  auto fr = build_upstream_request("GET", target, client_get({{"If-None-Match", "\"client\""}}), &stale,
                                   "cachefwd-abc123", true);
  EXPECT_EQ(fr.headers.combined("if-modified-since"), "Sun, 06 Nov 1994 08:49:37 GMT");
  // Our validators replace the client's: the shared fetch must be answerable for everyone.
  EXPECT_EQ(fr.headers.combined("if-none-match"), "\"e1\"");
  EXPECT_EQ(fr.headers.combined("host"), "origin.test");
  EXPECT_EQ(fr.headers.combined("via"), "1.1 cachefwd-abc123");
}

TEST(UpstreamRequest, APassThroughRequestKeepsTheClientsConditionals) {
  http::TargetUri target;
  ASSERT_TRUE(http::parse_absolute_target("http://origin.test/lm", target));
  auto fr = build_upstream_request("GET", target,
                                   client_get({{"If-None-Match", "\"client\""}, {"Range", "bytes=0-1"}}),
                                   nullptr, "cachefwd", false);
  EXPECT_EQ(fr.headers.combined("if-none-match"), "\"client\"");
  EXPECT_EQ(fr.headers.combined("range"), "bytes=0-1");
}

TEST(UpstreamRequest, LoopDetectionMatchesOurOwnViaTokenOnly) {
  EXPECT_TRUE(via_names("1.1 cachefwd-abc123", "cachefwd-abc123"));
  EXPECT_TRUE(via_names("1.0 fred, 1.1 cachefwd-abc123 (cachefwd)", "cachefwd-abc123"));
  // Another cachefwd tier in the chain is not us.
  EXPECT_FALSE(via_names("1.1 cachefwd-abc123", "cachefwd"));
  EXPECT_FALSE(via_names("1.1 cachefwd-abc1234", "cachefwd-abc123"));
  EXPECT_FALSE(via_names("1.1 proxy.example (cachefwd-abc123)", "cachefwd-abc123"));
  EXPECT_FALSE(via_names("", "cachefwd"));
}

}  // namespace
}  // namespace cachefwd::proxy
