#include "replay/trace_reader.h"

#include "base/time.h"
#include "metrics/access_log_reader.h"

#include <array>
#include <cstring>

#include "base/hash.h"
#include "base/strings.h"

namespace cachefwd::replay {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Buffered binary reading: istream::read per record is too slow for tens of millions of records.
class ByteSource {
 public:
  explicit ByteSource(std::istream& in) : in_(in) {}
  // Points `out` at the next `n` bytes; returns how many are available (< n only at the end).
  size_t take(size_t n, const unsigned char*& out) {
    if (end_ - pos_ < n) refill();
    const size_t got = std::min(n, end_ - pos_);
    out = buf_.data() + pos_;
    pos_ += got;
    return got;
  }

 private:
  void refill() {
    const size_t left = end_ - pos_;
    std::memmove(buf_.data(), buf_.data() + pos_, left);
    pos_ = 0;
    end_ = left;
    while (end_ < buf_.size() && in_) {
      in_.read(reinterpret_cast<char*>(buf_.data() + end_), static_cast<std::streamsize>(buf_.size() - end_));
      end_ += static_cast<size_t>(in_.gcount());
    }
  }
  std::istream& in_;
  std::array<unsigned char, 1 << 16> buf_{};
  size_t pos_ = 0, end_ = 0;
};

template <class T>
T load_le(const unsigned char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}
template <class T>
T load_be(const unsigned char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p[i]);
  return v;
}

// libCacheSim oracleGeneral: packed little-endian {u32 clock_time; u64 obj_id; u32 obj_size;
// i64 next_access_vtime}, next_access_vtime -1 = never again.
class OracleGeneralReader final : public TraceReader {
 public:
  explicit OracleGeneralReader(std::istream& in) : src_(in) {}
  bool has_next_access() const override { return true; }
  bool next(Request& out) override {
    const unsigned char* p = nullptr;
    const size_t got = src_.take(24, p);
    if (got == 0) return false;
    ++position_;
    if (got < 24) {  // truncated tail
      errors_.add(position_);
      return false;
    }
    out.timestamp = load_le<std::uint32_t>(p);
    out.key = load_le<std::uint64_t>(p + 4);
    out.text_key = {};
    out.size = load_le<std::uint32_t>(p + 12);
    const auto next = static_cast<std::int64_t>(load_le<std::uint64_t>(p + 16));
    out.next_access = next < 0 ? kNoNextAccess : next;
    return true;
  }

 private:
  ByteSource src_;
};

// Caffeine's scarab (big-endian int64 keys) and cache2k (big-endian int32 keys) traces: keys only.
template <size_t N>
class BigEndianKeyReader final : public TraceReader {
 public:
  explicit BigEndianKeyReader(std::istream& in) : src_(in) {}
  bool next(Request& out) override {
    const unsigned char* p = nullptr;
    const size_t got = src_.take(N, p);
    if (got == 0) return false;
    ++position_;
    if (got < N) {
      errors_.add(position_);
      return false;
    }
    // Sign-extend 32-bit keys as Java's readInt does, so keys equal Caffeine's.
    out.key = N == 8 ? load_be<std::uint64_t>(p)
                     : static_cast<std::uint64_t>(
                           static_cast<std::int64_t>(static_cast<std::int32_t>(load_be<std::uint32_t>(p))));
    out.text_key = {};
    out.size = 1;
    out.timestamp = static_cast<std::int64_t>(position_);
    out.next_access = -1;
    return true;
  }

 private:
  ByteSource src_;
};

class LineReader : public TraceReader {
 protected:
  explicit LineReader(std::istream& in) : in_(in) {}
  // Next non-blank, non-comment line; false at the end.
  bool next_line(std::string_view& line) {
    while (std::getline(in_, line_)) {
      ++position_;
      std::string_view l = line_;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      l = trim_ows(l);
      if (l.empty() || l.front() == '#') continue;
      line = l;
      return true;
    }
    return false;
  }
  std::istream& in_;
  std::string line_;
};

// Splits on runs of spaces/tabs.
size_t split_ws(std::string_view line, std::string_view* fields, size_t max) {
  size_t n = 0;
  size_t i = 0;
  while (i < line.size() && n < max + 1) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (n < max) fields[n] = line.substr(i, j - i);
    ++n;
    i = j;
  }
  return n;
}

// webcachesim / AdaptSize request traces: "time id size" per line.
class AdaptSizeReader final : public LineReader {
 public:
  explicit AdaptSizeReader(std::istream& in) : LineReader(in) {}
  bool next(Request& out) override {
    std::string_view line;
    while (next_line(line)) {
      std::string_view f[3];
      if (split_ws(line, f, 3) != 3) {
        errors_.add(position_);
        continue;
      }
      auto t = parse_decimal(f[0]);
      auto id = parse_decimal(f[1]);
      auto size = parse_decimal(f[2]);
      if (!t || !id || !size) {
        errors_.add(position_);
        continue;
      }
      out.timestamp = *t;
      out.key = adaptsize_key(static_cast<std::uint64_t>(*id), static_cast<std::uint64_t>(*size));
      out.text_key = {};
      out.size = static_cast<std::uint64_t>(*size);
      out.next_access = -1;
      return true;
    }
    return false;
  }
};

