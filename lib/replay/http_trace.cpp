#include "replay/http_trace.h"

#include <cmath>
#include <cstdio>
#include <iterator>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "http/http_date.h"
#include "metrics/access_log.h"
#include "replay/json.h"

namespace cachefwd::replay {

namespace {
void append_pct(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}
}  // namespace

std::optional<HttpFormat> parse_http_format(std::string_view name) {
  if (name == "har") return HttpFormat::kHar;
  if (name == "log" || name == "common" || name == "combined" || name == "cachefwd" || name == "json")
    return HttpFormat::kLog;
  return std::nullopt;
}

std::string_view http_format_name(HttpFormat f) { return f == HttpFormat::kHar ? "har" : "log"; }

std::optional<HttpFormat> sniff_http_format(std::string_view head) {
  size_t i = 0;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n' ||
          static_cast<unsigned char>(head[i]) == 0xEF || static_cast<unsigned char>(head[i]) == 0xBB ||
          static_cast<unsigned char>(head[i]) == 0xBF))
    ++i;  // whitespace and a UTF-8 byte order mark (some HAR exporters write one)
  const std::string_view rest = head.substr(i);
  const size_t eol = rest.find('\n');
  const std::string_view first = rest.substr(0, eol);
  // A cachefwd JSON log line is a whole object on one line that the log parser accepts; a HAR
  // document is an object whose members include "log" (usually pretty-printed over many lines).
  if (metrics::parse_access_log_line(first)) return HttpFormat::kLog;
  if (!rest.empty() && rest[0] == '{' && rest.substr(0, 4096).find("\"log\"") != std::string_view::npos)
    return HttpFormat::kHar;
  return std::nullopt;
}

std::optional<UnixMillis> parse_iso8601(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) -> std::optional<std::int64_t> {
    if (pos + n > s.size()) return std::nullopt;
    std::int64_t v = 0;
    for (size_t k = pos; k < pos + n; ++k) {
      if (s[k] < '0' || s[k] > '9') return std::nullopt;
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
             se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *se > 60)
    return std::nullopt;
  size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::int64_t scale = 100;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    const auto oh = digits(i + 1, 2);
    if (!oh) return std::nullopt;
    size_t j = i + 3;
    if (j < s.size() && s[j] == ':') ++j;
    const auto om = digits(j, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = sign * (*oh * 60 + *om);
    i = j + 2;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = http::days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  const std::int64_t secs = days * 86400 + *h * 3600 + *mi * 60 + *se - offset_min * 60;
  return secs * 1000 + ms;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      append_pct(out, c);
    }
  }
  return out;
}

std::optional<std::string> embedded_origin_target(const HttpRequest& r) {
  const int status = replay_status(r);
  if (status < 200 || status > 599) return std::nullopt;
  std::string_view u = r.url;
  std::string_view host;
  if (const size_t scheme = u.find("://"); scheme != std::string_view::npos && u.find('/') > scheme) {
    u.remove_prefix(scheme + 3);
    const size_t slash = u.find_first_of("/?#");
    host = u.substr(0, slash);
    u = slash == std::string_view::npos ? std::string_view() : u.substr(slash);
  }
  if (const size_t hash = u.find('#'); hash != std::string_view::npos) u = u.substr(0, hash);
  std::string_view path = u, query;
  if (const size_t q = u.find('?'); q != std::string_view::npos) {
    path = u.substr(0, q);
    query = u.substr(q + 1);
  }
  // Keep the path readable in logs but free of bytes the origin or proxy would reject.
  std::string target = "/r/";
  // Origin-form targets (nginx/Apache logs) have no host: "_" keeps the path shape.
  if (host.empty()) host = "_";
  for (char c : host) target += (c == ':' || c == '@') ? '_' : c;
  for (char c : path) {
    const auto uc = static_cast<unsigned char>(c);
    if (uc <= 0x20 || uc >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
        c == '{' || c == '|' || c == '}')
      append_pct(target, uc);
    else
      target += c;
  }
  if (path.empty() || path[0] != '/') target.insert(3 + host.size(), "/");
  char buf[96];
  std::snprintf(buf, sizeof buf, "?q=%016llx&size=%llu&status=%d",
                static_cast<unsigned long long>(hash64(query)), static_cast<unsigned long long>(r.size),
                status);
  target += buf;
  if (r.has_response_headers) {
    const std::string cc = r.response_headers.combined("Cache-Control");
    if (!cc.empty()) target += "&cc=" + percent_encode(cc);
    if (const auto* exp = r.response_headers.find("Expires")) {
      const auto date_hdr = r.response_headers.find("Date");
      const auto e = http::parse_http_date(*exp);
      const auto d = date_hdr ? http::parse_http_date(*date_hdr) : std::optional<UnixMillis>(r.time);
      // An invalid Expires means "already expired" (RFC 9111 §5.3): -1 s models it.
      const std::int64_t rel = (e && d) ? millis_to_seconds(*e - *d) : -1;
      target += "&expires=" + std::to_string(rel);
    }
  }
  return target;
}

