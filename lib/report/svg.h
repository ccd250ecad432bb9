#pragma once
// A minimal SVG builder for the tools' plots: escapes text, formats coordinates once. Pure.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachefwd::report {

// Escapes &, <, > and " for XML text and attribute values.
std::string xml_escape(std::string_view s);

class Svg {
 public:
  // A white background of the whole size; sans-serif 12 px text by default.
  Svg(double width, double height);
  // `attrs` are extra attributes written as given (the caller's own constants).
  void text(double x, double y, std::string_view content, std::string_view attrs = {});
  void line(double x1, double y1, double x2, double y2, std::string_view attrs);
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view attrs);
  void circle(double cx, double cy, double r, std::string_view fill);
  void rect(double x, double y, double w, double h, std::string_view attrs);
  std::string finish();

 private:
  std::string out_;
};

}  // namespace cachefwd::report
