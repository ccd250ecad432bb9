#include "load/workload.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "base/hash.h"
#include "base/strings.h"

namespace cachefwd::load {

namespace {
double unit_from_hash(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }
}  // namespace

bool parse_size_spec(const std::string& text, WorkloadOptions& out) {
  std::vector<std::uint64_t> sizes;
  const auto dash = text.find('-');
  const bool range = dash != std::string::npos;
  std::string_view rest = text;
  const char sep = range ? '-' : ',';
  while (true) {
    const auto p = rest.find(sep);
    const auto v = parse_size(trim_ows(rest.substr(0, p)));
    if (!v) return false;
    sizes.push_back(*v);
    if (p == std::string_view::npos) break;
    rest = rest.substr(p + 1);
  }
  if (sizes.empty() || (range && (sizes.size() != 2 || sizes[0] > sizes[1]))) return false;
  out.sizes = sizes;
  out.size_range = range;
  return true;
}

Workload Workload::from_keys(const WorkloadOptions& o, const HostPort& origin) {
  Workload w;
  const std::uint64_t n = std::max<std::uint64_t>(o.keys, 1);
  w.urls_.reserve(n);
  w.classes_.reserve(n);
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint64_t h1 = mix64(o.seed * 0x100000001b3ull ^ (k * 2 + 1));
    const std::uint64_t h2 = mix64(h1 ^ 0x5bd1e995u);
    std::uint64_t size;
    if (o.size_range) {
      const double lo = std::log(std::max<double>(1, static_cast<double>(o.sizes[0])));
      const double hi = std::log(std::max<double>(1, static_cast<double>(o.sizes[1])));
      size = static_cast<std::uint64_t>(std::llround(std::exp(lo + (hi - lo) * unit_from_hash(h1))));
      size = std::clamp(size, o.sizes[0], o.sizes[1]);
    } else {
      size = o.sizes[h1 % o.sizes.size()];
    }
    const double u = unit_from_hash(h2);
    KeyClass cls = u < o.no_store_fraction                      ? KeyClass::no_store
                   : u < o.no_store_fraction + o.error_fraction ? KeyClass::error
                                                                : KeyClass::cacheable;
    std::string target = fmt::format("/obj/{}?size={}", k, size);
    switch (cls) {
      case KeyClass::no_store:
        target += "&no-store=1";
        break;
      case KeyClass::error:
        target += "&status=503";
        break;
      case KeyClass::cacheable:
        if (o.max_age >= 0) target += fmt::format("&max-age={}", o.max_age);
        break;
    }
    if (!o.extra_query.empty()) target += "&" + o.extra_query;
    w.urls_.push_back(HttpUrl{origin, std::move(target)});
    w.classes_.push_back(cls);
  }
  w.build_cdf(o.zipf);
  return w;
}

std::optional<Workload> Workload::from_urls(const std::vector<std::string>& urls, double zipf,
                                            std::string* error) {
  Workload w;
  for (const auto& u : urls) {
    auto parsed = parse_http_url(u);
    if (!parsed) {
      if (error) *error = fmt::format("not an http:// URL with a numeric host or localhost: '{}'", u);
      return std::nullopt;
    }
    w.urls_.push_back(std::move(*parsed));
  }
  if (w.urls_.empty()) {
    if (error) *error = "no URLs";
    return std::nullopt;
  }
  w.build_cdf(zipf);
  return w;
}

std::optional<Workload> Workload::from_url_file(const std::string& path, double zipf, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = "cannot open " + path;
    return std::nullopt;
  }
  std::vector<std::string> urls;
  std::string line;
  while (std::getline(in, line)) {
    const auto t = trim_ows(line);
    if (t.empty() || t.front() == '#') continue;
    urls.emplace_back(t);
  }
  return from_urls(urls, zipf, error);
}

void Workload::build_cdf(double zipf) {
  cdf_.clear();
  if (zipf <= 0 || urls_.size() < 2) return;
  cdf_.resize(urls_.size());
  double sum = 0;
  for (std::size_t i = 0; i < urls_.size(); ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), zipf);
    cdf_[i] = sum;
  }
  for (auto& c : cdf_) c /= sum;
}

std::size_t Workload::pick(double u) const {
  if (cdf_.empty())
    return std::min(static_cast<std::size_t>(u * static_cast<double>(urls_.size())), urls_.size() - 1);
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<std::size_t>(it - cdf_.begin()), urls_.size() - 1);
}

void Workload::append_request(std::size_t i, bool absolute_form, bool head, std::string& out) const {
  const HttpUrl& u = urls_[i];
  out += head ? "HEAD " : "GET ";
  if (absolute_form) {
    out += "http://";
    out += u.where.authority();
  }
  out += u.target;
  out += " HTTP/1.1\r\nHost: ";
  out += u.where.authority();
  out += "\r\nUser-Agent: cachefwd-bench\r\n\r\n";
}

bool Workload::single_authority() const {
  for (const auto& u : urls_) {
    if (u.where.host != urls_[0].where.host || u.where.port != urls_[0].where.port) return false;
  }
  return true;
}

}  // namespace cachefwd::load
