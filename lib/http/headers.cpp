#include "http/headers.h"

#include <algorithm>

#include "base/strings.h"

namespace cachefwd::http {

Headers::Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> init) {
  for (auto& [n, v] : init) add(n, v);
}

void Headers::add(std::string_view name, std::string_view value) {
  fields_.push_back(Header{std::string(name), std::string(value)});
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

size_t Headers::remove(std::string_view name) {
  auto before = fields_.size();
  std::erase_if(fields_, [&](const Header& h) { return iequals(h.name, name); });
  return before - fields_.size();
}

const std::string* Headers::find(std::string_view name) const {
  for (auto& h : fields_)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::string Headers::combined(std::string_view name) const {
  std::string out;
  for (auto& h : fields_) {
    if (!iequals(h.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += h.value;
  }
  return out;
}

size_t Headers::count(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(fields_.begin(), fields_.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

size_t Headers::byte_size() const {
  size_t n = 0;
  for (auto& h : fields_) n += h.name.size() + h.value.size() + 4;
  return n;
}

}  // namespace cachefwd::http
