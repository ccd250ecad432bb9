#pragma once
// A real TLS origin for end-to-end tests: Debian's nginx on a free loopback port, with a CA,
// server and client certificates made by `openssl` in a temporary directory. Missing nginx or
// openssl is a failure, not a skip (scripts/install-deps.sh installs them).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cachefwd::testing {

struct TlsOriginOptions {
  bool require_client_cert = false;  // ssl_verify_client on, against the test CA
  bool http2 = true;                 // offer h2 by ALPN
};

class TlsOrigin {
 public:
  explicit TlsOrigin(TlsOriginOptions options = {});
  ~TlsOrigin();
  TlsOrigin(const TlsOrigin&) = delete;
  TlsOrigin& operator=(const TlsOrigin&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }              // https
  std::uint16_t plain_port() const { return plain_port_; }  // http, HTTP/1.1 only
  std::uint16_t h2c_port() const { return h2c_port_; }      // http, HTTP/2 prior knowledge only
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  // The certificate names localhost, origin.test and 127.0.0.1.
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string other_ca_file() const { return dir_ + "/other-ca.pem"; }  // trusts nothing here
  std::string client_cert() const { return dir_ + "/client.pem"; }
  std::string client_key() const { return dir_ + "/client.key"; }
  const std::string& dir() const { return dir_; }

  // Access-log lines so far: "PROTOCOL CONNECTION URI SSL_PROTOCOL CLIENT_CERT_VERIFY".
  std::vector<std::string> log_lines() const;

  // Paths served: /any -> 200 "body of /any" max-age=60; /nostore/any -> no-store, names the
  // connection; /big/big.bin -> 8 MiB of 'x', no-store.
  static constexpr std::size_t kBigSize = 8u << 20;

 private:
  bool run(const std::string& command);
  bool ok_ = false;
  std::string error_;
  std::string dir_;
  std::uint16_t port_ = 0, plain_port_ = 0, h2c_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cachefwd::testing
