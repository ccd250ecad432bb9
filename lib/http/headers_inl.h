#pragma once
#include "base/strings.h"

namespace cachefwd::http {

template <class F>
void for_each_list_element(std::string_view value, F&& f) {
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size()) {
      char c = value[i];
      if (quoted) {
        if (c == '\\') ++i;
        else if (c == '"') quoted = false;
        continue;
      }
      if (c == '"') {
        quoted = true;
        continue;
      }
      if (c != ',') continue;
    }
    auto element = trim_ows(value.substr(start, i - start));
    if (!element.empty()) f(element);
    start = i + 1;
  }
}

}  // namespace cachefwd::http
