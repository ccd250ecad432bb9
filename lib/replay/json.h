#pragma once
// A small JSON reader (RFC 8259) for HAR files: parses a whole document into a tree. HAR files are
// browser exports of one page load (kilobytes to a few MB), so whole-file parsing is the simple
// choice; access logs, which can be huge, are read line by line instead (http_trace.h).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::replay {

class JsonValue {
 public:
  enum class Type { null, boolean, number, string, array, object };
  // Defined out of line: clang with libstdc++ 12 cannot instantiate the members of
  // std::pair<std::string, JsonValue> (`object`) while JsonValue is still incomplete.
  JsonValue();
  JsonValue(const JsonValue&);
  JsonValue(JsonValue&&) noexcept;
  JsonValue& operator=(const JsonValue&);
  JsonValue& operator=(JsonValue&&) noexcept;
  ~JsonValue();

  Type type = Type::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  // Members in document order (duplicate names kept; get() answers the first).
  std::vector<std::pair<std::string, JsonValue>> object;

  // Member `name` of an object, or nullptr (also when this is not an object).
  const JsonValue* get(std::string_view name) const;
  bool is_object() const { return type == Type::object; }
  bool is_array() const { return type == Type::array; }
  bool is_string() const { return type == Type::string; }
  bool is_number() const { return type == Type::number; }
};

struct JsonError {
  std::uint64_t line = 0;  // 1-based line of the offending character
  std::string what;
};

// Parses one JSON text (surrounding whitespace allowed, nothing else after it). Nesting deeper
// than 256 levels is an error, so a hostile file cannot exhaust the stack.
std::optional<JsonValue> parse_json(std::string_view text, JsonError* error = nullptr);

}  // namespace cachefwd::replay
