// RFC 9111 to the letter (issue 11), end to end: the real binary between libcurl and a real origin
// on loopback. Each test counts what reached the origin, because that is where a strict cache and
// a sloppy one differ. Nothing here sleeps past a lifetime: responses are stale on arrival
// (Age, max-age=0) or never fresh (no-cache); the timing itself is tested in tests/unit/cache_flow.
#include <gtest/gtest.h>

#include <atomic>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/test_origin.h"

using namespace cachefwd::testing;

TEST(Rfc9111, ListBasedAgeCountsByItsFirstMember) {
  // §5.1: Age "7200, 0" (one line) or 7200 then 0 (two lines) is 7200 s, past max-age=3600: the
  // stored response is stale and the next request goes to the origin again.
  for (bool two_lines : {false, true}) {
    TestOrigin origin([&](const OriginRequest&) {
      FieldList f{{"Cache-Control", "max-age=3600"}};
      if (two_lines) {
        f.push_back({"Age", "7200"});
        f.push_back({"Age", "0"});
      } else {
        f.push_back({"Age", "7200, 0"});
      }
      return respond("aged", f);
    });
    ProxyProcess proxy({});
    EXPECT_EQ(proxy_get(proxy.proxy_url(), origin.url("/age")).body, "aged");
    auto second = proxy_get(proxy.proxy_url(), origin.url("/age"));
    EXPECT_EQ(second.body, "aged");
    EXPECT_EQ(second.header("Cache-Status").find("hit"), std::string::npos) << second.header("Cache-Status");
    EXPECT_EQ(origin.requests(), 2) << "two_lines=" << two_lines;
  }
}
