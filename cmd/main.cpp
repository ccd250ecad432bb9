#include <cstdio>

#include "cli.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cachefwd: a caching HTTP forward proxy, and tools that measure caches"};
  app.require_subcommand(1);
  app.set_version_flag("--version", cli::kVersion);
  for (int i = 1; i < argc; ++i) g_argv.emplace_back(argv[i]);
  register_serve(app);
  register_origin(app);
  register_bench(app);
  register_replay(app);
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) cli::add_version(*sub);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli::report_parse_error(app, e, g_argv);
  }
  return g_exit_code;
}
