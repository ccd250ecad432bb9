#pragma once
// Buffers handed to libuv.
#include <uv.h>

#include <cstddef>
#include <memory>

namespace cachefwd::proxy {

// A uv_buf_t over `len` bytes. uv_buf_init takes an `unsigned int` length, which would cut a
// body of 4 GiB or more; on Unix the field itself is a size_t, so it is set directly.
inline uv_buf_t make_buf(const char* base, std::size_t len) {
  uv_buf_t b;
  b.base = const_cast<char*>(base);
  b.len = len;
  return b;
}

// The buffer every read on one loop lands in. One per loop (per Server), not per process: with
// one loop per worker thread, a process-wide buffer would be written by several threads at once.
// Each read is consumed (appended or forwarded) before the loop reads again, so one is enough.
class ReadBuffer {
 public:
  static constexpr std::size_t kSize = 64 * 1024;
  ReadBuffer() : data_(new char[kSize]) {}
  uv_buf_t get() { return make_buf(data_.get(), kSize); }
  const char* data() const { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;
};

}  // namespace cachefwd::proxy
