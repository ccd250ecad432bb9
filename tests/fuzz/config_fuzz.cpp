// The config-file reader of `cachefwd serve --config` (proxy::parse_config_toml, toml++ behind it)
// on hostile text: broken TOML is a ConfigFileError naming where, never a crash; what it accepts is
// a list of settings the serve subcommand can apply. (serve_config_fuzz.cpp runs the whole path.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cachefwd;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& s : proxy::parse_config_toml(text, "fuzz.toml")) {
      if (s.name.empty()) __builtin_trap();
      if (s.is_bool && (s.values.size() != 1 || (s.values[0] != "true" && s.values[0] != "false")))
        __builtin_trap();
    }
  } catch (const proxy::ConfigFileError& e) {
    if (std::string_view(e.what()).find("fuzz.toml") == std::string_view::npos)
      __builtin_trap();  // names the file
  }
  return 0;
}
