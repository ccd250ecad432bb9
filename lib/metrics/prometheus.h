#pragma once
// A writer for the Prometheus text exposition format, version 0.0.4 (what GET /metrics serves):
// `# HELP` / `# TYPE` per metric family, then its samples, one per line, '\n' after every line
// including the last. It checks what a scraper would reject instead of exposing it: invalid metric
// or label names, a family declared twice, a sample outside the family declared last, histogram
// buckets that are not increasing. Those are programming errors and throw std::invalid_argument.
// Pure: it only appends to a string.
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cachefwd::metrics {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, histogram, untyped };

struct Label {
  std::string_view name;
  std::string_view value;
};

// A view of labels that binds to a braced list ({{"rule", name}, {"reason", r}}) or a vector.
class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<Label> list) : labels_(list.begin(), list.size()) {}
  Labels(std::span<const Label> labels) : labels_(labels) {}
  Labels(const std::vector<Label>& labels) : labels_(labels) {}
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  bool empty() const { return labels_.empty(); }

 private:
  std::span<const Label> labels_;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name) noexcept;
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus' internal use).
bool valid_label_name(std::string_view name) noexcept;
// Label values: '\\' -> "\\\\", '"' -> "\\\"", LF -> "\\n"; everything else as is.
void append_label_value(std::string& out, std::string_view value);
// HELP text: '\\' -> "\\\\", LF -> "\\n".
void append_help_text(std::string& out, std::string_view help);
// A sample value as Go's ParseFloat reads it: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
void append_sample_value(std::string& out, double v);

class PrometheusWriter {
 public:
  // Starts a metric family: "# HELP name help" (omitted when help is empty) and "# TYPE name type".
  void family(std::string_view name, MetricType type, std::string_view help);

  // One sample of the family declared last. For counters, gauges and untyped families `name` is
  // the family name; histogram samples are written with histogram().
  void sample(std::string_view name, Labels labels, double value);
  template <std::integral T>
  void sample(std::string_view name, Labels labels, T value) {
    if constexpr (std::is_signed_v<T>) {
      if (value < 0) return sample_integer(name, labels, static_cast<std::int64_t>(value), 0, true);
    }
    sample_integer(name, labels, 0, static_cast<std::uint64_t>(value), false);
  }

  // A family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

  // One labelled histogram of the histogram family declared last. `upper_bounds` are the finite
  // bucket bounds, strictly increasing; `bucket_counts` has one more element than `upper_bounds`:
  // bucket_counts[i] counts the observations v with upper_bounds[i-1] < v <= upper_bounds[i], the
  // last counts those above the last bound. Written as cumulative name_bucket{...,le="b"} lines
  // ending with le="+Inf", then name_sum and name_count (= the +Inf bucket).
  void histogram(std::string_view name, Labels labels, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> bucket_counts, double sum);

  const std::string& str() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }

 private:
  void sample_integer(std::string_view name, Labels labels, std::int64_t s, std::uint64_t u, bool negative);
  void begin_sample(std::string_view name, Labels labels, std::string_view suffix, const std::string* le);
  void check_sample(std::string_view name, MetricType expected_kind) const;

  std::string out_;
  std::set<std::string, std::less<>> families_;
  std::string current_;
  MetricType current_type_ = MetricType::untyped;
};

}  // namespace cachefwd::metrics
