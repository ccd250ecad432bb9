#include "metrics/prometheus.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace cachefwd::metrics {

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
    case MetricType::untyped:
      return "untyped";
  }
  return "untyped";
}

[[noreturn]] void misuse(std::string what) { throw std::invalid_argument("prometheus: " + what); }

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

void append_help_text(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
}

void append_sample_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    // Shortest round-trip digits, spelled like Go's FormatFloat(v, 'g', -1, 64) for the bucket
    // bounds that matter ("0.0005", "5e-05"): the le label is part of a series' identity, so
    // cachefwd's buckets should read the same as those of the Go clients next to it. Unlike Go,
    // fixed notation is kept up to 1e21 so that large gauges stay readable integers.
    char buf[64];
    auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    std::string_view text(buf, static_cast<size_t>(sci.ptr - buf));
    int exponent = 0;
    std::string_view exp_text = text.substr(text.find('e') + 1);
    if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
    if (exponent < -4 || exponent >= 21) {
      out.append(text);
    } else {
      auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
      out.append(buf, fixed.ptr);
    }
  }
}

void PrometheusWriter::family(std::string_view name, MetricType type, std::string_view help) {
  if (!valid_metric_name(name)) misuse("invalid metric name '" + std::string(name) + "'");
  if (!families_.emplace(name).second) misuse("metric family '" + std::string(name) + "' declared twice");
  current_ = name;
  current_type_ = type;
  if (!help.empty()) {
    out_ += "# HELP ";
    out_ += name;
    out_.push_back(' ');
    append_help_text(out_, help);
    out_.push_back('\n');
  }
  out_ += "# TYPE ";
  out_ += name;
  out_.push_back(' ');
  out_ += type_name(type);
  out_.push_back('\n');
}

void PrometheusWriter::check_sample(std::string_view name, MetricType expected_kind) const {
  if (current_.empty()) misuse("sample '" + std::string(name) + "' before any family");
  bool histogram = current_type_ == MetricType::histogram;
  if (histogram != (expected_kind == MetricType::histogram))
    misuse(histogram ? "histogram '" + current_ + "' needs histogram()"
                     : "histogram() on non-histogram family '" + current_ + "'");
  if (name != current_)
    misuse("sample '" + std::string(name) + "' outside its family (declared last: '" + current_ + "')");
}

void PrometheusWriter::begin_sample(std::string_view name, Labels labels, std::string_view suffix,
                                    const std::string* le) {
  out_ += name;
  out_ += suffix;
  if (!labels.empty() || le != nullptr) {
    out_.push_back('{');
    bool first = true;
    for (const Label& l : labels) {
      if (!valid_label_name(l.name)) misuse("invalid label name '" + std::string(l.name) + "'");
      if (le != nullptr && l.name == "le") misuse("label 'le' is reserved in histograms");
      if (!first) out_.push_back(',');
      first = false;
      out_ += l.name;
      out_ += "=\"";
      append_label_value(out_, l.value);
      out_.push_back('"');
    }
    if (le != nullptr) {
      if (!first) out_.push_back(',');
      out_ += "le=\"";
      out_ += *le;
      out_.push_back('"');
    }
    out_.push_back('}');
  }
  out_.push_back(' ');
}

void PrometheusWriter::sample(std::string_view name, Labels labels, double value) {
  check_sample(name, MetricType::counter);
  begin_sample(name, labels, "", nullptr);
  append_sample_value(out_, value);
  out_.push_back('\n');
}

void PrometheusWriter::sample_integer(std::string_view name, Labels labels, std::int64_t s, std::uint64_t u,
                                      bool negative) {
  check_sample(name, MetricType::counter);
  begin_sample(name, labels, "", nullptr);
  char buf[24];
  auto r = negative ? std::to_chars(buf, buf + sizeof buf, s) : std::to_chars(buf, buf + sizeof buf, u);
  out_.append(buf, r.ptr);
  out_.push_back('\n');
}

void PrometheusWriter::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, MetricType::counter, help);
  sample(name, {}, value);
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, double value) {
  family(name, MetricType::gauge, help);
  sample(name, {}, value);
}

void PrometheusWriter::histogram(std::string_view name, Labels labels, std::span<const double> upper_bounds,
                                 std::span<const std::uint64_t> bucket_counts, double sum) {
  check_sample(name, MetricType::histogram);
  if (bucket_counts.size() != upper_bounds.size() + 1)
    misuse("histogram '" + std::string(name) + "': need one count per bound plus the +Inf bucket");
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i])))
      misuse("histogram '" + std::string(name) + "': bounds must be finite and strictly increasing");
  }
  std::uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    cumulative += bucket_counts[i];
    le.clear();
    if (i < upper_bounds.size())
      append_sample_value(le, upper_bounds[i]);
    else
      le = "+Inf";
    begin_sample(name, labels, "_bucket", &le);
    out_ += std::to_string(cumulative);
    out_.push_back('\n');
  }
  begin_sample(name, labels, "_sum", nullptr);
  append_sample_value(out_, sum);
  out_.push_back('\n');
  begin_sample(name, labels, "_count", nullptr);
  out_ += std::to_string(cumulative);
  out_.push_back('\n');
}

}  // namespace cachefwd::metrics
