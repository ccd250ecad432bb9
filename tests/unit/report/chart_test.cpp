#include "report/chart.h"

#include <gtest/gtest.h>

#include <regex>

using namespace cachefwd::report;

TEST(Chart, NiceStepsAreOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(100, 5), 20);
  EXPECT_DOUBLE_EQ(nice_step(47'300, 5), 10'000);
  EXPECT_DOUBLE_EQ(nice_step(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(0.37, 4), 0.1);
  EXPECT_DOUBLE_EQ(nice_step(0, 5), 1);
}

TEST(Chart, RoundTicksUnitsBothAxesAndALegendWithTheDashes) {
  ChartPanel p;
  p.title = "throughput <and> hit ratio";
  p.x.title = "time (s)";
  p.y.title = "throughput (req/s)";
  p.y_right.title = "hit ratio (%)";
  p.y_right.max = 100;
  p.y_right.suffix = "%";
  p.lines.push_back(
      {"throughput (req/s)", "#1f77b4", {{0.25, 4100}, {0.5, 4730}, {0.75, 3900}}, false, false});
  p.lines.push_back({"hit ratio (%)", "#2ca02c", {{0.25, 80}, {0.5, 90}}, true, true});
  const std::string svg = render_chart_svg({p});
  EXPECT_NE(svg.find("throughput &lt;and&gt; hit ratio"), std::string::npos);
  for (const char* title : {">time (s)<", ">throughput (req/s)<", ">hit ratio (%)<"})
    EXPECT_NE(svg.find(title), std::string::npos) << title;
  // Left axis: 0..5000 in steps of 1000 (the data's 4730 rounded up to a whole step), no 4730.
  for (const char* tick : {">0<", ">1000<", ">5000<", ">100%<", ">60%<"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  EXPECT_EQ(svg.find(">4730<"), std::string::npos);
  // X ticks are round too: 0, 0.2, ..., 0.8.
  EXPECT_NE(svg.find(">0.2<"), std::string::npos);
  EXPECT_EQ(svg.find(">0.75<"), std::string::npos);
  // The legend draws a dashed sample for the dashed line (one for the line, one in the legend).
  const std::regex dashed("stroke-dasharray");
  EXPECT_EQ(std::distance(std::sregex_iterator(svg.begin(), svg.end(), dashed), std::sregex_iterator()), 2);
}
