#pragma once
// Miss-ratio curves as SVG (replay --simulate --plot): miss ratio (and byte miss ratio, dashed)
// against cache size, one line per policy. Pure: it renders numbers it is given.
#include <cstdint>
#include <string>
#include <vector>

namespace cachefwd::replay {

struct MrcPoint {
  std::uint64_t cache_bytes = 0;
  double miss_ratio = 0;
  double byte_miss_ratio = -1;  // < 0: not drawn (unit-size traces)
};

struct MrcSeries {
  std::string policy;
  std::vector<MrcPoint> points;  // any order; drawn sorted by size
};

// `title` is escaped; sizes on a log scale when they span more than a factor of 10.
std::string render_mrc_svg(const std::vector<MrcSeries>& series, const std::string& title);

}  // namespace cachefwd::replay
