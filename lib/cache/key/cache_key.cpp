#include "cache/key/cache_key.h"

namespace cachefwd::cache::key {

std::string primary_key(std::string_view method, const http::TargetUri& target) {
  std::string k;
  k.reserve(method.size() + target.scheme.size() + target.host.size() + target.path.size() +
            target.query.size() + 16);
  k += method;
  k += ' ';
  k += target.scheme;
  k += "://";
  if (target.host.find(':') != std::string::npos) {
    k += '[';
    k += target.host;
    k += ']';
  } else {
    k += target.host;
  }
  k += ':';
  k += std::to_string(target.port);
  k += target.path;
  if (target.has_query) {
    k += '?';
    k += target.query;
  }
  return k;
}

}  // namespace cachefwd::cache::key
