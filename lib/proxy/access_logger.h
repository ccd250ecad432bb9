#pragma once
// --access-log FILE|-: one line per response, combined or JSON (lib/metrics/access_log.h), written
// through a buffer flushed every second, so logging costs no syscall per request. Reopened on
// SIGHUP for log rotation.
#include <uv.h>

#include <cstdio>
#include <string>

#include "metrics/access_log.h"

namespace cachefwd::proxy {

class AccessLogger {
 public:
  AccessLogger(uv_loop_t* loop, std::string path, metrics::AccessLogFormat format);
  ~AccessLogger();
  // Opens the file (append); returns an error line on failure.
  std::string open();
  void reopen();
  void log(const metrics::AccessRecord& record);
  void flush();
  void close();

 private:
  uv_loop_t* loop_;
  std::string path_;
  metrics::AccessLogFormat format_;
  std::FILE* file_ = nullptr;
  uv_timer_t* timer_ = nullptr;
};

}  // namespace cachefwd::proxy
