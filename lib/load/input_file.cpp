#include "load/input_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <streambuf>

namespace cachefwd::load {

namespace {

class PipeBuf final : public std::streambuf {
 public:
  explicit PipeBuf(FILE* f) : f_(f) {}
  ~PipeBuf() override { close(); }
  int close() {
    if (!f_) return status_;
    status_ = pclose(f_);
    f_ = nullptr;
    return status_;
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!f_) return traits_type::eof();
    const size_t n = std::fread(buf_, 1, sizeof(buf_), f_);
    if (n == 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  FILE* f_;
  int status_ = 0;
  char buf_[1 << 16];
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

class FileInput final : public replay::Input {
 public:
  explicit FileInput(const std::string& path) : file_(path, std::ios::binary) {}
  bool ok() const { return static_cast<bool>(file_); }
  std::istream& stream() override { return file_; }

 private:
  std::ifstream file_;
};

class XzInput final : public replay::Input {
 public:
  explicit XzInput(FILE* f) : buf_(f), stream_(&buf_) {}
  std::istream& stream() override { return stream_; }
  std::string finish() override { return buf_.close() != 0 ? "xz failed to decompress the input" : ""; }

 private:
  PipeBuf buf_;
  std::istream stream_;
};

}  // namespace

std::unique_ptr<replay::Input> open_input_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot open " + path);
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(path + " is a directory, not a file");
  if (replay::path_is_xz(path)) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw std::runtime_error("cannot open " + path);
    FILE* f = popen(("xz -dc -- " + shell_quote(path)).c_str(), "r");
    if (!f) throw std::runtime_error("cannot start xz for " + path);
    return std::make_unique<XzInput>(f);
  }
  auto in = std::make_unique<FileInput>(path);
  if (!in->ok()) throw std::runtime_error("cannot open " + path);
  return in;
}

replay::OpenInput input_file_opener(const std::string& path) {
  return [path] { return open_input_file(path); };
}

std::string read_head(const std::string& path, size_t n) {
  auto in = open_input_file(path);
  std::string head(n, '\0');
  in->stream().read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in->stream().gcount()));
  return head;
}

}  // namespace cachefwd::load
