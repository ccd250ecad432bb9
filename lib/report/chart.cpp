#include "report/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/svg.h"

namespace cachefwd::report {

namespace {

struct Scale {
  double lo, hi;
  std::vector<std::pair<double, std::string>> ticks;
};

std::string tick_label(double v, double step, const std::string& suffix) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  return fmt::format("{:.{}f}{}", v, decimals, suffix);
}

// The axis range and its ticks: fixed ones as given, else round values from min to a max
// rounded up to a whole step.
Scale scale_of(const ChartAxis& axis, double data_max) {
  Scale s{axis.min, axis.max > axis.min ? axis.max : std::max(data_max, axis.min + 1e-9), axis.ticks};
  if (!s.ticks.empty()) return s;
  const double step = nice_step(s.hi - s.lo, 5);
  if (axis.max <= axis.min) s.hi = s.lo + std::ceil((s.hi - s.lo) / step - 1e-9) * step;
  for (double v = s.lo; v <= s.hi + step * 1e-6; v += step)
    s.ticks.emplace_back(v, tick_label(v, step, axis.suffix));
  return s;
}

}  // namespace

double nice_step(double range, int ticks) {
  if (!(range > 0) || ticks <= 0) return 1;
  const double raw = range / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag + 1e-12) return m * mag;
  return 10 * mag;
}

std::string render_chart_svg(const std::vector<ChartPanel>& panels, double width, double panel_height) {
  const double left = 80, right = 80, top = 40, bottom = 56;
  const double pw = width - left - right, ph = panel_height - top - bottom;
  Svg svg(width, panel_height * static_cast<double>(panels.size()));
  for (size_t i = 0; i < panels.size(); ++i) {
    const ChartPanel& p = panels[i];
    const double y0 = panel_height * static_cast<double>(i) + top;
    double xmax = 0, ymax = 0, y2max = 0;
    bool any_right = false;
    for (const auto& l : p.lines)
      for (const auto& [x, y] : l.points) {
        xmax = std::max(xmax, x);
        (l.right_axis ? y2max : ymax) = std::max(l.right_axis ? y2max : ymax, y);
        any_right |= l.right_axis;
      }
    const Scale sx = scale_of(p.x, xmax), sy = scale_of(p.y, ymax), sy2 = scale_of(p.y_right, y2max);
    auto X = [&](double v) { return left + (v - sx.lo) / (sx.hi - sx.lo) * pw; };
    auto Y = [&](const Scale& s, double v) {
      return y0 + ph - (std::clamp(v, s.lo, s.hi) - s.lo) / (s.hi - s.lo) * ph;
    };
    svg.text(left, y0 - 16, p.title, "font-size=\"14\" font-weight=\"bold\"");
    for (const auto& [v, label] : sy.ticks) {
      svg.line(left, Y(sy, v), left + pw, Y(sy, v), "stroke=\"#e4e4e4\"");
      svg.text(left - 6, Y(sy, v) + 4, label, "text-anchor=\"end\"");
    }
    if (any_right)
      for (const auto& [v, label] : sy2.ticks) svg.text(left + pw + 6, Y(sy2, v) + 4, label);
    for (const auto& [v, label] : sx.ticks) {
      svg.line(X(v), y0, X(v), y0 + ph, "stroke=\"#f0f0f0\"");
      svg.text(X(v), y0 + ph + 16, label, "text-anchor=\"middle\"");
    }
    svg.rect(left, y0, pw, ph, "fill=\"none\" stroke=\"#888\"");
    svg.text(left + pw / 2, y0 + ph + 36, p.x.title, "text-anchor=\"middle\"");
    svg.text(18, y0 + ph / 2, p.y.title,
             fmt::format("transform=\"rotate(-90 18 {:.1f})\" text-anchor=\"middle\"", y0 + ph / 2));
    if (any_right)
      svg.text(width - 16, y0 + ph / 2, p.y_right.title,
               fmt::format("transform=\"rotate(90 {:.1f} {:.1f})\" text-anchor=\"middle\"", width - 16,
                           y0 + ph / 2));
    for (const auto& l : p.lines) {
      std::vector<std::pair<double, double>> pts;
      for (const auto& [x, y] : l.points) pts.emplace_back(X(x), Y(l.right_axis ? sy2 : sy, y));
      svg.polyline(pts, fmt::format("stroke=\"{}\" stroke-width=\"1.8\"{}", l.colour,
                                    l.dashed ? " stroke-dasharray=\"6,4\"" : ""));
    }
    // Legend, top left inside the plot: a sample of each line's stroke and its label.
    double ly = y0 + 16;
    double box_w = 0;
    for (const auto& l : p.lines) box_w = std::max(box_w, 7.0 * static_cast<double>(l.label.size()) + 44);
    if (!p.lines.empty())
      svg.rect(left + 8, y0 + 4, box_w, 20.0 * static_cast<double>(p.lines.size()) + 4,
               "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"");
    for (const auto& l : p.lines) {
      svg.line(left + 14, ly, left + 38, ly,
               fmt::format("stroke=\"{}\" stroke-width=\"2\"{}", l.colour,
                           l.dashed ? " stroke-dasharray=\"6,4\"" : ""));
      svg.text(left + 44, ly + 4, l.label);
      ly += 20;
    }
  }
  return svg.finish();
}

}  // namespace cachefwd::report
