#pragma once
// One upstream fetch and the clients it answers. The client that caused it is the first
// subscriber; while the response may still be stored, later requests for the same key join it
// (request coalescing) and stream the body as it arrives, each at its own pace, instead of
// fetching it again. A response that turns out not storable is streamed to its first subscriber
// only; the others are released to go upstream themselves, and the key is remembered as
// uncacheable for a while (hit-for-miss) so that later requests do not queue behind it.
//
// It also revalidates: with a stale entry in the plan, the request carries our validators, a 304
// refreshes the entry (RFC 9111 §4.3.3, §4.3.4) and an error may be answered with the stale entry
// (RFC 5861 stale-if-error).
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "cache/key/key_policy.h"
#include "cache/policy/config.h"
#include "http/request.h"
#include "cache/store/store.h"
#include "cache/store/stored_response.h"
#include "http/headers.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

class ClientConnection;
class Server;
class UpstreamExchange;

struct FetchPlan {
  std::string key;              // where the response is stored; empty = never store it
  std::string fwd;              // RFC 9211 fwd= value for the first subscriber
  std::string detail;           // why storing was ruled out before the fetch, if it was
  std::string method;           // the client's method
  http::Headers request_headers;  // the client's fields, for storability (§3, §3.5) and Vary
  cache::policy::PolicyConfig policy;
  std::uint64_t max_object_size = 0;
  std::shared_ptr<const cache::StoredResponse> stale;  // the entry being revalidated, if any
  bool background = false;       // stale-while-revalidate refresh: runs with no subscriber
  bool coalesce = false;         // registered as the in-flight fetch for `key`
  UnixMillis request_time = 0;
  cache::store::PartitionId partition = cache::store::kDefaultPartition;
  // Unsafe methods: on a 2xx/3xx answer, drop what is stored for this target (and same-origin
  // Location / Content-Location), RFC 9111 §4.4.
  std::optional<http::TargetUri> invalidate_target;
  cache::key::KeyPolicy invalidate_key_policy;
};

struct Subscription {
  UpstreamExchange* exchange = nullptr;
  ClientConnection* conn = nullptr;
  bool first = false;        // the request that started the fetch
  bool head_only = false;    // HEAD
  bool head_sent = false;
  bool chunked = false;      // re-framed with chunked coding for this client
  bool close_delimited = false;
  bool finished = false;
  std::uint64_t sent = 0;    // body bytes handed to this client
};

class UpstreamExchange : public upstream::FetchHandler {
 public:
  UpstreamExchange(Server& server, FetchPlan plan);
  ~UpstreamExchange() override;

  void start(upstream::FetchRequest request);
  Subscription* subscribe(ClientConnection* conn, bool head_only, bool first);
  // The client went away (or no longer wants the response).
  void unsubscribe(Subscription* sub);
  // The client can take more bytes.
  void pump(Subscription* sub);
  // Whether a new request for the same key may still join this fetch.
  bool joinable() const { return !failed_ && (!head_known_ || storing_) && !plan_.stale; }
  const std::string& key() const { return plan_.key; }
  const cache::StoredResponse* stale_entry() const { return plan_.stale.get(); }

  void on_response_head(int status, http::Headers headers) override;
  BodyAction on_body(std::string_view chunk) override;
  void on_complete() override;
  void on_error(upstream::FetchError kind, std::string_view message) override;

 private:
  void pump(Subscription& sub);
  void send_head(Subscription& sub);
  void finish_subscription(Subscription& sub);
  void serve_entry_to_all(const std::shared_ptr<const cache::StoredResponse>& entry, std::string_view cache_status);
  void release_joiners(std::string_view detail);
  bool stale_if_error_allowed() const;
  void trim_buffer();
  void stop_storing();
  void maybe_retire();
  void leave_inflight();
  std::shared_ptr<cache::StoredResponse> build_entry();
  static void on_coalesce_timeout(uv_timer_t* t);

  Server& server_;
  FetchPlan plan_;
  upstream::Fetch* fetch_ = nullptr;
  std::vector<std::unique_ptr<Subscription>> subs_;
  bool fetch_done_ = false;
  bool head_known_ = false;
  bool complete_ = false;
  bool failed_ = false;
  bool storing_ = false;
  bool stored_ = false;  // the whole response went into the store
  bool paused_ = false;
  bool retired_ = false;
  bool in_inflight_ = false;
  int status_ = 0;
  std::int64_t content_length_ = -1;
  bool no_body_ = false;
  std::string head_fields_;  // status line + fields as forwarded, without framing/connection fields
  std::string cache_status_detail_;
  http::Headers headers_;    // as forwarded (and stored)
  std::string body_;         // body bytes from body_base_ on (all of them while storing)
  std::uint64_t body_base_ = 0;
  std::uint64_t body_total_ = 0;
  UnixMillis response_time_ = 0;
  std::int64_t lifetime_ms_ = 0;
  std::int64_t initial_age_ms_ = 0;  // RFC 9111 §4.2.3 corrected_initial_age, from the upstream's fields
  uv_timer_t* coalesce_timer_ = nullptr;
  upstream::FetchRequest request_copy_;  // the conditional request, to repeat unconditionally
};

// The stored head: status line and fields, each CRLF-terminated, without Age (generated per
// response, RFC 9111 §5.1) and with the Content-Length of the stored body.
std::string serialize_stored_head(int status, const http::Headers& headers, std::size_t body_size);

}  // namespace cachefwd::proxy
