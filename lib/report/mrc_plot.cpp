#include "report/mrc_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/hash.h"
#include "base/strings.h"
#include "report/svg.h"

namespace cachefwd::report {

namespace {

// Axis labels: "128 MiB" rather than "128.00 MiB".
std::string size_label(std::uint64_t b) {
  std::string s = format_bytes(b);
  auto dot = s.find(".00 ");
  if (dot != std::string::npos) s.erase(dot, 3);
  return s;
}

}  // namespace

void add_mrc_point(std::vector<MrcSeries>& series, const std::string& policy, MrcPoint point) {
  auto it = std::find_if(series.begin(), series.end(), [&](auto& s) { return s.policy == policy; });
  if (it == series.end()) it = series.insert(series.end(), MrcSeries{policy, {}});
  it->points.push_back(point);
}

std::string_view policy_colour(std::string_view policy) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"lru", "#1f77b4"},    {"fifo", "#9467bd"},        {"sieve", "#2ca02c"},
      {"s3fifo", "#d62728"}, {"s3fifo-warm", "#ff7f0e"}, {"belady", "#222222"}};
  for (const auto& [name, colour] : kKnown)
    if (name == policy) return colour;
  static constexpr std::string_view kOthers[] = {"#8c564b", "#17becf", "#e377c2", "#bcbd22"};
  return kOthers[hash64(policy) % std::size(kOthers)];
}

std::string render_mrc_svg(const std::vector<MrcSeries>& series, const std::string& title,
                           const std::string& note) {
  const double width = 760, height = note.empty() ? 440 : 470, left = 70, right = 190, top = 40, bottom = 60;
  const double pw = width - left - right, ph = 440 - top - bottom;
  std::uint64_t lo = UINT64_MAX, hi = 0;
  for (auto& s : series)
    for (auto& p : s.points) {
      lo = std::min(lo, std::max<std::uint64_t>(p.cache_bytes, 1));
      hi = std::max(hi, std::max<std::uint64_t>(p.cache_bytes, 1));
    }
  if (hi == 0) lo = hi = 1;
  const bool log_x = hi > lo * 10;
  auto xpos = [&](std::uint64_t b) {
    const double v = static_cast<double>(std::max<std::uint64_t>(b, 1));
    const double a = static_cast<double>(lo), z = static_cast<double>(hi);
    const double t = z == a  ? 0.5
                     : log_x ? (std::log(v) - std::log(a)) / (std::log(z) - std::log(a))
                             : (v - a) / (z - a);
    return left + t * pw;
  };
  auto ypos = [&](double r) { return top + (1.0 - std::clamp(r, 0.0, 1.0)) * ph; };

  Svg svg(width, height);
  svg.text(left, 22, title, "font-size=\"15\"");
  for (int i = 0; i <= 10; i += 2) {
    const double r = i / 10.0;
    svg.line(left, ypos(r), left + pw, ypos(r), "stroke=\"#ddd\"");
    svg.text(left - 6, ypos(r) + 4, fmt::format("{:.1f}", r), "text-anchor=\"end\"");
  }
  std::vector<std::uint64_t> ticks;
  for (auto& s : series)
    for (auto& p : s.points) ticks.push_back(p.cache_bytes);
  std::sort(ticks.begin(), ticks.end());
  ticks.erase(std::unique(ticks.begin(), ticks.end()), ticks.end());
  double last_label_x = -1e9;
  for (auto t : ticks) {
    svg.line(xpos(t), top, xpos(t), top + ph, "stroke=\"#eee\"");
    // Labels of close sizes would overprint each other: skip those too near the previous one.
    if (xpos(t) - last_label_x < 48) continue;
    last_label_x = xpos(t);
    svg.text(xpos(t), top + ph + 16, size_label(t), "text-anchor=\"middle\"");
  }
  svg.text(left + pw / 2, top + ph + 40, log_x ? "cache size (log scale)" : "cache size",
           "text-anchor=\"middle\"");
  svg.text(16, top + ph / 2, "miss ratio",
           fmt::format("transform=\"rotate(-90 16 {:.1f})\" text-anchor=\"middle\"", top + ph / 2));
  bool any_dashed = false;
  for (const auto& s : series) {
    const std::string colour(policy_colour(s.policy));
    auto pts = s.points;
    std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.cache_bytes < b.cache_bytes; });
    std::vector<std::pair<double, double>> line, dashed;
    for (auto& p : pts) {
      line.emplace_back(xpos(p.cache_bytes), ypos(p.miss_ratio));
      if (p.byte_miss_ratio >= 0) dashed.emplace_back(xpos(p.cache_bytes), ypos(p.byte_miss_ratio));
    }
    svg.polyline(line, "stroke-width=\"2\" stroke=\"" + colour + "\"");
    if (!dashed.empty()) {
      any_dashed = true;
      svg.polyline(dashed, "stroke-width=\"1.5\" stroke-dasharray=\"5,4\" stroke=\"" + colour + "\"");
    }
    for (auto& [x, y] : line) svg.circle(x, y, 3, colour);
  }
  // Legend: one row per policy, then what the two line styles mean.
  const double lx = left + pw + 16;
  double ly = top + 14;
  for (const auto& s : series) {
    svg.line(lx, ly, lx + 24, ly,
             "stroke=\"" + std::string(policy_colour(s.policy)) + "\" stroke-width=\"2\"");
    svg.text(lx + 30, ly + 4, s.policy);
    ly += 20;
  }
  ly += 10;
  svg.line(lx, ly, lx + 24, ly, "stroke=\"#333\" stroke-width=\"2\"");
  svg.text(lx + 30, ly + 4, "miss ratio");
  if (any_dashed) {
    ly += 20;
    svg.line(lx, ly, lx + 24, ly, "stroke=\"#333\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
    svg.text(lx + 30, ly + 4, "byte miss ratio");
  }
  if (!note.empty()) svg.text(left, height - 14, note, "font-size=\"11\" fill=\"#444\"");
  return svg.finish();
}

}  // namespace cachefwd::report
