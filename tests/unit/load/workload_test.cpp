#include "load/workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace cachefwd::load {
namespace {

const HostPort kOrigin{"127.0.0.1", 9000};

TEST(Workload, SizeSpecForms) {
  WorkloadOptions o;
  ASSERT_TRUE(parse_size_spec("16KiB", o));
  EXPECT_EQ(o.sizes, std::vector<std::uint64_t>{16384});
  EXPECT_FALSE(o.size_range);
  ASSERT_TRUE(parse_size_spec("1KiB,16KiB,1MiB", o));
  EXPECT_EQ(o.sizes, (std::vector<std::uint64_t>{1024, 16384, 1048576}));
  ASSERT_TRUE(parse_size_spec("1KiB-64KiB", o));
  EXPECT_TRUE(o.size_range);
  EXPECT_FALSE(parse_size_spec("64KiB-1KiB", o));
  EXPECT_FALSE(parse_size_spec("big", o));
  EXPECT_FALSE(parse_size_spec("1KiB,", o));
}

TEST(Workload, KeysCarryTheirSizeAndClassInTheUrl) {
  WorkloadOptions o;
  o.keys = 10'000;
  o.no_store_fraction = 0.2;
  o.error_fraction = 0.1;
  ASSERT_TRUE(parse_size_spec("1KiB-1MiB", o));
  const auto w = Workload::from_keys(o, kOrigin);
  ASSERT_EQ(w.size(), 10'000u);
  std::map<KeyClass, int> n;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto& t = w.url(i).target;
    ++n[w.key_class(i)];
    EXPECT_EQ(t.rfind("/obj/" + std::to_string(i) + "?size=", 0), 0u) << t;
    const auto size = std::stoull(t.substr(t.find("size=") + 5));
    EXPECT_GE(size, 1024u);
    EXPECT_LE(size, 1048576u);
    switch (w.key_class(i)) {
      case KeyClass::no_store:
        EXPECT_NE(t.find("no-store=1"), std::string::npos);
        break;
      case KeyClass::error:
        EXPECT_NE(t.find("status=503"), std::string::npos);
        break;
      case KeyClass::cacheable:
        EXPECT_NE(t.find("max-age=60"), std::string::npos);
        break;
    }
  }
  EXPECT_NEAR(n[KeyClass::no_store], 2000, 200);
  EXPECT_NEAR(n[KeyClass::error], 1000, 150);
  // Same flags, same URLs; another seed, other sizes.
  const auto again = Workload::from_keys(o, kOrigin);
  o.seed = 2;
  const auto other = Workload::from_keys(o, kOrigin);
  int same = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w.url(i).target, again.url(i).target);
    same += w.url(i).target == other.url(i).target;
  }
  EXPECT_LT(same, 1000);
}

TEST(Workload, ZipfPopularityFollowsOneOverRankToTheS) {
  WorkloadOptions o;
  o.keys = 1000;
  o.zipf = 1.0;
  const auto w = Workload::from_keys(o, kOrigin);
  double h = 0;  // generalised harmonic number H(1000, 1)
  for (int k = 1; k <= 1000; ++k) h += 1.0 / k;
  Rng rng(42);
  std::vector<int> count(1000);
  const int n = 200'000;
  for (int i = 0; i < n; ++i) ++count[w.pick(rng.uniform())];
  for (int rank : {1, 2, 10, 100}) {
    const double expect = n / (rank * h);
    EXPECT_NEAR(count[rank - 1], expect, 5 * std::sqrt(expect)) << rank;
  }
  // Uniform: every key near n / keys.
  o.zipf = 0;
  const auto u = Workload::from_keys(o, kOrigin);
  std::vector<int> uc(1000);
  for (int i = 0; i < n; ++i) ++uc[u.pick(rng.uniform())];
  for (int c : uc) EXPECT_NEAR(c, 200, 5 * std::sqrt(200.0));
}

TEST(Workload, RequestFormsForProxyAndServer) {
  std::string err;
  const auto w = Workload::from_urls({"http://127.0.0.1:9000/a?b=1", "http://[::1]:8080"}, 0, &err);
  ASSERT_TRUE(w) << err;
  std::string out;
  w->append_request(0, true, false, out);
  // RFC 9112 §3.2.2: absolute-form to a proxy, Host still sent.
  EXPECT_EQ(out.rfind("GET http://127.0.0.1:9000/a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n", 0), 0u) << out;
  out.clear();
  w->append_request(1, false, true, out);
  EXPECT_EQ(out.rfind("HEAD / HTTP/1.1\r\nHost: [::1]:8080\r\n", 0), 0u) << out;
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  EXPECT_FALSE(w->single_authority());
  EXPECT_FALSE(Workload::from_urls({"https://x/"}, 0, &err));
  EXPECT_FALSE(Workload::from_urls({}, 0, &err));
}

}  // namespace
}  // namespace cachefwd::load
