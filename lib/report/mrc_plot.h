#pragma once
// Miss-ratio curves as SVG (replay --simulate --plot): miss ratio (solid) and byte miss ratio
// (dashed) against cache size, one colour per policy. Pure: it renders numbers it is given.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::report {

struct MrcPoint {
  std::uint64_t cache_bytes = 0;
  double miss_ratio = 0;
  double byte_miss_ratio = -1;  // < 0: not drawn (unit-size traces)
};

struct MrcSeries {
  std::string policy;
  std::vector<MrcPoint> points;  // any order; drawn sorted by size
};

// Appends `point` to the series of `policy` (created on first use, in first-use order).
void add_mrc_point(std::vector<MrcSeries>& series, const std::string& policy, MrcPoint point);

// The colour of a policy: fixed per name, so a policy looks the same in every plot.
std::string_view policy_colour(std::string_view policy);

// `title` (escaped) heads the plot; `note`, when not empty, is printed under the axes (e.g. that an
// offline bound is not a lower bound with byte sizes). Sizes go on a log scale when they span more
// than a factor of 10, and the axis says so.
std::string render_mrc_svg(const std::vector<MrcSeries>& series, const std::string& title,
                           const std::string& note = {});

}  // namespace cachefwd::report
