#include "cache/policy/validation.h"

#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "http/cache_control.h"
#include "http/etag.h"
#include "http/http_date.h"

namespace cachefwd::cache::policy {

namespace {

std::optional<http::EntityTag> etag_of(const http::Headers& h) {
  const std::string* v = h.find("ETag");
  return v ? http::parse_entity_tag(*v) : std::nullopt;
}

std::optional<UnixMillis> date_field(const http::Headers& h, std::string_view name) {
  const std::string* v = h.find(name);
  return v ? http::parse_http_date(*v) : std::nullopt;
}

bool precondition_304(const http::Headers& request, const http::Headers& stored, int stored_status,
                      std::optional<UnixMillis> stored_response_time) {
  if (stored_status != 200 && stored_status != 206) return false;
  if (request.has("If-None-Match")) {
    const http::EntityTagList list = http::parse_entity_tag_list(request.combined("If-None-Match"));
    if (list.any) return true;  // a current representation exists: the one stored
    const auto current = etag_of(stored);
    return current && http::list_weak_matches(list, *current);
  }
  if (request.count("If-Modified-Since") != 1) return false;
  const auto since = http::parse_http_date(*request.find("If-Modified-Since"));
  if (!since) return false;
  std::optional<UnixMillis> modified = date_field(stored, "Last-Modified");
  if (!modified) modified = date_field(stored, "Date");
  if (!modified) modified = stored_response_time;
  return modified && *modified <= *since;
}

// §3.1: the fields of `response` a cache does not store.
class UnstorableFields {
 public:
  UnstorableFields(const http::Headers& response, bool shared) {
    for (const http::Header& f : response.fields())
      if (iequals(f.name, "Connection"))
        http::for_each_list_element(f.value, [&](std::string_view e) { listed_.emplace_back(e); });
    if (shared) {
      const http::CacheControl cc = http::parse_cache_control(response);
      listed_.insert(listed_.end(), cc.private_fields.begin(), cc.private_fields.end());
    }
  }
  bool operator()(std::string_view name) const {
    static constexpr std::string_view kFixed[] = {"connection",
                                                  "keep-alive",
                                                  "proxy-connection",
                                                  "te",
                                                  "trailer",
                                                  "transfer-encoding",
                                                  "upgrade",
                                                  "proxy-authenticate",
                                                  "proxy-authentication-info",
                                                  "proxy-authorization"};
    for (std::string_view n : kFixed)
      if (iequals(name, n)) return true;
    for (const std::string& n : listed_)
      if (iequals(name, n)) return true;
    return false;
  }

