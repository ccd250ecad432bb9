// HTTPS and HTTP/2 upstreams (issue 13) against a real TLS origin: Debian's nginx on loopback with
// certificates the test makes with openssl (support/tls_origin.h).
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/http_client.h"
#include "support/proxy_process.h"
#include "support/tls_origin.h"

using namespace cachefwd::testing;

namespace {

// Fails the test (never skips) when nginx or openssl are missing.
#define REQUIRE_ORIGIN(o) ASSERT_TRUE((o).ok()) << (o).error()

ClientResponse get(const ProxyProcess& proxy, const std::string& path) {
  ClientRequest req;
  req.url = proxy.proxy_url() + path;  // origin-form to a gateway
  return curl_fetch(req);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A number in the /stats JSON's "upstream_connections" object, -1 when absent.
long long upstream_stat(std::uint16_t admin_port, const std::string& name) {
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(admin_port) + "/stats";
  auto r = curl_fetch(req);
  auto block = r.body.find("\"upstream_connections\":{");
  if (block == std::string::npos) return -1;
  auto at = r.body.find("\"" + name + "\":", block);
  if (at == std::string::npos) return -1;
  return std::stoll(r.body.substr(at + name.size() + 3));
}

std::string metrics_text(std::uint16_t admin_port) {
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(admin_port) + "/metrics";
  return curl_fetch(req).body;
}

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// GETs every path through the gateway at once (one client connection each); returns the statuses.
std::vector<long> get_concurrently(const ProxyProcess& proxy, const std::vector<std::string>& paths) {
  CURLM* multi = curl_multi_init();
  std::vector<CURL*> easies;
  std::vector<std::string> bodies(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    CURL* e = curl_easy_init();
    std::string url = proxy.proxy_url() + paths[i];
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(
        e, CURLOPT_WRITEFUNCTION, +[](char* b, size_t s, size_t n, void* u) {
          static_cast<std::string*>(u)->append(b, s * n);
          return s * n;
        });
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &bodies[i]);
    curl_multi_add_handle(multi, e);
    easies.push_back(e);
  }
  int running = 1;
  while (running) {
    curl_multi_perform(multi, &running);
    if (running) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  std::vector<long> statuses;
  for (CURL* e : easies) {
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    statuses.push_back(status);
    curl_multi_remove_handle(multi, e);
    curl_easy_cleanup(e);
  }
  curl_multi_cleanup(multi);
  return statuses;
}

}  // namespace

TEST(UpstreamTls, HttpsUpstreamMissThenHit) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream", origin.url() + "/", "--upstream-ca", origin.ca_file()});
  auto first = get(proxy, "/a");
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, "body of /a\n");
  EXPECT_NE(first.header("Cache-Status").find("fwd=uri-miss"), std::string::npos)
      << first.header("Cache-Status");
  auto second = get(proxy, "/a");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "body of /a\n");
  EXPECT_NE(second.header("Cache-Status").find("hit"), std::string::npos) << second.header("Cache-Status");
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 1u) << "the hit is served from the cache";
  auto f = fields(lines[0]);
  ASSERT_GE(f.size(), 4u) << lines[0];
  EXPECT_EQ(f[2], "/a");
  EXPECT_EQ(f[3].rfind("TLSv1.", 0), 0u) << "fetched over TLS: " << lines[0];
}

TEST(UpstreamTls, CertificateFromAnotherCaIs502NamingTheCheck) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  std::string log_path = origin.dir() + "/proxy-access.log";
  ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.other_ca_file(), "--access-log",
                      log_path, "--admin", "127.0.0.1:0"});
  auto r = get(proxy, "/a");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.header("Cache-Status").find("detail=tls-untrusted-cert"), std::string::npos)
      << r.header("Cache-Status");
  EXPECT_NE(r.body.find("tls-untrusted-cert"), std::string::npos) << r.body;
  EXPECT_TRUE(origin.log_lines().empty()) << "no request reached the origin";
  EXPECT_NE(metrics_text(proxy.admin_port()).find("\ncachefwd_upstream_tls_errors_total 1\n"),
            std::string::npos);
  EXPECT_EQ(proxy.terminate(), 0);
  std::string log = read_file(log_path);
  EXPECT_NE(log.find("\"GET /a HTTP/1.1\" 502"), std::string::npos) << log;
  EXPECT_NE(log.find("tls-untrusted-cert"), std::string::npos) << "the access log says which check: " << log;
}

