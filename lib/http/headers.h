#pragma once
// An HTTP field section: keeps the order and the case fields arrived in (a proxy forwards what it
// was given) and compares names case-insensitively (RFC 9110 §5.1).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachefwd::http {

struct Header {
  std::string name;
  std::string value;
};

class Headers {
 public:
  Headers() = default;
  Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> init);

  void add(std::string_view name, std::string_view value);
  // Replaces every field called `name` with one field (appended when there was none).
  void set(std::string_view name, std::string_view value);
  // Removes every field called `name`; returns how many were removed.
  size_t remove(std::string_view name);

  // First field value called `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // All values of `name` joined with ", " (RFC 9110 §5.3 combination), empty when absent.
  std::string combined(std::string_view name) const;
  size_t count(std::string_view name) const;

  const std::vector<Header>& fields() const { return fields_; }
  std::vector<Header>& fields() { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  // Bytes of names and values, for memory accounting.
  size_t byte_size() const;

 private:
  std::vector<Header> fields_;
};

// Calls f(element) for each comma-separated element of a list-valued field (RFC 9110 §5.6.1),
// with OWS trimmed and empty elements skipped. Commas inside quoted strings do not split.
template <class F>
void for_each_list_element(std::string_view value, F&& f);

}  // namespace cachefwd::http

#include "http/headers_inl.h"
