#include "cache/store/eviction_policy.h"

#include "cache/store/fifo_policy.h"
#include "cache/store/lru_policy.h"
#include "cache/store/s3fifo_policy.h"
#include "cache/store/sieve_policy.h"

namespace cachefwd::cache::store {

std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name) {
  if (name == "lru") return std::make_unique<LruPolicy>();
  if (name == "fifo") return std::make_unique<FifoPolicy>();
  if (name == "sieve") return std::make_unique<SievePolicy>();
  if (name == "s3fifo") return std::make_unique<S3FifoPolicy>();
  if (name == "s3fifo-warm") {
    S3FifoOptions o;
    o.insert_to_main_while_warming = true;
    return std::make_unique<S3FifoPolicy>(o);
  }
  return nullptr;
}

std::vector<std::string_view> eviction_policy_names() {
  return {"lru", "fifo", "sieve", "s3fifo", "s3fifo-warm"};
}

}  // namespace cachefwd::cache::store