// "timestamp,key,size[,ttl]"; a first line whose timestamp is not a number is a header.
class CsvReader final : public LineReader {
 public:
  explicit CsvReader(std::istream& in) : LineReader(in) {}
  bool next(Request& out) override {
    std::string_view line;
    while (next_line(line)) {
      std::string_view f[4];
      size_t n = 0;
      size_t start = 0;
      for (;;) {
        const size_t comma = line.find(',', start);
        const std::string_view field =
            trim_ows(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (n < 4) f[n] = field;
        ++n;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      auto t = n >= 3 && n <= 4 ? parse_decimal(f[0]) : std::nullopt;
      if (!t && !seen_record_ && looks_like_header(f[0])) {
        seen_record_ = true;  // only the first line may be a header
        continue;
      }
      seen_record_ = true;
      auto size = t ? parse_decimal(f[2]) : std::nullopt;
      if (!t || !size || f[1].empty() || (n == 4 && !f[3].empty() && !parse_decimal(f[3]))) {
        errors_.add(position_);
        continue;
      }
      key_.assign(f[1]);
      out.timestamp = *t;
      out.text_key = key_;
      out.key = hash64(key_);
      out.size = static_cast<std::uint64_t>(*size);
      out.next_access = -1;
      return true;
    }
    return false;
  }

 private:
  static bool looks_like_header(std::string_view first) {
    return !first.empty() && ((first[0] >= 'a' && first[0] <= 'z') || (first[0] >= 'A' && first[0] <= 'Z'));
  }
  bool seen_record_ = false;
  std::string key_;
};

// Apache "common"/"combined": host ident user [time] "request" status bytes ["referer" "agent"].
class ApacheLogReader final : public LineReader {
 public:
  explicit ApacheLogReader(std::istream& in) : LineReader(in) {}
  bool next(Request& out) override {
    std::string_view line;
    while (next_line(line)) {
      // The same line grammar as the HTTP replay's log reader (metrics::parse_access_log_line),
      // so both agree on what a valid line is.
      auto rec = metrics::parse_access_log_line(line);
      if (!rec) {
        errors_.add(position_);
        continue;
      }
      const int status = rec->status;
      const bool cacheable_method =
          !rec->http_version.empty() && (rec->method == "GET" || rec->method == "HEAD");
      if (!cacheable_method || (status != 200 && status != 203 && status != 304)) {
        ++filtered_;
        continue;
      }
      key_.assign(rec->target);
      out.timestamp = millis_to_seconds(rec->time);
      out.text_key = key_;
      out.key = hash64(key_);
      out.size = rec->response_bytes;
      out.next_access = -1;
      return true;
    }
    return false;
  }

 private:
  std::string key_;
};

}  // namespace

std::optional<std::int64_t> parse_access_log_time(std::string_view s) {
  const auto ms = metrics::parse_clf_time(s);
  if (!ms) return std::nullopt;
  return millis_to_seconds(*ms);
}

std::optional<TraceFormat> parse_trace_format(std::string_view name) {
  if (name == "oracle-general" || name == "oraclegeneral") return TraceFormat::kOracleGeneral;
  if (name == "scarab") return TraceFormat::kScarab;
  if (name == "cache2k") return TraceFormat::kCache2k;
  if (name == "adaptsize") return TraceFormat::kAdaptSize;
  if (name == "csv") return TraceFormat::kCsv;
  if (name == "apache") return TraceFormat::kApacheLog;
  return std::nullopt;
}

std::string_view trace_format_name(TraceFormat f) {
  switch (f) {
    case TraceFormat::kOracleGeneral:
      return "oracle-general";
    case TraceFormat::kScarab:
      return "scarab";
    case TraceFormat::kCache2k:
      return "cache2k";
    case TraceFormat::kAdaptSize:
      return "adaptsize";
    case TraceFormat::kCsv:
      return "csv";
    case TraceFormat::kApacheLog:
      return "apache";
  }
  return "?";
}

bool path_is_xz(std::string_view path) { return ends_with(path, ".xz"); }

std::optional<TraceFormat> detect_trace_format(std::string_view path) {
  std::string p = to_lower(path);
  if (const size_t slash = p.rfind('/'); slash != std::string::npos) p.erase(0, slash + 1);
  for (std::string_view suffix : {".xz", ".zst", ".gz"}) {
    if (ends_with(p, suffix)) p.resize(p.size() - suffix.size());
  }
  if (ends_with(p, ".oraclegeneral.bin") || ends_with(p, ".oraclegeneral"))
    return TraceFormat::kOracleGeneral;
  if (ends_with(p, ".csv")) return TraceFormat::kCsv;
  if (p.find("scarab") != std::string::npos) return TraceFormat::kScarab;
  if (p.find("cache2k") != std::string::npos) return TraceFormat::kCache2k;
  if (p.find("adaptsize") != std::string::npos || p.find("adapt_size") != std::string::npos) {
    return TraceFormat::kAdaptSize;
  }
  if (ends_with(p, ".log") && p.find("access") != std::string::npos) return TraceFormat::kApacheLog;
  return std::nullopt;
}

std::unique_ptr<TraceReader> make_trace_reader(TraceFormat format, std::istream& in) {
  switch (format) {
    case TraceFormat::kOracleGeneral:
      return std::make_unique<OracleGeneralReader>(in);
    case TraceFormat::kScarab:
      return std::make_unique<BigEndianKeyReader<8>>(in);
    case TraceFormat::kCache2k:
      return std::make_unique<BigEndianKeyReader<4>>(in);
    case TraceFormat::kAdaptSize:
      return std::make_unique<AdaptSizeReader>(in);
    case TraceFormat::kCsv:
      return std::make_unique<CsvReader>(in);
    case TraceFormat::kApacheLog:
      return std::make_unique<ApacheLogReader>(in);
  }
  return nullptr;
}

std::uint64_t adaptsize_key(std::uint64_t id, std::uint64_t size) {
  if (id < (1ULL << 24) && size < (1ULL << 40)) return (id << 40) | size;
  return mix64(id ^ mix64(size + 0x9e3779b97f4a7c15ULL)) | (1ULL << 63);
}

}  // namespace cachefwd::replay
