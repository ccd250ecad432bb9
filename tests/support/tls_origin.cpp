#include "support/tls_origin.h"

#include "support/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace cachefwd::testing {

namespace {

bool accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

bool TlsOrigin::run(const std::string& command) {
  std::string full = "cd '" + dir_ + "' && " + command + " >>openssl.log 2>&1";
  if (std::system(full.c_str()) == 0) return true;
  error_ = "failed: " + command + " (see " + dir_ + "/openssl.log)";
  return false;
}

TlsOrigin::TlsOrigin(TlsOriginOptions options) {
  const char* nginx = "/usr/sbin/nginx";
  if (::access(nginx, X_OK) != 0) {
    error_ = "nginx is not installed (/usr/sbin/nginx): run scripts/install-deps.sh";
    return;
  }
  char tmpl[] = "/tmp/cachefwd-tls-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  if (!write_file(dir_ + "/server.ext", "subjectAltName=DNS:localhost,DNS:origin.test,IP:127.0.0.1\n") ||
      !write_file(dir_ + "/client.ext", "extendedKeyUsage=clientAuth\n") ||
      !run("openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=cachefwd-test-ca") ||
      !run("openssl req -x509 " + ec +
           " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca") ||
      !run("openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=localhost") ||
      !run(
          "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
          "-extfile server.ext") ||
      !run("openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=cachefwd-client") ||
      !run(
          "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
          "-extfile client.ext"))
    return;
  ::mkdir((dir_ + "/www").c_str(), 0755);
  ::mkdir((dir_ + "/www/big").c_str(), 0755);
  ::mkdir((dir_ + "/tmp").c_str(), 0755);
  write_file(dir_ + "/www/big/big.bin", std::string(kBigSize, 'x'));

  // Ports the kernel just handed out and released; nginx binds them right after.
  port_ = unused_loopback_port();
  plain_port_ = unused_loopback_port();
  h2c_port_ = unused_loopback_port();
  const std::string h2 = options.http2 ? " http2" : "";
  std::ostringstream conf;
  conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << dir_ << "/nginx.pid;\n"
       << "error_log " << dir_ << "/error.log info;\n"
       << "events { worker_connections 1024; }\n"
       << "http {\n"
       << "  log_format t '$server_protocol $connection $request_uri $ssl_protocol $ssl_client_verify';\n"
       << "  access_log " << dir_ << "/access.log t;\n"
       << "  default_type text/plain;\n"
       << "  client_body_temp_path " << dir_ << "/tmp/body;\n  proxy_temp_path " << dir_ << "/tmp/proxy;\n"
       << "  fastcgi_temp_path " << dir_ << "/tmp/fastcgi;\n  uwsgi_temp_path " << dir_ << "/tmp/uwsgi;\n"
       << "  scgi_temp_path " << dir_ << "/tmp/scgi;\n"
       << "  http2_max_concurrent_streams 128;\n  keepalive_requests 100000;\n"
       << "  server {\n"
       << "    listen 127.0.0.1:" << port_ << " ssl" << h2 << ";\n"
       << "    listen 127.0.0.1:" << plain_port_ << ";\n"
       << "    listen 127.0.0.1:" << h2c_port_ << " http2;\n"  // nginx: h2c here means prior knowledge only
       << "    ssl_certificate " << dir_ << "/server.pem;\n    ssl_certificate_key " << dir_
       << "/server.key;\n";
  if (options.require_client_cert)
    conf << "    ssl_client_certificate " << dir_ << "/ca.pem;\n    ssl_verify_client on;\n";
  conf << "    root " << dir_ << "/www;\n"
       << "    location / { add_header Cache-Control \"max-age=60\" always; return 200 \"body of "
          "$request_uri\\n\"; }\n"
       << "    location /nostore/ { add_header Cache-Control \"no-store\" always; "
          "return 200 \"fresh $request_uri on $connection\\n\"; }\n"
       << "    location /big/ { add_header Cache-Control \"no-store\" always; }\n"
       << "  }\n}\n";
  if (!write_file(dir_ + "/nginx.conf", conf.str())) {
    error_ = "cannot write nginx.conf";
    return;
  }
  std::string prefix = dir_ + "/", conf_path = dir_ + "/nginx.conf", err_path = dir_ + "/error.log";
  std::vector<char*> argv{
      const_cast<char*>(nginx), const_cast<char*>("-p"), prefix.data(),   const_cast<char*>("-c"),
      conf_path.data(),         const_cast<char*>("-e"), err_path.data(), nullptr};
  pid_ = ::fork();
  if (pid_ == 0) {
    // nginx must not outlive a test binary that dies without running destructors.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execv(nginx, argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (accepts(port_) && accepts(plain_port_) && accepts(h2c_port_)) {
      ok_ = true;
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(err_path);
      std::stringstream ss;
      ss << in.rdbuf();
      error_ = "nginx exited: " + ss.str();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "nginx did not start listening within 4 s";
}

TlsOrigin::~TlsOrigin() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (!dir_.empty() && dir_.starts_with("/tmp/cachefwd-tls-")) std::system(("rm -rf '" + dir_ + "'").c_str());
}

std::vector<std::string> TlsOrigin::log_lines() const {
  std::vector<std::string> out;
  std::ifstream in(dir_ + "/access.log");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace cachefwd::testing
