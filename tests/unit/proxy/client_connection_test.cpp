// A ClientConnection on a real loop (the Server runs in a thread of its own) with a raw loopback
// client: one connection, several requests, and nothing left open when the loop closes.
#include "proxy/client_connection.h"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "proxy/server.h"
#include "support/http_client.h"
#include "support/loopback.h"

namespace cachefwd::proxy {
namespace {

// A Server on its own loop thread; stop() ends it and returns uv_loop_close()'s result.
class LoopServer {
 public:
  explicit LoopServer(ProxyConfig cfg) {
    std::promise<std::uint16_t> ready;
    auto port = ready.get_future();
    thread_ = std::thread([this, cfg, &ready] {
      uv_loop_init(&loop_);
      server_ = std::make_unique<Server>(&loop_, cfg);
      auto err = server_->start();
      uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
        static_cast<LoopServer*>(a->data)->server_->stop();
        uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
      });
      stop_.data = this;
      ready.set_value(err ? 0 : server_->bound_ports().at(0));
      uv_run(&loop_, UV_RUN_DEFAULT);
      server_.reset();
      uv_run(&loop_, UV_RUN_DEFAULT);
      close_rc_ = uv_loop_close(&loop_);
    });
    port_ = port.get();
  }
  ~LoopServer() {
    if (thread_.joinable()) stop();
  }
  std::uint16_t port() const { return port_; }
  int stop() {
    uv_async_send(&stop_);
    thread_.join();
    return close_rc_;
  }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  int close_rc_ = -1;
};

TEST(ClientConnection, AFailedConnectIsFollowedByAnotherRequestAndNoHandleOutlivesTheLoop) {
  std::uint16_t refused = testing::unused_loopback_port();
  ProxyConfig cfg;
  cfg.listen = {ListenAddress{"127.0.0.1", 0}};
  cfg.connect_ports = {refused};
  cfg.allow = *parse_cidr_list("127.0.0.0/8");
  LoopServer server(cfg);
  ASSERT_NE(server.port(), 0);
  testing::RawConnection client(server.port());
  ASSERT_GE(client.fd(), 0);
  ASSERT_TRUE(
      client.send("CONNECT 127.0.0.1:" + std::to_string(refused) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string first = client.read_response(5000);
  ASSERT_EQ(first.rfind("HTTP/1.1 502", 0), 0u) << first;
  // The same connection parses and answers the next request (a PURGE the proxy answers itself).
  ASSERT_TRUE(client.send("PURGE http://127.0.0.1:9/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string second = client.read_response(5000);
  EXPECT_NE(second.find("HTTP/1.1 404"), std::string::npos) << second;
  EXPECT_NE(second.find("{\"purged\":0}"), std::string::npos) << second;
  // Stopped with the client still connected: the connection's handles close with the loop.
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace cachefwd::proxy
