#pragma once
// One upstream fetch (a cache/flow fill) and the clients it answers. It executes what the flow
// decides and decides nothing itself: the flow says whether the response is stored, which joiners
// must go upstream on their own, whether a 304 or an error is answered from the stored entry, and
// what Cache-Status each client sees. This class moves bytes: the upstream's head and body to
// every subscriber, each at its own pace (a body source with backpressure: a client whose queue is
// full stops being fed and, when nothing is being stored, pauses the upstream).
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "cache/flow/flow.h"
#include "cache/store/stored_response.h"
#include "http/headers.h"
#include "http/request.h"
#include "proxy/body_source.h"
#include "upstream/upstream_client.h"

namespace cachefwd::proxy {

class Transaction;
class Server;
class UpstreamExchange;

// One waiter's view of a fill: a body source for its transaction's connection.
struct Subscription final : BodySource {
  void proceed() override;
  void stop() override;

  UpstreamExchange* exchange = nullptr;
  Transaction* txn = nullptr;  // null once it has its answer, or left
  cache::flow::Waiter waiter = 0;
  bool first = false;      // the request that started the fetch
  bool head_only = false;  // HEAD
  bool head_sent = false;
  bool chunked = false;  // re-framed with chunked coding for this client
  bool close_delimited = false;
  bool finished = false;
  std::uint64_t sent = 0;  // body bytes handed to this client
};

class UpstreamExchange : public upstream::FetchHandler {
 public:
  // `fill` comes from the flow's fetch (or refresh) action; `background`: a stale-while-revalidate
  // refresh nobody waits for.
  UpstreamExchange(Server& server, cache::flow::FillId fill, bool background, UnixMillis request_time);
  ~UpstreamExchange() override;

  // Starts the transfer; `arm_timer`: joiners wait for the head at most coalesce_timeout_ms.
  void start(upstream::FetchRequest request, bool arm_timer);
  Subscription* subscribe(Transaction* txn, cache::flow::Waiter waiter, bool head_only, bool first);
  // The client went away (or no longer wants the response).
  void unsubscribe(Subscription* sub);
  // The client can take more bytes.
  void pump(Subscription* sub);
  cache::flow::FillId fill() const { return fill_; }

  void on_interim(int status, http::Headers headers) override;
  void on_response_head(int status, http::Headers headers) override;
  BodyAction on_body(std::string_view chunk) override;
  void on_complete() override;
  void on_error(upstream::FetchError kind, std::string_view message, std::string_view check = {}) override;

 private:
  void pump(Subscription& sub);
  void send_head(Subscription& sub);
  void finish_subscription(Subscription& sub);
  void serve_entry_to_all(const std::shared_ptr<const cache::StoredResponse>& entry, std::string_view cache_status,
                          cache::flow::Outcome outcome);
  void release(const std::vector<cache::flow::Waiter>& waiters, cache::flow::Reason why);
  void trim_buffer();
  void end_transfer();
  void maybe_retire();
  static void on_coalesce_timeout(uv_timer_t* t);
  static void on_restart(uv_timer_t* t);

  Server& server_;
  cache::flow::FillId fill_;
  bool background_;
  UnixMillis request_time_;
  upstream::Fetch* fetch_ = nullptr;  // the transfer; null once it ended or was cancelled
  std::vector<std::unique_ptr<Subscription>> subs_;
  bool fetch_done_ = false;
  bool head_known_ = false;
  bool complete_ = false;
  bool storing_ = false;
  bool paused_ = false;
  bool retired_ = false;
  int status_ = 0;
  std::int64_t content_length_ = -1;
  bool no_body_ = false;
  std::string head_fields_;  // status line + fields as forwarded, without framing/connection fields
  std::string body_;         // body bytes from body_base_ on (all of them while storing)
  std::uint64_t body_base_ = 0;
  std::uint64_t body_total_ = 0;
  UnixMillis response_time_ = 0;
  // Timers: the coalescing deadline and the deferred unconditional retry after a 304 that selects
  // nothing (the FetchHandler contract forbids starting a fetch from inside on_response_head).
  uv_timer_t* timer_ = nullptr;
  uv_timer_t* restart_timer_ = nullptr;
  upstream::FetchRequest request_copy_;  // the conditional request, to repeat unconditionally
};

}  // namespace cachefwd::proxy
