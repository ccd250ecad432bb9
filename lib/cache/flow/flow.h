#pragma once
// The cache flow: what happens to one request, decided in one place, for `serve` and for
// `replay --simulate` alike. Pure: no I/O, no clock (every event carries `now`). See README.md.
//
// Two kinds of state live here:
//  - per request, a Txn owned by the caller (the proxy's transaction, the simulator's loop);
//  - per cache, a Cache: the store, the fills in progress (one upstream response being received,
//    with the requests waiting on it), the in-flight map used for coalescing and the hit-for-miss
//    memory.
// The caller executes the actions the flow returns (serve an entry, start a fetch, ...) and feeds
// the results back as events (lookup result, response head, body size, complete, error, timer).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/time.h"
#include "cache/key/key_policy.h"
#include "cache/policy/config.h"
#include "cache/policy/storability.h"
#include "cache/store/store.h"
#include "cache/store/stored_response.h"
#include "http/headers.h"
#include "http/request.h"

namespace cachefwd::cache::flow {

using Entry = std::shared_ptr<const StoredResponse>;
using FillId = std::uint64_t;  // 0 = none
using Waiter = std::uint64_t;  // the caller's name for a request waiting on a fill

// Where a request is (Pingora's CachePhase, Varnish's request steps).
enum class Phase : std::uint8_t {
  start,           // begin() not called yet
  lookup_pending,  // the store missed; a second tier has been asked (lookup_done() continues)
  served,          // answered from the store (fresh, stale-while-revalidate) or by the flow (504)
  joined,          // waits on another request's fill
  fetching,        // its own fill is under way
  done,            // the outcome is known
};
std::string_view to_string(Phase p) noexcept;

// How a request was answered: one per request, counted by serve and the simulator under the
// same names (the "outcomes" object of `replay --json`).
enum class Outcome : std::uint8_t {
  none,                    // not finished
  hit,                     // fresh (or stale within the client's max-stale) from the store
  stale_while_revalidate,  // stale from the store, refreshed in the background (RFC 5861 §3)
  stale_if_error,          // stale from the store because the upstream failed (RFC 5861 §4)
  revalidated,             // a 304 freshened the stored response, which was served (§4.3.3)
  expired,                 // a stored response needed validation; a full response replaced it
  miss,                    // nothing usable stored; the response was fetched and stored
  coalesced,               // joined another request's fetch and was served from it
  not_stored,              // fetched, not stored (Reason says why)
  bypass,                  // not looked up: the method or a rule says so
  only_if_cached,          // 504: only-if-cached and nothing usable stored (§5.2.1.7)
  error,                   // the upstream failed and nothing stale could be served
};
std::string_view to_string(Outcome o) noexcept;
inline constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::error) + 1;

// Why a response was not cached (or a request not served from a shared fill). The first group
// is cache::policy::NotStored (storability, RFC 9111 §3); the rest are the flow's own.
enum class Reason : std::uint8_t {
  none,
  method,
  status,
  no_store,
  private_,
  authorization,
  no_freshness,
  set_cookie,
  vary_star,
  partial,
  too_large,
  incomplete,
  rule,              // a rule turned caching off
  range,             // a Range miss is forwarded as it is and never stored (§3.3)
  head,              // a HEAD miss has no body to store
  coalesce_timeout,  // the fill this request joined did not answer in time
  vary_miss,         // the fill this request joined is another variant
  not_stored,        // the fill this request joined turned out not storable
  upstream_error,
};
// The Cache-Status detail token: "no-store", "too-large", "coalesce-timeout", ...
std::string_view to_string(Reason r) noexcept;
Reason from_not_stored(policy::NotStored r) noexcept;
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::upstream_error) + 1;

// The key of the "outcomes" object: to_string(outcome), and "not-stored:<reason>" for not_stored.
std::string outcome_label(Outcome o, Reason r);
// The same label read back from a response's Cache-Status field (live replay classifies the
// proxy's answers with it). "unknown" when the field is not cachefwd's.
std::string outcome_label_from_cache_status(std::string_view cache_status);

struct FlowConfig {
  bool cache_enabled = true;
  bool coalesce = true;
  std::int64_t coalesce_timeout_ms = 5'000;  // how long joiners wait for the response head
  std::int64_t hit_for_miss_ms = 30'000;     // an uncacheable key skips coalescing this long
  std::uint64_t max_object_size = 16ULL << 20;
  std::string via_name = "cachefwd";  // the Via pseudonym added to forwarded responses
  // A store miss asks a second tier (Phase::lookup_pending) before anything goes upstream.
  bool second_tier = false;
};

