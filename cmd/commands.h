#pragma once
// Each subcommand lives in its own file and registers its flags and callback on the app.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

// Set by the subcommand that ran; main returns it.
inline int g_exit_code = 0;
// The command line after the program name (serve re-reads it on SIGHUP).
inline std::vector<std::string> g_argv;

void register_serve(CLI::App& app);
void register_origin(CLI::App& app);
void register_bench(CLI::App& app);
void register_replay(CLI::App& app);
