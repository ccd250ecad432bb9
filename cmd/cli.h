#pragma once
// One command-line grammar for every subcommand: durations, sizes and addresses are typed (their
// kind shows in --help and is checked while parsing), every error is one line
// "cachefwd <subcommand>: ..." with exit status 2 for a usage error and 1 for a runtime one, and a
// misspelt flag gets a suggestion.
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;
inline constexpr const char* kVersion = "cachefwd 0.1.0";

// A mistake in the command line found after parsing (a combination that makes no sense).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Validators; each sets the option's type name shown in --help.
CLI::Validator duration();          // DURATION: 30s, 1m30s, 1.5s, 500ms, a bare number of seconds
CLI::Validator size();              // SIZE: 256MiB, 64KiB, 1048576
CLI::Validator address();           // ADDR:PORT, host names allowed
CLI::Validator at_least(double v);  // a number >= v, with a readable message

// Gives the options `names` of `app` the validator and type name `kind` ("DURATION", ...).
void type_options(CLI::App& app, const std::vector<std::string>& names, const CLI::Validator& v,
                  const std::string& kind);

// Type names alone, for options whose values their own parsers check: {"--upstream", "URL"}, ...
void name_values(CLI::App& app, const std::vector<std::pair<std::string, std::string>>& kinds);

// `--version` on a subcommand, as on the program.
void add_version(CLI::App& app);

// The one-line form of a CLI11 parse error, printed to stderr; returns the exit status. Help and
// version requests print as CLI11 does and return 0.
int report_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& argv);

// The closest long option of `app` to `flag` ("--tiemout" -> "--timeout"), or empty.
std::string suggest_option(const CLI::App& app, const std::string& flag);

// Writes `text` to `path`, or to standard output for "-"; throws std::runtime_error when it cannot.
void write_output(const std::string& path, const std::string& text);

// "HOST:PORT" with a host name resolved to a numeric address (for listeners, which bind numeric
// addresses); numeric text is returned as it is, an unresolvable one too (the caller's parser
// then reports it).
std::string resolve_listen_address(const std::string& text);

}  // namespace cli