// One request. The caller fills the first block and keeps `headers` and `policy` alive while the
// request runs; the flow writes the rest.
struct Txn {
  Waiter id = 0;
  std::string method;
  const http::Headers* headers = nullptr;
  std::string key;  // the primary key (cache/key build_key); empty: not cacheable
  const policy::PolicyConfig* policy = nullptr;
  store::PartitionId partition = store::kDefaultPartition;
  bool lookup = false;  // the rule and the method allow answering from the store
  // Not looked up although the method could be: a rule or --no-cache said so (fwd=bypass,
  // detail=rule); otherwise an unlooked-up request is fwd=method.
  bool rule_bypass = false;
  // Set for unsafe methods: a 2xx/3xx answer invalidates this target (§4.4).
  std::optional<http::TargetUri> target;
  // A POST that is not looked up: the key a GET of `target` would use. A response the origin marks
  // as the GET answer (RFC 9110 §9.3.3: explicit freshness, Content-Location = target) is stored
  // there. Empty: never.
  std::string get_key;

  Phase phase = Phase::start;
  Outcome outcome = Outcome::none;
  Reason reason = Reason::none;
  FillId fill = 0;
};

// What the caller does next for a request.
struct Action {
  enum class Kind : std::uint8_t {
    serve,                    // write `entry` (deliver() says how), Cache-Status `cache_status`
    serve_stale_and_refresh,  // serve `entry` now; if `fill` != 0 also start it (conditional on entry)
    lookup,                   // ask the second tier for `txn.key`; call lookup_done() with the answer
    join,                     // wait on `fill`: its head and body will answer this request too
    fetch,                    // start `fill` upstream (conditional on `entry` when set)
    answer,                   // answer `status` with a short text `detail`, Cache-Status `cache_status`
  };
  Kind kind = Kind::answer;
  Entry entry;
  std::string cache_status;
  FillId fill = 0;
  bool store = false;      // fetch: the response may be stored and shared: ask for all of it
  bool arm_timer = false;  // fetch: arm the coalescing timer (coalesce_timeout_ms), then on_timer()
  int status = 0;
  std::string_view detail;
};

// What the response head of a fill means.
struct HeadVerdict {
  enum class Kind : std::uint8_t {
    stream,       // forward it: to the first waiter, to joiners still attached; store if `storing`
    serve_entry,  // stop the transfer; answer every waiter with `entry` and `cache_status`
    refetch,      // a 304 that selects nothing we hold: stop, fetch again unconditionally
  };
  Kind kind = Kind::stream;
  Entry entry;
  std::string cache_status;         // serve_entry
  Outcome outcome = Outcome::none;  // serve_entry: revalidated or stale_if_error
  bool storing = false;
  bool uncacheable = false;          // a cacheable request's answer not stored (hit-for-miss)
  bool no_body = false;              // HEAD, 1xx, 204, 304
  std::int64_t content_length = -1;  // from the upstream; -1 = not declared
  std::vector<Waiter> release;       // joiners that must fetch on their own
  Reason release_reason = Reason::none;
  std::vector<http::TargetUri> invalidate;  // §4.4: purge these targets
};

enum class FetchFailure : std::uint8_t { connect, timeout, protocol, aborted, denied };

struct ErrorVerdict {
  Entry stale;               // serve this to every waiter (stale-if-error), when set
  std::string cache_status;  // for `stale`
  int status = 502;          // otherwise the error to answer
  std::string_view detail;   // Cache-Status detail of that error
};

// How a stored response answers one request (RFC 9111 §4, §4.3.2; RFC 9110 §14).
struct Delivery {
  enum class Kind : std::uint8_t { full, not_modified, partial, unsatisfiable };
  Kind kind = Kind::full;
  int status = 200;
  std::int64_t age_s = 0;               // the Age field (§5.1)
  http::Headers not_modified_fields;    // not_modified: the fields of RFC 9110 §15.4.5
  std::uint64_t first = 0, length = 0;  // partial: the byte range of the body
  std::uint64_t total = 0;              // the stored body's length
};

class Cache {
 public:
  Cache(store::Store& store, FlowConfig cfg);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  const FlowConfig& config() const { return cfg_; }
  void reconfigure(FlowConfig cfg) { cfg_ = std::move(cfg); }
  store::Store& store() { return store_; }

  // A request arrived.
  Action begin(Txn& t, UnixMillis now);
  // The second tier answered the lookup begin() asked for (null: it holds nothing).
  Action lookup_done(Txn& t, Entry found, UnixMillis now);
  // A fill released this joiner (HeadVerdict::release, on_timer): it fetches on its own.
  Action restart(Txn& t, Reason why, UnixMillis now);

