#include "replay/http_trace.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "http/http_date.h"
#include "metrics/access_log_reader.h"

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

std::optional<UnixMillis> parse_iso8601(std::string_view s) { return metrics::parse_iso8601(s); }

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

bool replayed_request_field(std::string_view name) {
  for (const char* n :
       {"cache-control", "pragma", "authorization", "accept", "accept-language", "user-agent"}) {
    if (iequals(name, n)) return true;
  }
  return false;
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
    // What makes a cache decide differently: validators (the origin then answers a matching
    // conditional with 304), Vary and Set-Cookie. Their values are the origin's own.
    if (r.response_headers.has("ETag")) target += "&etag=1";
    if (const auto* lm = r.response_headers.find("Last-Modified")) {
      if (const auto t = http::parse_http_date(*lm); t && *t >= 2000)
        target += "&last-modified=" + std::to_string(*t / 1000);
    }
    if (const std::string vary = r.response_headers.combined("Vary"); !vary.empty())
      target += "&vary=" + percent_encode(vary);
    if (r.response_headers.has("Set-Cookie")) target += "&set-cookie=1";
  }
  return target;
}

namespace {

bool http_url(std::string_view u) { return istarts_with(u, "http://") || istarts_with(u, "https://"); }

using Json = nlohmann::json;

// Member `name` of an object, or nullptr (also when `v` is not an object).
const Json* member(const Json& v, const char* name) {
  if (!v.is_object()) return nullptr;
  const auto it = v.find(name);
  return it == v.end() ? nullptr : &*it;
}

void read_har_headers(const Json* arr, http::Headers& out) {
  if (!arr || !arr->is_array()) return;
  for (const auto& h : *arr) {
    const auto* n = member(h, "name");
    const auto* v = member(h, "value");
    if (!n || !v || !n->is_string() || !v->is_string()) continue;
    const auto& name = n->get_ref<const std::string&>();
    // HTTP/2 pseudo-headers (":authority") are not fields.
    if (name.empty() || name[0] == ':') continue;
    out.add(name, v->get_ref<const std::string&>());
  }
}

// nlohmann's parse_error says "[json.exception.parse_error.101] parse error at line 3, column 2:
// syntax error ..."; we report the line ourselves and keep the part after the position.
std::string describe_parse_error(const Json::parse_error& e) {
  std::string what = e.what();
  const auto column = what.find(", column ");
  const auto colon = column == std::string::npos ? what.find("] ") : what.find(": ", column);
  if (colon != std::string::npos) what = what.substr(colon + 2);
  return what;
}

// Any other nlohmann exception: the text after its "[json.exception.NAME.ID] " tag.
std::string describe_exception(const Json::exception& e) {
  std::string what = e.what();
  if (const auto tag = what.find("] "); tag != std::string::npos) what = what.substr(tag + 2);
  return what;
}

class HarReader final : public HttpReader {
 public:
  explicit HarReader(std::istream& in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    try {
      doc_ = Json::parse(body);
    } catch (const Json::parse_error& e) {
      // e.byte is 1-based; the line is that of the offending character.
      const size_t upto = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, body.size());
      const std::uint64_t line =
          1 + static_cast<std::uint64_t>(std::count(body.begin(), body.begin() + upto, '\n'));
      document_error_ = "invalid JSON at line " + std::to_string(line) + ": " + describe_parse_error(e);
      errors_.add(line);
      return;
    } catch (const Json::exception& e) {
      // Not a syntax error but a value nlohmann cannot hold (out_of_range.406: a number such as
      // 1e999 that overflows a double): the document is still unusable, and says why.
      document_error_ = std::string("invalid JSON: ") + describe_exception(e);
      errors_.add(1);
      return;
    }
    const auto* log = member(doc_, "log");
    const auto* entries = log ? member(*log, "entries") : nullptr;
    if (!entries || !entries->is_array()) {
      document_error_ = "not a HAR file: no log.entries array";
      errors_.add(1);
      return;
    }
    entries_ = entries;
  }

  bool next(HttpRequest& out) override {
    while (entries_ && index_ < entries_->size()) {
      const Json& e = (*entries_)[index_++];
      position_ = index_;
      if (fill(e, out)) return true;
    }
    return false;
  }

 private:
  Json doc_;
  const Json* entries_ = nullptr;
  size_t index_ = 0;

  bool fill(const Json& e, HttpRequest& out) {
    const auto* req = member(e, "request");
    const auto* resp = member(e, "response");
    const auto* method = req ? member(*req, "method") : nullptr;
    const auto* url = req ? member(*req, "url") : nullptr;
    const auto* status = resp ? member(*resp, "status") : nullptr;
    const auto* started = member(e, "startedDateTime");
    if (!method || !method->is_string() || method->get_ref<const std::string&>().empty() || !url ||
        !url->is_string() || !status || !status->is_number() || !started || !started->is_string()) {
      errors_.add(index_);
      return false;
    }
    const auto t = parse_iso8601(started->get_ref<const std::string&>());
    if (!t) {
      errors_.add(index_);
      return false;
    }
    const double status_value = status->get<double>();
    if (!http_url(url->get_ref<const std::string&>()) || status_value <= 0 || status_value > 999) {
      ++filtered_;
      return false;
    }
    out = HttpRequest{};
    out.method = method->get<std::string>();
    out.url = url->get<std::string>();
    out.status = static_cast<int>(status_value);
    out.time = *t;
    out.line = index_;
    read_har_headers(member(*req, "headers"), out.request_headers);
    read_har_headers(member(*resp, "headers"), out.response_headers);
    out.has_response_headers = true;
    // The decoded size (content.size) is what an origin sends uncompressed and what byte hit ratio
    // is about; bodySize (bytes on the wire) is 0 or -1 for a response the browser had cached.
    const auto* content = member(*resp, "content");
    const auto* csize = content ? member(*content, "size") : nullptr;
    const auto* bsize = member(*resp, "bodySize");
    auto positive = [](const Json* v) {
      return v && v->is_number() && v->get<double>() > 0 && v->get<double>() < 1e18;
    };
    if (positive(csize))
      out.size = static_cast<std::uint64_t>(csize->get<double>());
    else if (positive(bsize))
      out.size = static_cast<std::uint64_t>(bsize->get<double>());
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
