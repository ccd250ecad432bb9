#include "proxy/access_logger.h"

#include <cerrno>
#include <cstring>

namespace cachefwd::proxy {

AccessLogger::AccessLogger(uv_loop_t* loop, std::string path, metrics::AccessLogFormat format)
    : loop_(loop), path_(std::move(path)), format_(format) {}

AccessLogger::~AccessLogger() { close(); }

std::string AccessLogger::open() {
  if (path_ == "-") {
    file_ = stdout;
  } else {
    file_ = std::fopen(path_.c_str(), "a");
    if (!file_) return "cannot open access log " + path_ + ": " + std::strerror(errno);
  }
  std::setvbuf(file_, nullptr, _IOFBF, 64 * 1024);
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  uv_timer_start(timer_, [](uv_timer_t* t) { static_cast<AccessLogger*>(t->data)->flush(); }, 1000, 1000);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  return {};
}

void AccessLogger::reopen() {
  if (!file_ || file_ == stdout) return;
  std::fclose(file_);
  file_ = std::fopen(path_.c_str(), "a");
  if (!file_) {
    std::fprintf(stderr, "cachefwd: cannot reopen access log %s: %s\n", path_.c_str(), std::strerror(errno));
    return;
  }
  std::setvbuf(file_, nullptr, _IOFBF, 64 * 1024);
}

void AccessLogger::log(const metrics::AccessRecord& record) {
  if (!file_) return;
  std::string line = metrics::format_access_log_line(record, format_);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), file_);
}

void AccessLogger::flush() {
  if (file_) std::fflush(file_);
}

void AccessLogger::close() {
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (file_) {
    std::fflush(file_);
    if (file_ != stdout) std::fclose(file_);
    file_ = nullptr;
  }
}

}  // namespace cachefwd::proxy