  // The fill's response head arrived. `headers` are edited in place into what is forwarded and
  // stored: hop-by-hop fields removed, Date added when missing, our Via appended.
  HeadVerdict on_head(FillId f, int status, http::Headers& headers, UnixMillis now);
  // `total` body bytes received so far; false when storing has just stopped (too large).
  bool on_body(FillId f, std::uint64_t total);
  // The body is complete; stores it when the fill stores. Returns the stored entry (null if none).
  Entry on_complete(FillId f, std::string body, UnixMillis now);
  // The same for a simulation, which keeps no bodies: the store is charged `body_size` for it.
  // True when stored.
  bool on_complete_sized(FillId f, std::uint64_t body_size, UnixMillis now);
  ErrorVerdict on_error(FillId f, FetchFailure kind, UnixMillis now);
  // The coalescing timer of `f` fired: the joiners to release (coalesce_timeout) if no head yet.
  std::vector<Waiter> on_timer(FillId f, UnixMillis now);
  // A waiter went away; returns true when nobody else waits and the transfer may be stopped
  // (a background refresh always continues).
  bool leave(FillId f, Waiter w);
  // The fill's transfer is over and every waiter has been answered: forget it.
  void finish(FillId f);

  // Cache-Status and outcome of a streamed fill's response for one waiter.
  std::string stream_cache_status(FillId f, Waiter w) const;
  Outcome stream_outcome(FillId f, Waiter w, Reason& reason) const;
  bool joinable(FillId f) const;
  bool storing(FillId f) const;
  std::size_t fills() const { return fills_.size(); }
  std::size_t inflight() const { return inflight_.size(); }

  // Follows a Vary marker to the variant this request selects. Null on a miss.
  Entry lookup(const std::string& key, const http::Headers& request_headers);
  // Inserts a complete response under its variant key when it has Vary (§4.1).
  bool store_entry(std::shared_ptr<StoredResponse> entry, const http::Headers& request_headers,
                   store::PartitionId partition);
  // Every stored key of one URL, under each of these key policies (purge, §4.4).
  std::size_t purge_url(const http::TargetUri& target, std::span<const key::KeyPolicy> policies);

  // Hit-for-miss memory: keys whose last response could not be stored.
  bool is_uncacheable(const std::string& key, UnixMillis now);

 private:
  struct Fill;
  Action fetch_action(Txn& t, Entry stale, std::string_view fwd, Reason pre, bool keep_key, bool coalesce,
                      UnixMillis now);
  Action after_lookup(Txn& t, Entry entry, UnixMillis now);
  FillId new_fill(const Txn& t, Entry stale, std::string_view fwd, Reason pre, bool keep_key, bool coalesce,
                  UnixMillis now);
  void leave_inflight(Fill& f);
  void remember_uncacheable(const std::string& key, UnixMillis now);
  bool stale_if_error_allowed(const Fill& f, UnixMillis now) const;
  std::shared_ptr<StoredResponse> complete_entry(Fill& f, std::uint64_t body_size);
  bool store_entry(std::shared_ptr<StoredResponse> entry, const http::Headers& request_headers,
                   store::PartitionId partition, std::uint64_t extra_charge);
  std::vector<Waiter> release_joiners(Fill& f);

  store::Store& store_;
  FlowConfig cfg_;
  std::unordered_map<FillId, std::unique_ptr<Fill>> fills_;
  std::unordered_map<std::string, FillId> inflight_;
  std::unordered_map<std::string, UnixMillis> uncacheable_;
  FillId next_fill_ = 1;
};

// The body a stored response serves to a request: full, 304 from the client's own validators,
// or a single range (206/416). `now` gives the Age.
Delivery deliver(const StoredResponse& entry, std::string_view method, const http::Headers& request_headers,
                 UnixMillis now);

// The stored head: status line and fields, each CRLF-terminated, without Age (generated per
// response, RFC 9111 §5.1) and with the Content-Length of the stored body.
std::string serialize_stored_head(int status, const http::Headers& headers, std::size_t body_size);

// RFC 9110 §15.2: the bytes that forward an upstream interim (1xx) response to the client, or ""
// when it is not forwarded: never to an HTTP/1.0 client, never a 101 (we never ask the upstream
// to switch protocols), never a 100 Continue: the proxy answers Expect: 100-continue itself,
// reads the whole body and sends no Expect upstream, so an upstream 100 answers nothing the
// client asked (a client that expected one already has ours; §15.2: a proxy need not forward a
// 1xx it caused). Hop-by-hop fields are removed and our Via appended, as for a final response.
// Interim responses are never stored, and none of their fields reaches the stored final response.
std::string interim_response(int status, const http::Headers& upstream_fields, bool client_http11,
                             std::string_view via_name);

// RFC 9111 §4.4: is a request with this method written through and may it invalidate?
bool is_unsafe(std::string_view method) noexcept;

}  // namespace cachefwd::cache::flow
