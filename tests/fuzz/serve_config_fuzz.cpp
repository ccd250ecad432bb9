// The whole config path of `cachefwd serve --config FILE`, reached through the real subcommand
// (register_serve, as main() wires it) with --dump-config, which reads the file, builds and
// validates the whole ProxyConfig and prints the effective settings without serving. Whatever it
// accepts, the printed configuration must read back to itself (that is what --dump-config
// promises), and whatever it refuses must be refused with a message, not a crash.
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../../cmd/commands.h"

namespace {

std::string g_path;
int g_report_fd = -1;

// Runs `cachefwd serve --config <path> --dump-config` in-process; returns its exit code and
// what it printed on stdout. stderr (refusal messages) goes to /dev/null; sanitizer reports still
// reach the original stderr.
int dump_config(const std::string& contents, std::string& printed) {
  std::FILE* f = std::fopen(g_path.c_str(), "wb");
  if (!f) __builtin_trap();
  std::fwrite(contents.data(), 1, contents.size(), f);
  std::fclose(f);

  std::FILE* out = std::tmpfile();
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = dup(1), saved_err = dup(2);
  dup2(fileno(out), 1);
  std::FILE* null = std::fopen("/dev/null", "w");
  dup2(fileno(null), 2);

  g_argv = {"serve", "--config", g_path, "--dump-config"};
  g_exit_code = 0;
  CLI::App app;
  app.require_subcommand(1);
  register_serve(app);
  std::vector<std::string> args(g_argv.rbegin(), g_argv.rend());
  int rc = 0;
  try {
    app.parse(args);
    rc = g_exit_code;
  } catch (const CLI::ParseError&) {
    rc = 2;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  std::fclose(null);

  printed.clear();
  std::rewind(out);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) printed.append(buf, n);
  std::fclose(out);
  return rc;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_path = "/tmp/cachefwd-fuzz-config-" + std::to_string(getpid()) + ".toml";
  g_report_fd = dup(2);
  __sanitizer_set_report_fd(reinterpret_cast<void*>(static_cast<std::intptr_t>(g_report_fd)));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string first;
  int rc = dump_config(std::string(reinterpret_cast<const char*>(data), size), first);
  if (rc != 0) {
    if (rc != 2) __builtin_trap();  // a refused configuration is exit status 2
    return 0;
  }
  if (first.empty()) __builtin_trap();  // accepted, yet printed nothing
  std::string second;
  if (dump_config(first, second) != 0) __builtin_trap();  // our own output refused
  if (second != first) __builtin_trap();                  // and not read back as it was
  return 0;
}
