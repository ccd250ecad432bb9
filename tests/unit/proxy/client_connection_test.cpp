// A ClientConnection on a real loop (the Server runs in a thread of its own) with a raw loopback
// client: one connection, several requests, and nothing left open when the loop closes.
#include "proxy/client_connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "proxy/server.h"
#include "unit/proxy/loop_server.h"

namespace cachefwd::proxy {
namespace {
using test::closed_port;
using test::connect_to;
using test::LoopServer;
using test::read_response;

TEST(ClientConnection, AFailedConnectIsFollowedByAnotherRequestAndNoHandleOutlivesTheLoop) {
  std::uint16_t refused = closed_port();
  ProxyConfig cfg;
  cfg.listen = {ListenAddress{"127.0.0.1", 0}};
  cfg.connect_ports = {refused};
  cfg.allow = *parse_cidr_list("127.0.0.0/8");
  LoopServer server(cfg);
  ASSERT_NE(server.port(), 0);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  std::string connect =
      "CONNECT 127.0.0.1:" + std::to_string(refused) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, connect.data(), connect.size(), 0), static_cast<ssize_t>(connect.size()));
  std::string first = read_response(fd);
  ASSERT_EQ(first.rfind("HTTP/1.1 502", 0), 0u) << first;
  // The same connection parses and answers the next request (a PURGE the proxy answers itself).
  std::string purge = "PURGE http://127.0.0.1:9/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, purge.data(), purge.size(), 0), static_cast<ssize_t>(purge.size()));
  std::string second = read_response(fd);
  EXPECT_NE(second.find("HTTP/1.1 404"), std::string::npos) << second;
  EXPECT_NE(second.find("{\"purged\":0}"), std::string::npos) << second;
  // Stopped with the client still connected: the connection's handles close with the loop.
  EXPECT_EQ(server.stop(), 0);
  ::close(fd);
}

}  // namespace
}  // namespace cachefwd::proxy
