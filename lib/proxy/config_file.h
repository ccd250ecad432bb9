#pragma once
// `serve --config FILE`: a TOML document (toml++) whose keys are serve's flag names without the
// dashes, at the top level or in a [serve] table. This reads it into settings; cmd/serve.cpp
// applies them under the command line. Errors name the file and the line.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::proxy {

struct ConfigSetting {
  std::string name;                 // "max-bytes"
  std::vector<std::string> values;  // one for a scalar, one per element for an array
  bool is_bool = false;             // a TOML boolean (values[0] is "true" or "false")
  std::uint32_t line = 0;           // where it was set
};

// what() is one line: "FILE:LINE:COLUMN: message" (or "FILE: message" without a position).
class ConfigFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses TOML text; `source` names it in errors. Valid TOML is accepted (multi-line arrays,
// comments, any string form); broken TOML, tables other than [serve], arrays of tables, nested
// arrays and inline tables as values are errors.
std::vector<ConfigSetting> parse_config_toml(std::string_view text, const std::string& source);
// Reads `path` (a regular file: a directory or unreadable path is an error) and parses it.
std::vector<ConfigSetting> read_config_file(const std::string& path);

}  // namespace cachefwd::proxy
