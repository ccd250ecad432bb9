#pragma once
// How a request becomes a cache key (--key-* flags and rule options). Pure.
#include <string>
#include <vector>

namespace cachefwd::cache::key {

struct KeyPolicy {
  enum class Query { all, sorted, none };
  Query query = Query::all;               // --key-query
  std::vector<std::string> ignore_query;  // --key-ignore-query 'utm_*,fbclid' (globs on names)
  std::vector<std::string> headers;       // --key-headers Accept,Accept-Language
  std::vector<std::string> cookies;       // --key-cookies session,lang
  bool body_digest = false;               // key on SHA-256 of the request body (POST caching)
  std::string partition;                  // rules naming the same partition share entries
};

}  // namespace cachefwd::cache::key
