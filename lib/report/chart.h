#pragma once
// Line charts as SVG for the tools' plots (bench --plot): stacked panels, each with titled axes
// and units, round tick values, an optional right-hand axis and a legend that shows each line's
// colour and dash. Pure: numbers in, SVG text out.
#include <string>
#include <utility>
#include <vector>

namespace cachefwd::report {

struct ChartLine {
  std::string label;
  std::string colour;
  std::vector<std::pair<double, double>> points;  // (x, y) in data units
  bool right_axis = false;                        // plotted against the panel's right axis
  bool dashed = false;
};

struct ChartAxis {
  std::string title;  // with its unit, e.g. "throughput (req/s)"
  double min = 0;
  double max = 0;  // <= min: from the data (rounded up to a tick)
  // Fixed tick positions with labels (e.g. percentiles on a transformed axis); empty: round values.
  std::vector<std::pair<double, std::string>> ticks;
  std::string suffix;  // appended to automatic tick labels ("%")
};

struct ChartPanel {
  std::string title;
  ChartAxis x, y;
  ChartAxis y_right;  // used when a line has right_axis
  std::vector<ChartLine> lines;
};

// A step of 1, 2 or 5 times a power of ten that cuts `range` into about `ticks` parts.
double nice_step(double range, int ticks);

std::string render_chart_svg(const std::vector<ChartPanel>& panels, double width = 900,
                             double panel_height = 340);

}  // namespace cachefwd::report
