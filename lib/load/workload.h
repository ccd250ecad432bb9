#pragma once
// The request stream of a bench run: a fixed set of request templates (one per key or per URL)
// and a popularity law over them. Per-key properties (size, cacheability) are a hash of the key
// and the seed, so two runs with the same flags send byte-identical requests.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "load/address.h"

namespace cachefwd::load {

struct WorkloadOptions {
  std::uint64_t keys = 1000;
  double zipf = 0;  // exponent s; 0 = uniform
  // One size, a list (each key gets one, by hash) or, when size_range is set, a range
  // [sizes[0], sizes[1]] drawn log-uniformly per key.
  std::vector<std::uint64_t> sizes{1024};
  bool size_range = false;
  double no_store_fraction = 0;  // keys answered with Cache-Control: no-store
  double error_fraction = 0;     // keys answered with status=503 (no Cache-Control)
  std::int64_t max_age = 60;     // Cache-Control of the other keys; < 0: none
  std::string extra_query;       // appended to each generated URL ("etag=1", ...)
  std::uint64_t seed = 1;
};

// Parses "--size" text: "1KiB", "1KiB,16KiB,1MiB" (list) or "1KiB-64KiB" (range).
bool parse_size_spec(const std::string& text, WorkloadOptions& out);

enum class KeyClass : std::uint8_t { cacheable, no_store, error };

class Workload {
 public:
  // Keys against `origin` (the authority in every URL): /obj/<key>?size=..&max-age=..
  static Workload from_keys(const WorkloadOptions& opts, const HostPort& origin);
  // One request template per URL (absolute http:// URLs; popularity is `zipf` over file order).
  static std::optional<Workload> from_urls(const std::vector<std::string>& urls, double zipf,
                                           std::string* error);
  // Reads one URL per line (blank lines and lines starting with # skipped).
  static std::optional<Workload> from_url_file(const std::string& path, double zipf, std::string* error);

  std::size_t size() const { return urls_.size(); }
  const HttpUrl& url(std::size_t i) const { return urls_[i]; }
  KeyClass key_class(std::size_t i) const { return classes_.empty() ? KeyClass::cacheable : classes_[i]; }
  // Draws the next index from the popularity law; u is uniform in [0, 1).
  std::size_t pick(double u) const;
  // The request bytes for template i: absolute-form target for a forward proxy, origin-form
  // otherwise (RFC 9112 §3.2).
  void append_request(std::size_t i, bool absolute_form, bool head, std::string& out) const;
  // Every URL goes to the same authority (needed when connecting to the origin directly).
  bool single_authority() const;

 private:
  std::vector<HttpUrl> urls_;
  std::vector<KeyClass> classes_;
  std::vector<double> cdf_;  // empty: uniform
  void build_cdf(double zipf);
};

// Fast deterministic PRNG (splitmix64): the per-request draw must cost nanoseconds.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t s_;
};

}  // namespace cachefwd::load
