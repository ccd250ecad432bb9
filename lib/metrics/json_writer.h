#pragma once
// A small streaming JSON writer (RFC 8259) for /stats, the JSON access log and reports. It appends
// to a string and places commas and colons itself; it does not validate call order beyond that
// (a key outside an object is a programming error). Pure.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cachefwd::metrics {

// Appends `s` as a JSON string literal (with the quotes). '"', '\\' and every control character
// (U+0000-U+001F, and DEL) are escaped; \b \f \n \r \t use their short forms. JSON text must be
// UTF-8 (RFC 8259 §8.1): a byte that is not part of a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF included) is replaced by U+FFFD, so the output is always
// valid JSON even when a request line carries arbitrary bytes.
void append_json_string(std::string& out, std::string_view s);

// Appends a JSON number: integers exactly; doubles in the shortest form that reads back to the
// same value. NaN and infinities have no JSON form and are written as null.
void append_json_number(std::string& out, double v);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The member name of the next value (inside an object).
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(double d);
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter& value(T v) {
    if constexpr (std::is_signed_v<T>)
      return integer(static_cast<std::int64_t>(v));
    else
      return unsigned_integer(static_cast<std::uint64_t>(v));
  }
  JsonWriter& null();

  // key(name).value(v) in one call.
  template <typename T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }
  // True when every object and array opened has been closed.
  bool complete() const noexcept { return first_.empty(); }

 private:
  JsonWriter& integer(std::int64_t v);
  JsonWriter& unsigned_integer(std::uint64_t v);
  void before_value();

  std::string out_;
  // One entry per open container: no element written yet.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace cachefwd::metrics