TEST(UpstreamTls, SniNameIsWhatTheCertificateIsCheckedAgainst) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  {
    ProxyProcess proxy(
        {"--upstream", origin.url(), "--upstream-ca", origin.ca_file(), "--upstream-sni", "origin.test"});
    auto r = get(proxy, "/sni");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  {
    ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file(), "--upstream-sni",
                        "not-in-the-cert.test"});
    auto r = get(proxy, "/sni2");
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_NE(r.header("Cache-Status").find("detail=tls-hostname-mismatch"), std::string::npos)
        << r.header("Cache-Status") << " " << r.body;
  }
}

TEST(UpstreamTls, InsecureSkipsVerificationAndSaysSoLoudly) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy(
      {"--upstream", origin.url(), "--upstream-ca", origin.other_ca_file(), "--upstream-insecure"});
  EXPECT_NE(proxy.log().find("WARNING: --upstream-insecure"), std::string::npos) << proxy.log();
  auto r = get(proxy, "/insecure");
  EXPECT_EQ(r.status, 200) << r.body;
  // The same from a config file (a flag there is `name = true`).
  std::string conf = origin.dir() + "/proxy.toml";
  std::ofstream(conf) << "upstream = \"" << origin.url() << "\"\nupstream-ca = \"" << origin.other_ca_file()
                      << "\"\nupstream-insecure = true\n";
  ProxyProcess from_file({"--config", conf});
  EXPECT_NE(from_file.log().find("WARNING: --upstream-insecure"), std::string::npos) << from_file.log();
  EXPECT_EQ(get(from_file, "/insecure2").status, 200);
}

TEST(UpstreamTls, MutualTlsWithAndWithoutAClientCertificate) {
  TlsOrigin origin({.require_client_cert = true});
  REQUIRE_ORIGIN(origin);
  {
    ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file()});
    auto r = get(proxy, "/mtls");
    // The handshake completes and nginx answers 400 itself; the proxy relays the origin's answer.
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("No required SSL certificate was sent"), std::string::npos) << r.body;
  }
  {
    ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file(), "--upstream-cert",
                        origin.client_cert(), "--upstream-key", origin.client_key()});
    auto r = get(proxy, "/mtls");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "body of /mtls\n");
  }
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(fields(lines[0]).back(), "NONE") << lines[0];
  EXPECT_EQ(fields(lines[1]).back(), "SUCCESS") << lines[1];
}

TEST(UpstreamTls, ForwardProxyFetchesAbsoluteFormHttpsTargetsOverTls) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream-ca", origin.ca_file()});
  std::string authority = "127.0.0.1:" + std::to_string(origin.port());
  std::string out = raw_exchange(
      proxy.port(),
      "GET https://" + authority + "/fwd HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n",
      5000);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("body of /fwd"), std::string::npos) << out;
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(fields(lines[0])[3].rfind("TLSv1.", 0), 0u) << lines[0];
}

TEST(UpstreamHttp2, HundredConcurrentMissesAreStreamsOnOneConnection) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file(), "--upstream-http2",
                      "auto", "--admin", "127.0.0.1:0"});
  std::vector<std::string> paths;
  for (int i = 0; i < 100; ++i) paths.push_back("/nostore/k" + std::to_string(i));
  auto statuses = get_concurrently(proxy, paths);
  for (std::size_t i = 0; i < statuses.size(); ++i) EXPECT_EQ(statuses[i], 200) << paths[i];
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 100u);
  std::set<std::string> connections, protocols, uris;
  for (auto& l : lines) {
    auto f = fields(l);
    ASSERT_GE(f.size(), 3u) << l;
    protocols.insert(f[0]);
    connections.insert(f[1]);
    uris.insert(f[2]);
  }
  EXPECT_EQ(protocols, std::set<std::string>{"HTTP/2.0"});
  EXPECT_EQ(connections.size(), 1u) << "all misses were streams on one connection";
  EXPECT_EQ(uris.size(), 100u);
  auto admin = proxy.admin_port();
  ASSERT_NE(admin, 0);
  EXPECT_EQ(upstream_stat(admin, "transfers"), 100);
  EXPECT_EQ(upstream_stat(admin, "opened"), 1);
  EXPECT_EQ(upstream_stat(admin, "reused"), 99);
  EXPECT_EQ(upstream_stat(admin, "tls_handshakes"), 1);
  EXPECT_EQ(upstream_stat(admin, "h2_streams"), 100);
  auto text = metrics_text(admin);
  EXPECT_NE(text.find("\ncachefwd_upstream_h2_streams_total 100\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ncachefwd_upstream_connections_opened_total 1\n"), std::string::npos) << text;
}

