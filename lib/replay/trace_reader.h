#pragma once
// Streaming readers for request traces (formats in shared/traces/SOURCES.md). A reader pulls from
// an std::istream and yields one Request at a time with O(1) memory, so multi-GB inputs stream;
// decompression (xz) is the caller's business (cmd/ pipes the file through a decompressor into
// the stream), which keeps this module free of I/O beyond the stream it is handed.
//
// Malformed input is counted, never fatal: a bad CSV/text line or a truncated binary record is
// skipped, and the first few line (or record) numbers are kept for the error message.
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachefwd::replay {

// One cache request. `key` identifies the object; formats with textual keys also set `text_key`
// (valid until the next call to next()), which the simulator uses as the store key so distinct
// strings never collide. Traces without sizes report size 1 (object-count caches).
struct Request {
  std::uint64_t key = 0;
  std::string_view text_key;
  std::uint64_t size = 1;
  std::int64_t timestamp = 0;
  // Position (in requests, any origin, increasing) of the next request for the same object, or
  // kNoNextAccess; only formats that carry it (oracleGeneral) set it, see has_next_access().
  std::int64_t next_access = -1;
};
inline constexpr std::int64_t kNoNextAccess = INT64_MAX;

// kApacheLog: Apache/nginx "common" or "combined" access log; only GET/HEAD answered 200, 203 or
// 304 are cache requests (other lines are filtered, not bad); key = request target; size = the
// logged body size ("-" = 0). Access logs log a 304's size as 0, so callers normally replace each
// object's size with the largest one logged for it (ObjectSizes in simulator.h, as the trace
// decoder of shared/traces/SOURCES.md does).
enum class TraceFormat { kOracleGeneral, kScarab, kCache2k, kAdaptSize, kCsv, kApacheLog };

// "oracle-general", "scarab", "cache2k", "adaptsize", "csv", "apache".
std::optional<TraceFormat> parse_trace_format(std::string_view name);
std::string_view trace_format_name(TraceFormat f);
// Guesses the format from a file name (shared/traces naming: *.oracleGeneral.bin, scarab-*,
// cache2k-*, adaptsize-*, *.csv, *access*.log; an .xz/.zst suffix is ignored). nullopt when unsure.
std::optional<TraceFormat> detect_trace_format(std::string_view path);
// Formats whose files the caller should decompress (xz) before handing the stream over, judged by
// the file name suffix.
bool path_is_xz(std::string_view path);

struct ReadErrors {
  static constexpr size_t kKeptLines = 5;
  std::uint64_t bad = 0;                 // lines / records skipped
  std::vector<std::uint64_t> first_bad;  // 1-based line (text) or record (binary) numbers
  void add(std::uint64_t line) {
    ++bad;
    if (first_bad.size() < kKeptLines) first_bad.push_back(line);
  }
};

class TraceReader {
 public:
  virtual ~TraceReader() = default;
  // Next request; false at the end of the input.
  virtual bool next(Request& out) = 0;
  // Whether Request::next_access is filled in (else it is -1).
  virtual bool has_next_access() const { return false; }
  const ReadErrors& errors() const { return errors_; }
  // Lines (text) or records (binary) consumed so far, including bad ones.
  std::uint64_t position() const { return position_; }
  // Well-formed lines that are not cache requests (access logs: other methods or statuses).
  std::uint64_t filtered() const { return filtered_; }

 protected:
  ReadErrors errors_;
  std::uint64_t position_ = 0;
  std::uint64_t filtered_ = 0;
};

// `in` must outlive the reader.
std::unique_ptr<TraceReader> make_trace_reader(TraceFormat format, std::istream& in);

// Seconds since the Unix epoch of an access-log time "17/May/2015:10:05:03 +0000"; nullopt when
// malformed. Pure arithmetic (proleptic Gregorian calendar), no time zone database.
std::optional<std::int64_t> parse_access_log_time(std::string_view s);

// Object key of an AdaptSize/webcachesim request: objects are (id, size) pairs there. Exact (no
// collisions) for ids below 2^24 and sizes below 2^40, hashed beyond.
std::uint64_t adaptsize_key(std::uint64_t id, std::uint64_t size);

}  // namespace cachefwd::replay
