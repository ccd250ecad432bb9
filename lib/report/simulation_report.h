#pragma once
// What `replay --simulate` prints and writes: a table for people, a JSON document with the same
// figures, and the miss-ratio curve's series. Pure: strings in, strings out.
#include <string>
#include <vector>

#include "replay/simulation.h"
#include "report/mrc_plot.h"

namespace cachefwd::report {

std::string render_trace_table(const replay::TraceSimResults& r);
std::string render_trace_json(const replay::TraceSimResults& r);
std::vector<MrcSeries> trace_mrc_series(const replay::TraceSimResults& r);
// One line for stderr when records were skipped, else empty.
std::string describe_skipped(const replay::TraceSimResults& r);

std::string render_capture_table(const replay::CaptureSimResults& r);
std::string render_capture_json(const replay::CaptureSimResults& r);
std::vector<MrcSeries> capture_mrc_series(const replay::CaptureSimResults& r);
std::string describe_skipped(const replay::CaptureSimResults& r);

}  // namespace cachefwd::report
