#include "proxy/config_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <toml++/toml.h>
#include <algorithm>
#include <fstream>
#include <sstream>

namespace cachefwd::proxy {

namespace {

std::string scalar_text(const toml::node& v, const std::string& source, const std::string& name) {
  if (auto s = v.as_string()) return s->get();
  if (auto i = v.as_integer()) return std::to_string(i->get());
  if (auto f = v.as_floating_point()) return fmt::format("{}", f->get());
  if (auto b = v.as_boolean()) return b->get() ? "true" : "false";
  throw ConfigFileError(fmt::format("{}:{}:{}: '{}' wants a string, number or boolean", source,
                                    v.source().begin.line, v.source().begin.column, name));
}

void collect(const toml::table& table, const std::string& source, bool top, std::vector<ConfigSetting>& out) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const auto line = node.source().begin.line;
    if (const auto* sub = node.as_table()) {
      if (!top || name != "serve" || sub->is_inline())
        throw ConfigFileError(
            fmt::format("{}:{}: unknown section [{}] (settings go at the top or in [serve])", source,
                        key.source().begin.line, name));
      collect(*sub, source, false, out);
      continue;
    }
    ConfigSetting s;
    s.name = name;
    s.line = key.source().begin.line ? key.source().begin.line : line;
    // `"" = ...` is valid TOML but names no flag (found by fuzz_config).
    if (name.empty()) throw ConfigFileError(fmt::format("{}:{}: an empty key names no setting", source, s.line));
    if (const auto* arr = node.as_array()) {
      for (const auto& element : *arr) {
        if (element.is_array() || element.is_table())
          throw ConfigFileError(fmt::format("{}:{}: '{}' wants a list of strings", source, s.line, name));
        s.values.push_back(scalar_text(element, source, name));
      }
    } else {
      s.is_bool = node.is_boolean();
      s.values.push_back(scalar_text(node, source, name));
    }
    out.push_back(std::move(s));
  }
}

}  // namespace

std::vector<ConfigSetting> parse_config_toml(std::string_view text, const std::string& source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigFileError(fmt::format("{}:{}:{}: {}", source, where.line, where.column, e.description()));
  }
  std::vector<ConfigSetting> out;
  collect(doc, source, true, out);
  // toml++ keeps a table's keys sorted; report and apply them in document order.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
  return out;
}

std::vector<ConfigSetting> read_config_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ConfigFileError(fmt::format("{}: cannot read it (no such file)", path));
  if (S_ISDIR(st.st_mode)) throw ConfigFileError(fmt::format("{}: is a directory, not a TOML file", path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw ConfigFileError(fmt::format("{}: cannot read it", path));
  return parse_config_toml(text.str(), path);
}

}  // namespace cachefwd::proxy