namespace {

bool http_url(std::string_view u) { return istarts_with(u, "http://") || istarts_with(u, "https://"); }

void read_har_headers(const JsonValue* arr, http::Headers& out) {
  if (!arr || !arr->is_array()) return;
  for (const auto& h : arr->array) {
    const auto* n = h.get("name");
    const auto* v = h.get("value");
    if (!n || !v || !n->is_string() || !v->is_string()) continue;
    // HTTP/2 pseudo-headers (":authority") are not fields.
    if (n->string.empty() || n->string[0] == ':') continue;
    out.add(n->string, v->string);
  }
}

class HarReader final : public HttpReader {
 public:
  explicit HarReader(std::istream& in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    JsonError err;
    auto doc = parse_json(body, &err);
    if (!doc) {
      document_error_ = "invalid JSON at line " + std::to_string(err.line) + ": " + err.what;
      errors_.add(err.line);
      return;
    }
    const auto* log = doc->get("log");
    const auto* entries = log ? log->get("entries") : nullptr;
    if (!entries || !entries->is_array()) {
      document_error_ = "no log.entries array";
      errors_.add(1);
      return;
    }
    doc_ = std::move(*doc);
    entries_ = &doc_.get("log")->get("entries")->array;
  }

  bool next(HttpRequest& out) override {
    while (entries_ && index_ < entries_->size()) {
      const JsonValue& e = (*entries_)[index_++];
      position_ = index_;
      if (fill(e, out)) return true;
    }
    return false;
  }

 private:
  JsonValue doc_;
  const std::vector<JsonValue>* entries_ = nullptr;
  size_t index_ = 0;

  bool fill(const JsonValue& e, HttpRequest& out) {
    const auto* req = e.get("request");
    const auto* resp = e.get("response");
    const auto* method = req ? req->get("method") : nullptr;
    const auto* url = req ? req->get("url") : nullptr;
    const auto* status = resp ? resp->get("status") : nullptr;
    const auto* started = e.get("startedDateTime");
    if (!method || !method->is_string() || method->string.empty() || !url || !url->is_string() || !status ||
        !status->is_number() || !started || !started->is_string()) {
      errors_.add(index_);
      return false;
    }
    const auto t = parse_iso8601(started->string);
    if (!t) {
      errors_.add(index_);
      return false;
    }
    // A status or size outside what the cast can hold is undefined behaviour (found by fuzz_har):
    // such entries are not replayable.
    if (!http_url(url->string) || status->number <= 0 || status->number > 999) {
      ++filtered_;
      return false;
    }
    out = HttpRequest{};
    out.method = method->string;
    out.url = url->string;
    out.status = static_cast<int>(status->number);
    out.time = *t;
    out.line = index_;
    read_har_headers(req->get("headers"), out.request_headers);
    read_har_headers(resp->get("headers"), out.response_headers);
    out.has_response_headers = true;
    // The decoded size (content.size) is what an origin sends uncompressed and what byte hit ratio
    // is about; bodySize (bytes on the wire) is 0 or -1 for a response the browser had cached.
    const auto* content = resp->get("content");
    const auto* csize = content ? content->get("size") : nullptr;
    const auto* bsize = resp->get("bodySize");
    auto positive = [](const JsonValue* v) {
      return v && v->is_number() && v->number > 0 && v->number < 1e18;
    };
    if (positive(csize))
      out.size = static_cast<std::uint64_t>(csize->number);
    else if (positive(bsize))
      out.size = static_cast<std::uint64_t>(bsize->number);
    return true;
  }
};

class LogReader final : public HttpReader {
 public:
  explicit LogReader(std::istream& in) : in_(in) {}
  bool next(HttpRequest& out) override {
    while (std::getline(in_, line_)) {
      ++position_;
      std::string_view l = line_;
      while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
      if (l.empty()) continue;
      auto rec = metrics::parse_access_log_line(l);
      if (!rec) {
        errors_.add(position_);
        continue;
      }
      // CONNECT tunnels and "*" targets are not cacheable requests to replay.
      if (rec->method == "CONNECT" || rec->target.empty() || rec->target == "*") {
        ++filtered_;
        continue;
      }
      out = HttpRequest{};
      out.method = std::move(rec->method);
      out.url = std::move(rec->target);
      out.status = rec->status;
      out.size = rec->response_bytes;
      out.time = rec->time;
      out.recorded_cache_status = std::move(rec->cache_status);
      out.line = position_;
      return true;
    }
    return false;
  }

 private:
  std::istream& in_;
  std::string line_;
};

}  // namespace

std::unique_ptr<HttpReader> make_http_reader(HttpFormat format, std::istream& in) {
  if (format == HttpFormat::kHar) return std::make_unique<HarReader>(in);
  return std::make_unique<LogReader>(in);
}

}  // namespace cachefwd::replay
