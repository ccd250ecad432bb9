#pragma once
// Flattens a JSON document (parsed strictly by nlohmann::json) into dotted paths ("a.b",
// "series.0.t_s") -> value text, so a test can compare a table's figures with the JSON's and also
// proves the output parses. nullopt when the text is not JSON.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace cachefwd::load::testing {

inline std::optional<std::map<std::string, std::string>> flatten_json(const std::string& text) {
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::nullopt;
  std::map<std::string, std::string> out;
  auto walk = [&](const nlohmann::json& v, const std::string& path, auto& self) -> void {
    auto join = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
    if (v.is_object()) {
      for (const auto& [k, m] : v.items()) self(m, join(k), self);
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) self(v[i], join(std::to_string(i)), self);
    } else {
      out[path] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  };
  walk(doc, "", walk);
  return out;
}

}  // namespace cachefwd::load::testing
