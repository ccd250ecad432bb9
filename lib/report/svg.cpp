#include "report/svg.h"

#include <fmt/format.h>

namespace cachefwd::report {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Svg::Svg(double width, double height) {
  out_ = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
}

void Svg::text(double x, double y, std::string_view content, std::string_view attrs) {
  out_ += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\"{}{}>{}</text>\n", x, y, attrs.empty() ? "" : " ",
                      attrs, xml_escape(content));
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view attrs) {
  out_ += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" {}/>\n", x1, y1, x2, y2,
                      attrs);
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, std::string_view attrs) {
  std::string pts;
  for (const auto& [x, y] : points) pts += fmt::format("{:.1f},{:.1f} ", x, y);
  out_ += fmt::format("<polyline fill=\"none\" {} points=\"{}\"/>\n", attrs, pts);
}

void Svg::circle(double cx, double cy, double r, std::string_view fill) {
  out_ += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{:.1f}\" fill=\"{}\"/>\n", cx, cy, r, fill);
}

void Svg::rect(double x, double y, double w, double h, std::string_view attrs) {
  out_ += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" {}/>\n", x, y, w, h,
                      attrs);
}

std::string Svg::finish() { return std::move(out_) + "</svg>\n"; }

}  // namespace cachefwd::report