TEST(UpstreamHttp2, OffSpeaksHttp11OverTls) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file(), "--upstream-http2",
                      "off", "--admin", "127.0.0.1:0"});
  EXPECT_EQ(get(proxy, "/nostore/one").status, 200);
  EXPECT_EQ(get(proxy, "/nostore/two").status, 200);
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(fields(lines[0])[0], "HTTP/1.1") << lines[0];
  EXPECT_EQ(fields(lines[0])[1], fields(lines[1])[1]) << "kept alive";
  auto admin = proxy.admin_port();
  EXPECT_EQ(upstream_stat(admin, "opened"), 1);
  EXPECT_EQ(upstream_stat(admin, "reused"), 1);
  EXPECT_EQ(upstream_stat(admin, "tls_handshakes"), 1);
  EXPECT_EQ(upstream_stat(admin, "h2_streams"), 0);
}

TEST(UpstreamHttp2, PriorKnowledgeOnPlainHttpOnlyWhenOn) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  std::string plain = "http://127.0.0.1:" + std::to_string(origin.plain_port());
  std::string h2c = "http://127.0.0.1:" + std::to_string(origin.h2c_port());
  {
    ProxyProcess proxy({"--upstream", plain});  // auto: no ALPN without TLS, so HTTP/1.1
    EXPECT_EQ(get(proxy, "/nostore/auto").status, 200);
  }
  {
    // auto never assumes h2 on http://: an origin that speaks only h2c is not understood.
    ProxyProcess proxy({"--upstream", h2c});
    EXPECT_EQ(get(proxy, "/nostore/auto-h2c").status, 502);
  }
  {
    ProxyProcess proxy({"--upstream", h2c, "--upstream-http2", "on"});
    EXPECT_EQ(get(proxy, "/nostore/on").status, 200);
  }
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(fields(lines[0])[0], "HTTP/1.1") << lines[0];
  EXPECT_EQ(fields(lines[1])[0], "HTTP/2.0") << lines[1];
  EXPECT_EQ(fields(lines[1])[2], "/nostore/on") << lines[1];
}

TEST(UpstreamHttp2, ASlowClientPausesOnlyItsOwnStream) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file()});
  // Warm the connection so that both requests below are streams on it.
  ASSERT_EQ(get(proxy, "/nostore/warm").status, 200);
  RawConnection slow(proxy.port());
  ASSERT_TRUE(slow.send("GET /big/big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Let the 8 MiB body fill the socket buffers so the proxy must pause that stream.
  std::string start = slow.read(500, "\r\n\r\n");
  ASSERT_EQ(start.rfind("HTTP/1.1 200", 0), 0u) << start.substr(0, 200);
  auto quick = get(proxy, "/nostore/quick");
  EXPECT_EQ(quick.status, 200) << "another stream on the same connection still flows";
  // Now the slow client reads everything: the paused stream resumes to the last byte.
  std::size_t head_end = start.find("\r\n\r\n") + 4;
  std::size_t body = start.size() - head_end;
  for (int i = 0; i < 400 && body < TlsOrigin::kBigSize; ++i) body += slow.read(50).size();
  EXPECT_EQ(body, TlsOrigin::kBigSize);
  std::set<std::string> connections;
  bool all_h2 = true;
  for (auto& l : origin.log_lines()) {
    connections.insert(fields(l)[1]);
    all_h2 = all_h2 && fields(l)[0] == "HTTP/2.0";
  }
  EXPECT_TRUE(all_h2);
  EXPECT_EQ(connections.size(), 1u);
}

TEST(UpstreamHttp2, ConcurrentRequestsForOneKeyCoalesceIntoOneStream) {
  TlsOrigin origin;
  REQUIRE_ORIGIN(origin);
  ProxyProcess proxy({"--upstream", origin.url(), "--upstream-ca", origin.ca_file()});
  std::vector<std::string> paths(20, "/same");
  for (long status : get_concurrently(proxy, paths)) EXPECT_EQ(status, 200);
  auto lines = origin.log_lines();
  ASSERT_EQ(lines.size(), 1u) << "the waiters shared one fetch";
  EXPECT_EQ(fields(lines[0])[0], "HTTP/2.0") << lines[0];
}
