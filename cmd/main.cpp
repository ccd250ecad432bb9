#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cachefwd: a caching HTTP forward proxy, and tools that measure caches"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cachefwd 0.1.0");
  for (int i = 1; i < argc; ++i) g_argv.emplace_back(argv[i]);
  register_serve(app);
  register_origin(app);
  register_bench(app);
  register_replay(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return g_exit_code;
}
