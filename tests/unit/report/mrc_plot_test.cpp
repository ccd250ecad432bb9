#include "report/mrc_plot.h"

#include <gtest/gtest.h>

#include <regex>

using namespace cachefwd::report;

TEST(MrcPlot, OneLinePerPolicyWithPointsOrderedBySizeAndHigherMissDrawnHigher) {
  std::vector<MrcSeries> s{{"lru", {{4u << 20, 0.5, 0.6}, {1u << 20, 0.9, 0.95}}},
                           {"belady", {{1u << 20, 0.6, -1}}}};
  std::string svg = render_mrc_svg(s, "trace <x>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("trace &lt;x&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">lru</text>"), std::string::npos);
  EXPECT_NE(svg.find(">belady</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1 MiB</text>"), std::string::npos);
  EXPECT_NE(svg.find(">4 MiB</text>"), std::string::npos);
  // lru's solid polyline: the 1 MiB point comes first (leftmost) and, with the higher miss ratio,
  // higher on the chart (smaller y: SVG's y grows downwards).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      svg, m,
      std::regex(
          "stroke-width=\"2\" stroke=\"[^\"]+\" points=\"([0-9.]+),([0-9.]+) ([0-9.]+),([0-9.]+) \"")));
  EXPECT_LT(std::stod(m[1]), std::stod(m[3]));
  EXPECT_LT(std::stod(m[2]), std::stod(m[4]));
  // Byte miss ratios are dashed; belady has none.
  EXPECT_EQ(std::regex_search(svg, std::regex("stroke-dasharray")), true);
  EXPECT_EQ(svg.find("</svg>") != std::string::npos, true);
}