 private:
  std::vector<std::string> listed_;
};

bool strong_last_modified(const http::Headers& stored, UnixMillis last_modified) {
  const auto date = date_field(stored, "Date");
  return date && *date - last_modified >= 60'000;
}

void update_headers(http::Headers& stored, const http::Headers& fresh, bool shared) {
  const UnstorableFields unstorable(fresh, shared);
  auto skip = [&](std::string_view name) {
    return unstorable(name) || iequals(name, "Content-Length") || iequals(name, "Content-Range");
  };

  // Remove every stored field that the fresh response replaces, then append the fresh lines in
  // their order: several lines of one name stay together and ordered.
  std::vector<std::string_view> replaced;
  for (const http::Header& f : fresh.fields()) {
    if (skip(f.name)) continue;
    bool seen = false;
    for (std::string_view r : replaced) seen = seen || iequals(r, f.name);
    if (!seen) {
      replaced.push_back(f.name);
      stored.remove(f.name);
    }
  }
  for (const http::Header& f : fresh.fields())
    if (!skip(f.name)) stored.add(f.name, f.value);
}

}  // namespace

http::Headers conditional_request_headers(const http::Headers& stored_response) {
  http::Headers out;
  if (const std::string* etag = stored_response.find("ETag"))
    if (http::parse_entity_tag(*etag)) out.add("If-None-Match", trim_ows(*etag));
  if (auto lm = date_field(stored_response, "Last-Modified"))
    out.add("If-Modified-Since", http::format_http_date(*lm));
  return out;
}

bool client_precondition_304(const http::Headers& request, const http::Headers& stored_response,
                             int stored_status) {
  return precondition_304(request, stored_response, stored_status, std::nullopt);
}

bool client_precondition_304(const http::Headers& request, const http::Headers& stored_response,
                             int stored_status, UnixMillis stored_response_time) {
  return precondition_304(request, stored_response, stored_status, stored_response_time);
}

std::string forwarded_if_none_match(const http::Headers& request, const http::Headers& stored_response) {
  const auto stored_etag = etag_of(stored_response);
  if (!request.has("If-None-Match"))
    return stored_etag ? std::string(trim_ows(*stored_response.find("ETag"))) : std::string();
  std::string client = request.combined("If-None-Match");
  if (!stored_etag) return client;
  const http::EntityTagList list = http::parse_entity_tag_list(client);
  if (http::list_weak_matches(list, *stored_etag)) return client;
  if (!trim_ows(client).empty()) client += ", ";
  client += (stored_etag->weak ? "W/" : "") + stored_etag->opaque;
  return client;
}

http::Headers not_modified_response_headers(const http::Headers& stored_response) {
  const bool has_etag = stored_response.has("ETag");
  http::Headers out;
  for (const http::Header& f : stored_response.fields()) {
    const std::string_view n = f.name;
    if (iequals(n, "Cache-Control") || iequals(n, "Content-Location") || iequals(n, "Date") ||
        iequals(n, "ETag") || iequals(n, "Expires") || iequals(n, "Vary") ||
        (!has_etag && iequals(n, "Last-Modified")))
      out.add(f.name, f.value);
  }
  return out;
}

void update_stored_headers(http::Headers& stored, const http::Headers& fresh) {
  update_headers(stored, fresh, true);
}

void update_stored_headers(http::Headers& stored, const http::Headers& fresh, const PolicyConfig& cfg) {
  if (!cfg.shared || cfg.store_set_cookie || !fresh.has("Set-Cookie")) {
    update_headers(stored, fresh, cfg.shared);
    return;
  }
  http::Headers without = fresh;
  without.remove("Set-Cookie");
  update_headers(stored, without, cfg.shared);
}

bool not_modified_selects(const http::Headers& stored, const http::Headers& resp_304) {
  const auto new_etag = etag_of(resp_304);
  const auto new_lm = date_field(resp_304, "Last-Modified");
  const auto old_etag = etag_of(stored);
  const auto old_lm = date_field(stored, "Last-Modified");
  const bool same_lm = new_lm && old_lm && *new_lm == *old_lm;
  if (!new_etag && resp_304.has("ETag")) return false;  // a validator we cannot read matches nothing
  if (new_etag) {
    if (!new_etag->weak) {
      if (old_etag) return http::strong_match(*new_etag, *old_etag);
      return same_lm && strong_last_modified(stored, *old_lm);
    }
    if (old_etag) return http::weak_match(*new_etag, *old_etag);
    return same_lm;
  }
  if (new_lm) return same_lm;
  return !stored.has("ETag") && !stored.has("Last-Modified");
}

bool not_modified_selects_validated(const http::Headers& stored, const http::Headers& resp_304) {
  const auto new_etag = etag_of(resp_304);
  if (!new_etag && resp_304.has("ETag")) return false;
  const auto old_etag = etag_of(stored);
  if (new_etag && old_etag) return http::weak_match(*new_etag, *old_etag);
  const auto new_lm = date_field(resp_304, "Last-Modified");
  const auto old_lm = date_field(stored, "Last-Modified");
  if (new_lm && old_lm) return *new_lm == *old_lm;
  return true;
}

bool head_response_freshens(const http::Headers& stored, const http::Headers& head_response,
                            std::uint64_t stored_body_size) {
  bool any = false;
  if (const std::string* e = head_response.find("ETag")) {
    const auto given = http::parse_entity_tag(*e);
    const auto current = etag_of(stored);
    if (!given || !current || given->weak != current->weak || given->opaque != current->opaque) return false;
    any = true;
  }
  if (head_response.has("Last-Modified")) {
    const auto given = date_field(head_response, "Last-Modified");
    const auto current = date_field(stored, "Last-Modified");
    if (!given || !current || *given != *current) return false;
    any = true;
  }
  if (!any) return false;
  if (const std::string* cl = head_response.find("Content-Length")) {
    const auto n = parse_decimal(trim_ows(*cl));
    if (!n || static_cast<std::uint64_t>(*n) != stored_body_size) return false;
  }
  return true;
}

void remove_unstorable_fields(http::Headers& response, bool shared) {
  const UnstorableFields unstorable(response, shared);
  std::erase_if(response.fields(), [&](const http::Header& f) { return unstorable(f.name); });
}

}  // namespace cachefwd::cache::policy
