#include "replay/mrc_plot.h"

#include "base/strings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cachefwd::replay {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Axis labels: "128 MiB" rather than "128.00 MiB".
std::string size_label(std::uint64_t b) {
  std::string s = format_bytes(b);
  auto dot = s.find(".00 ");
  if (dot != std::string::npos) s.erase(dot, 3);
  return s;
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};

}  // namespace

std::string render_mrc_svg(const std::vector<MrcSeries>& series, const std::string& title) {
  const double width = 720, height = 440, left = 70, right = 160, top = 40, bottom = 60;
  const double pw = width - left - right, ph = height - top - bottom;
  std::uint64_t lo = UINT64_MAX, hi = 0;
  for (auto& s : series)
    for (auto& p : s.points) {
      lo = std::min(lo, std::max<std::uint64_t>(p.cache_bytes, 1));
      hi = std::max(hi, std::max<std::uint64_t>(p.cache_bytes, 1));
    }
  if (hi == 0) lo = hi = 1;
  bool log_x = hi > lo * 10;
  auto xpos = [&](std::uint64_t b) {
    double v = static_cast<double>(std::max<std::uint64_t>(b, 1));
    double a = static_cast<double>(lo), z = static_cast<double>(hi);
    double t = z == a ? 0.5 : log_x ? (std::log(v) - std::log(a)) / (std::log(z) - std::log(a)) : (v - a) / (z - a);
    return left + t * pw;
  };
  auto ypos = [&](double r) { return top + (1.0 - std::clamp(r, 0.0, 1.0)) * ph; };

  std::string o;
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                "font-size=\"12\">\n",
                width, height);
  o += buf;
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(buf, sizeof(buf), "<text x=\"%.0f\" y=\"22\" font-size=\"15\">", left);
  o += buf;
  o += xml_escape(title) + "</text>\n";
  for (int i = 0; i <= 10; i += 2) {
    double r = i / 10.0;
    std::snprintf(buf, sizeof(buf),
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"end\">%.1f</text>\n",
                  left, ypos(r), left + pw, ypos(r), left - 6, ypos(r) + 4, r);
    o += buf;
  }
  std::vector<std::uint64_t> ticks;
  for (auto& s : series)
    for (auto& p : s.points) ticks.push_back(p.cache_bytes);
  std::sort(ticks.begin(), ticks.end());
  ticks.erase(std::unique(ticks.begin(), ticks.end()), ticks.end());
  for (auto t : ticks) {
    std::snprintf(buf, sizeof(buf),
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"middle\">%s</text>\n",
                  xpos(t), top, xpos(t), top + ph, xpos(t), top + ph + 16, size_label(t).c_str());
    o += buf;
  }
  std::snprintf(buf, sizeof(buf),
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">cache size%s</text>\n<text x=\"16\" y=\"%.1f\" "
                "transform=\"rotate(-90 16 %.1f)\" text-anchor=\"middle\">miss ratio (dashed: byte miss ratio)</text>\n",
                left + pw / 2, height - 16, log_x ? " (log scale)" : "", top + ph / 2, top + ph / 2);
  o += buf;
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
    auto pts = series[i].points;
    std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.cache_bytes < b.cache_bytes; });
    std::string line, dashed;
    for (auto& p : pts) {
      std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", xpos(p.cache_bytes), ypos(p.miss_ratio));
      line += buf;
      if (p.byte_miss_ratio >= 0) {
        std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", xpos(p.cache_bytes), ypos(p.byte_miss_ratio));
        dashed += buf;
      }
    }
    o += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(color) + "\" points=\"" + line + "\"/>\n";
    if (!dashed.empty())
      o += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\" stroke=\"" + std::string(color) +
           "\" points=\"" + dashed + "\"/>\n";
    for (auto& p : pts) {
      std::snprintf(buf, sizeof(buf), "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", xpos(p.cache_bytes),
                    ypos(p.miss_ratio), color);
      o += buf;
    }
    std::snprintf(buf, sizeof(buf),
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/><text x=\"%.1f\" "
                  "y=\"%.1f\">",
                  left + pw + 16, top + 14 + 20.0 * static_cast<double>(i), left + pw + 40, top + 14 + 20.0 * static_cast<double>(i),
                  color, left + pw + 46, top + 18 + 20.0 * static_cast<double>(i));
    o += buf;
    o += xml_escape(series[i].policy) + "</text>\n";
  }
  o += "</svg>\n";
  return o;
}

}  // namespace cachefwd::replay
