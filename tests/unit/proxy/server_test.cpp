// The proxy's Server on a real libuv loop (no sockets beyond a loopback listener): its I/O
// resources are its own and all of them are closed when it stops.
#include "proxy/server.h"

#include <gtest/gtest.h>

#include "proxy/io_buffers.h"

namespace cachefwd::proxy {
namespace {

ProxyConfig loopback_config() {
  ProxyConfig cfg;
  cfg.listen = {ListenAddress{"127.0.0.1", 0}};
  return cfg;
}

TEST(Server, ABodyOfFourGibibytesOrMoreIsNotCutInAUvBuffer) {
  // No memory behind it: only the length is under test (uv_buf_init takes an unsigned int).
  const char* base = reinterpret_cast<const char*>(0x1000);
  const std::size_t five_gib = std::size_t{5} << 30;
  uv_buf_t b = make_buf(base, five_gib);
  EXPECT_EQ(b.len, five_gib);
  EXPECT_EQ(b.base, base);
}

TEST(Server, EachLoopHasItsOwnReadBuffer) {
  // One loop per worker thread: a buffer shared by the process would be written by two threads.
  uv_loop_t a{}, b{};
  ASSERT_EQ(uv_loop_init(&a), 0);
  ASSERT_EQ(uv_loop_init(&b), 0);
  {
    Server sa(&a, loopback_config());
    Server sb(&b, loopback_config());
    EXPECT_NE(sa.read_buffer().data(), sb.read_buffer().data());
    EXPECT_EQ(sa.read_buffer().get().len, ReadBuffer::kSize);
    sa.stop();
    sb.stop();
    uv_run(&a, UV_RUN_DEFAULT);
    uv_run(&b, UV_RUN_DEFAULT);
  }
  uv_run(&a, UV_RUN_DEFAULT);
  uv_run(&b, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&a), 0);
  EXPECT_EQ(uv_loop_close(&b), 0);
}

TEST(Server, NoHandleIsLeftOpenWhenTheLoopCloses) {
  uv_loop_t loop{};
  ASSERT_EQ(uv_loop_init(&loop), 0);
  {
    Server s(&loop, loopback_config());
    ASSERT_FALSE(s.start().has_value());
    ASSERT_EQ(s.bound_ports().size(), 1u);
    EXPECT_NE(s.bound_ports()[0], 0);
    s.stop();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  // UV_EBUSY here would mean a handle (listener, timer, reaper, curl's) outlived the server.
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace cachefwd::proxy
