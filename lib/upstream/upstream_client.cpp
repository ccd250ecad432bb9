#include "upstream/upstream_client.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "base/strings.h"
#include "http/request.h"
#include "http/response_framing.h"

namespace cachefwd::upstream {

std::string_view to_string(FetchError e) {
  switch (e) {
    case FetchError::connect: return "connect";
    case FetchError::timeout: return "timeout";
    case FetchError::protocol: return "protocol";
    case FetchError::aborted: return "aborted";
    case FetchError::denied: return "denied";
    case FetchError::tls: return "tls";
  }
  return "unknown";
}

class Fetch {
 public:
  UpstreamClient::Impl* impl = nullptr;
  CURL* easy = nullptr;
  FetchHandler* handler = nullptr;
  curl_slist* header_list = nullptr;
  FetchRequest request;  // owns the body curl reads from
  uv_timer_t idle_timer{};
  std::uint64_t last_activity = 0;  // uv_now() of the last byte or header from the upstream
  int status = 0;
  http::Headers response_headers;
  bool head_done = false;
  bool paused = false;
  bool finished = false;
  bool timed_out = false;
  bool denied = false;
  std::string failure;  // why we refused the response ourselves (the fetch then ends as protocol)
  std::size_t header_bytes = 0;  // every header line so far, interim responses and trailers too
  curl_slist* connect_to = nullptr;  // --upstream-sni: the name in the URL, the address elsewhere
  std::string url;                   // the URL curl fetches (the SNI name as host, if any)
  char error_text[CURL_ERROR_SIZE] = {};
};

namespace {

// A curl socket watched by a uv_poll. Kept across CURL_POLL_REMOVE (curl sends one at the end of
// every transfer even when the connection goes back to its pool) and closed only from curl's
// close-socket callback: creating a poll per request costs syscalls (../shared/style.md §11).
struct SocketWatch {
  uv_poll_t poll{};
  curl_socket_t fd = CURL_SOCKET_BAD;
  int want = 0;    // events curl asked for; 0 = curl is not watching right now
  int active = 0;  // events the uv_poll is started with
  // Not a connection we opened (curl's resolver socketpair): curl closes it without the
  // close-socket callback, so the poll must go at CURL_POLL_REMOVE or it outlives the fd and
  // collides with whatever reuses the number (a tunnel's uv_tcp: 100% CPU, no reply).
  bool transient = false;
  UpstreamClient::Impl* impl = nullptr;
};

// Which TLS check failed, as a Cache-Status detail token, from curl's result and OpenSSL's
// verification result (X509_V_ERR_* values, stable across OpenSSL versions).
std::string_view tls_check(CURLcode rc, long verify_result, std::string_view error_text) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
      // curl checks the host name itself after OpenSSL accepted the chain, and says so only in
      // its message ("no alternative certificate subject name matches target host name").
      if (error_text.find("host name") != std::string_view::npos) return "tls-hostname-mismatch";
      switch (verify_result) {
        case 2:
        case 18:
        case 19:
        case 20:
        case 21:
        case 27:
          return "tls-untrusted-cert";
        case 9:
          return "tls-cert-not-yet-valid";
        case 10:
          return "tls-cert-expired";
        case 23:
          return "tls-cert-revoked";
        case 62:
          return "tls-hostname-mismatch";
        default:
          return "tls-verify-failed";
      }
    case CURLE_SSL_CACERT_BADFILE:
      return "tls-ca-unreadable";
    case CURLE_SSL_CERTPROBLEM:
      return "tls-client-cert-unusable";
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return "tls-pinned-key-mismatch";
    case CURLE_SSL_CONNECT_ERROR:
      return "tls-handshake";
    default:
      return "tls-error";
  }
}

bool is_tls_failure(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return true;
    default:
      return false;
  }
}

void ensure_curl_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct UpstreamClient::Impl {
  uv_loop_t* loop;
  UpstreamOptions options;
  CURLM* multi = nullptr;
  uv_timer_t* timer = nullptr;  // heap: its close callback may run after Impl is gone
  std::unordered_map<curl_socket_t, SocketWatch*> sockets;
  std::unordered_set<curl_socket_t> opened;  // connections from on_open_socket, until on_close_socket
  std::unordered_map<Fetch*, std::unique_ptr<Fetch>> fetches;
  std::vector<Fetch*> deferred_cancels;
  // Fetches started from inside a curl callback: curl refuses curl_multi_add_handle there
  // (CURLM_RECURSIVE_API_CALL), so they are added once the callback chain returns.
  std::vector<Fetch*> deferred_adds;
  bool in_curl = false;
  bool shut_down = false;
  UpstreamCounters counters;

  // --- curl → uv -------------------------------------------------------------------------------
  static int on_curl_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    auto it = self->sockets.find(fd);
    SocketWatch* w = it == self->sockets.end() ? nullptr : it->second;
    if (what == CURL_POLL_REMOVE) {
      if (w && w->transient) {
        self->close_watch(fd);
      } else if (w) {
        w->want = 0;
      }
      return 0;
    }
    if (!w) {
      w = new SocketWatch;
      w->fd = fd;
      w->impl = self;
      if (uv_poll_init_socket(self->loop, &w->poll, fd) != 0) {
        delete w;
        return -1;
      }
      w->poll.data = w;
      w->transient = !self->opened.count(fd);
      self->sockets.emplace(fd, w);
    }
    int want = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) want |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) want |= UV_WRITABLE;
    w->want = want;
    // uv_poll_start re-registers with epoll even for the same events: only call it on change.
    if (want != w->active) {
      uv_poll_start(&w->poll, want, on_poll);
      w->active = want;
    }
    return 0;
  }

  static void on_poll(uv_poll_t* handle, int status, int events) {
    auto* w = static_cast<SocketWatch*>(handle->data);
    if (w->want == 0) {
      // An idle pooled connection became readable (the origin closed it): stop watching, or
      // level-triggered epoll would spin; curl notices the dead connection when it next uses it.
      uv_poll_stop(handle);
      w->active = 0;
      return;
    }
    int flags = 0;
    if (status < 0) {
      flags = CURL_CSELECT_ERR;  // libuv reports POLLERR as UV_EBADF; curl must hear about it
    } else {
      if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
      if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    w->impl->socket_action(w->fd, flags);
  }

  static int on_curl_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    // Never call curl from inside this callback: start a uv timer, even for 0 ms.
    if (timeout_ms < 0) uv_timer_stop(self->timer);
    else uv_timer_start(self->timer, on_uv_timer, static_cast<std::uint64_t>(timeout_ms), 0);
    return 0;
  }

  static void on_uv_timer(uv_timer_t* t) { static_cast<Impl*>(t->data)->socket_action(CURL_SOCKET_TIMEOUT, 0); }

  static curl_socket_t on_open_socket(void* clientp, curlsocktype, curl_sockaddr* address) {
    auto* f = static_cast<Fetch*>(clientp);
    const auto& check = f->request.address_check;
    if (check && !check(&address->addr)) {
      f->denied = true;
      return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = ::socket(address->family, address->socktype, address->protocol);
    if (fd != CURL_SOCKET_BAD) {
      f->impl->opened.insert(fd);
      f->impl->counters.connections_opened++;
    }
    return fd;
  }

  static int on_close_socket(void* clientp, curl_socket_t fd) {
    auto* self = static_cast<Impl*>(clientp);
    self->opened.erase(fd);
    self->close_watch(fd);
    return ::close(fd);
  }

  void close_watch(curl_socket_t fd) {
    auto it = sockets.find(fd);
    if (it == sockets.end()) return;
    SocketWatch* w = it->second;
    sockets.erase(it);
    // uv_close unregisters the fd synchronously, so curl may reuse the number at once.
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
             [](uv_handle_t* h) { delete static_cast<SocketWatch*>(h->data); });
  }

  // --- actions ---------------------------------------------------------------------------------
  void socket_action(curl_socket_t fd, int flags) {
    int running = 0;
    in_curl = true;
    curl_multi_socket_action(multi, fd, flags, &running);
    in_curl = false;
    after_curl();
  }

  // Reaps finished transfers after every call into curl (not only while some still run: the last
  // transfer can end on the timer path), then performs cancels requested from inside callbacks.
  void after_curl() {
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Fetch* f = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &f);
      CURLcode rc = msg->data.result;  // msg is invalid once the handle is removed
      if (f) finish(f, rc);
    }
    auto cancels = std::move(deferred_cancels);
    deferred_cancels.clear();
    for (Fetch* f : cancels)
      if (!f->finished) finish(f, CURLE_ABORTED_BY_CALLBACK);
    auto adds = std::move(deferred_adds);
    deferred_adds.clear();
    // A transfer curl refuses ends like any failed one: the handler hears of it, nothing leaks.
    for (Fetch* f : adds)
      if (!f->finished && curl_multi_add_handle(multi, f->easy) != CURLM_OK) finish(f, CURLE_FAILED_INIT);
  }

  void finish(Fetch* f, CURLcode rc) {
    f->finished = true;
    curl_multi_remove_handle(multi, f->easy);
    count_connection_use(f, rc);
    FetchHandler* h = f->handler;
    f->handler = nullptr;
    bool head_done = f->head_done;
    bool timed_out = f->timed_out;
    bool denied = f->denied;
    std::string failure = std::move(f->failure);
    const char* msg = curl_easy_strerror(rc);
    std::string error_text = f->error_text[0] ? std::string(f->error_text) : std::string(msg);
    std::string_view check;
    if (is_tls_failure(rc)) {
      long verify_result = 0;
      curl_easy_getinfo(f->easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
      check = tls_check(rc, verify_result, error_text);
      counters.tls_errors++;
      error_text = std::string(check) + ": " + error_text;
    }
    destroy(f);
    if (!h) return;
    if (rc == CURLE_OK && head_done) {
      h->on_complete();
      return;
    }
    FetchError kind = FetchError::protocol;
    if (denied) kind = FetchError::denied;
    else if (timed_out || rc == CURLE_OPERATION_TIMEDOUT) kind = FetchError::timeout;
    else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) kind = FetchError::connect;
    else if (rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) kind = FetchError::aborted;
    else if (!check.empty())
      kind = FetchError::tls;
    // Before the head is complete, curl's only allocation that fails for input reasons is a
    // header line beyond its own limit (CURL_MAX_HTTP_HEADER, 100 KiB).
    if (failure.empty() && !head_done && rc == CURLE_OUT_OF_MEMORY)
      failure = "upstream response head has a header line over 100 KiB";
    if (!failure.empty()) kind = FetchError::protocol;  // curl saw only our callback's refusal
    std::string_view text = denied      ? "destination address not allowed"
                            : timed_out ? "upstream idle timeout"
                                        : std::string_view(error_text);
    if (!failure.empty()) text = failure;
    h->on_error(kind, text, kind == FetchError::tls ? check : std::string_view());
  }

  // Reads what the transfer did with connections before its handle is gone.
  void count_connection_use(Fetch* f, CURLcode rc) {
    if (!f->head_done && rc != CURLE_OK) return;
    long new_connections = 0, version = 0;
    curl_easy_getinfo(f->easy, CURLINFO_NUM_CONNECTS, &new_connections);
    curl_easy_getinfo(f->easy, CURLINFO_HTTP_VERSION, &version);
    counters.transfers++;
    if (new_connections == 0)
      counters.connections_reused++;
    else if (f->url.starts_with("https:"))
      counters.tls_handshakes += static_cast<std::uint64_t>(new_connections);
    if (version == CURL_HTTP_VERSION_2_0) counters.h2_streams++;
  }

  void destroy(Fetch* f) {
    curl_easy_cleanup(f->easy);
    f->easy = nullptr;
    curl_slist_free_all(f->header_list);
    f->header_list = nullptr;
    curl_slist_free_all(f->connect_to);
    f->connect_to = nullptr;
    auto it = fetches.find(f);
    if (it == fetches.end()) return;
    Fetch* raw = it->second.release();
    fetches.erase(it);
    uv_timer_stop(&raw->idle_timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->idle_timer),
             [](uv_handle_t* h) { delete static_cast<Fetch*>(h->data); });
  }

  static void on_idle_timer(uv_timer_t* t) {
    auto* f = static_cast<Fetch*>(t->data);
    Impl* self = f->impl;
    std::uint64_t now = uv_now(self->loop);
    std::uint64_t limit = static_cast<std::uint64_t>(self->options.idle_timeout_ms);
    // A fetch we paused for a slow client is waiting on us, not on the upstream.
    if (f->paused || now - f->last_activity < limit) {
      std::uint64_t elapsed = f->paused ? 0 : now - f->last_activity;
      uv_timer_start(t, on_idle_timer, limit - elapsed, 0);
      return;
    }
    f->timed_out = true;
    self->finish(f, CURLE_OPERATION_TIMEDOUT);
  }

  // --- curl → handler --------------------------------------------------------------------------
  static size_t on_header(char* buf, size_t size, size_t n, void* userp) {
    auto* f = static_cast<Fetch*>(userp);
    size_t len = size * n;
    f->last_activity = uv_now(f->impl->loop);
    f->header_bytes += len;
    if (f->header_bytes > f->impl->options.max_header_bytes) {
      f->failure = "upstream response head larger than " + std::to_string(f->impl->options.max_header_bytes) +
                   " bytes (--max-upstream-header-size)";
      return 0;
    }
    if (f->head_done) return len;  // trailers are never merged into the header section
    std::string_view line(buf, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      auto sp = line.find(' ');
      f->status = 0;
      if (sp != std::string_view::npos && line.size() >= sp + 4) {
        auto code = parse_decimal(line.substr(sp + 1, 3));
        f->status = code ? static_cast<int>(*code) : 0;
      }
      f->response_headers.clear();
      return len;
    }
    if (line.empty()) {
      if (f->status >= 100 && f->status < 200) {
        // Interim response: hand it over on its own, then wait for the final one.
        http::Headers interim = std::move(f->response_headers);
        f->response_headers.clear();
        if (f->handler) f->handler->on_interim(f->status, std::move(interim));
        return len;
      }
      if (f->status < 200 || f->status > 999) {  // not a status we can forward
        // Refused by us, not cancelled: the fetch must end as a protocol error (502), else the
        // client is answered by nobody.
        f->failure = "malformed upstream status line";
        return 0;
      }
      auto framing = http::normalize_response_framing(f->response_headers);
      if (!framing.error.empty()) {
        f->failure = framing.error;
        return 0;  // curl drops the connection: what follows on it cannot be trusted
      }
      f->head_done = true;
      if (f->handler) f->handler->on_response_head(f->status, std::move(f->response_headers));
      return len;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold (RFC 9112 §5.2): replace with a space when forwarding
      auto& fields = f->response_headers.fields();
      if (!fields.empty()) {
        fields.back().value += ' ';
        fields.back().value += trim_ows(line);
      }
      return len;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return len;
    f->response_headers.add(line.substr(0, colon), trim_ows(line.substr(colon + 1)));
    return len;
  }

  static size_t on_write(char* buf, size_t size, size_t n, void* userp) {
    auto* f = static_cast<Fetch*>(userp);
    size_t len = size * n;
    f->last_activity = uv_now(f->impl->loop);
    if (!f->handler) return 0;  // cancelled from inside a callback: abort the transfer
    switch (f->handler->on_body(std::string_view(buf, len))) {
      case FetchHandler::BodyAction::consumed: return len;
      case FetchHandler::BodyAction::pause: f->paused = true; return CURL_WRITEFUNC_PAUSE;
      case FetchHandler::BodyAction::abort: return 0;
    }
    return 0;
  }
};

UpstreamClient::UpstreamClient(uv_loop_t* loop, UpstreamOptions options) : impl_(std::make_unique<Impl>()) {
  ensure_curl_global_init();
  impl_->loop = loop;
  impl_->options = options;
  impl_->timer = new uv_timer_t;
  uv_timer_init(loop, impl_->timer);
  impl_->timer->data = impl_.get();
  impl_->multi = curl_multi_init();
  CURLM* m = impl_->multi;
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, Impl::on_curl_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, impl_.get());
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, Impl::on_curl_timer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, impl_.get());
  // The default pool size follows the number of easy handles and shrinks under bursts, closing
  // live keep-alive connections (../shared/style.md §11): set it.
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, options.max_connections);
}

UpstreamClient::~UpstreamClient() { shutdown(); }

Fetch* UpstreamClient::start(FetchRequest request, FetchHandler* handler) {
  auto owned = std::make_unique<Fetch>();
  Fetch* f = owned.get();
  f->impl = impl_.get();
  f->handler = handler;
  f->request = std::move(request);
  const FetchRequest& r = f->request;

  bool has_accept = false, has_content_type = false;
  for (auto& h : r.headers.fields()) {
    // curl computes Content-Length from the body it sends; Expect would make it wait for 100.
    if (iequals(h.name, "content-length") || iequals(h.name, "expect")) continue;
    has_accept = has_accept || iequals(h.name, "accept");
    has_content_type = has_content_type || iequals(h.name, "content-type");
    std::string line = h.name;
    line += h.value.empty() ? ";" : ": ";  // "Name;" is curl's spelling of an empty field
    line += h.value;
    f->header_list = curl_slist_append(f->header_list, line.c_str());
  }
  // libcurl must not alter the exchange: no Accept or Content-Type of its own, no Expect.
  f->header_list = curl_slist_append(f->header_list, "Expect:");
  if (!has_accept) f->header_list = curl_slist_append(f->header_list, "Accept:");
  if (!has_content_type) f->header_list = curl_slist_append(f->header_list, "Content-Type:");

  CURL* e = curl_easy_init();
  if (!e) {
    curl_slist_free_all(f->header_list);  // `owned` frees the rest
    return nullptr;
  }
  f->easy = e;
  const UpstreamOptions& o = impl_->options;
  f->url = r.url;
  if (!o.tls.sni.empty()) {
    // curl sends SNI for (and verifies against) the URL's host: put the name there and connect
    // to the real address with CONNECT_TO. The Host field we send is unchanged.
    http::TargetUri t;
    if (http::parse_absolute_target(r.url, t) && t.scheme == "https" && t.host == o.tls.sni_for_host &&
        t.port == o.tls.sni_for_port) {
      bool v6 = t.host.find(':') != std::string::npos;
      std::string rule = o.tls.sni + ":" + std::to_string(t.port) + ":" + (v6 ? "[" + t.host + "]" : t.host) +
                         ":" + std::to_string(t.port);
      f->connect_to = curl_slist_append(nullptr, rule.c_str());
      t.host = o.tls.sni;
      f->url = t.url();
      curl_easy_setopt(e, CURLOPT_CONNECT_TO, f->connect_to);
    }
  }
  curl_easy_setopt(e, CURLOPT_URL, f->url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error_text);
  curl_easy_setopt(e, CURLOPT_PRIVATE, f);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->header_list);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, Impl::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Impl::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, Impl::on_close_socket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, impl_.get());
  // Also without an address check: which sockets are connections decides how their polls end.
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, Impl::on_open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // we ignore SIGPIPE ourselves; saves 3 syscalls
  // Removing a transfer whose name lookup still runs would otherwise join the resolver thread:
  // the whole loop stalled until the lookup gave up (a client leaving, SIGTERM past the drain
  // timeout). With it, curl detaches the thread, which cleans up after itself.
  curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");     // never obey http_proxy/no_proxy from our environment
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  bool https = f->url.starts_with("https:");
  long version = CURL_HTTP_VERSION_1_1;
  if (o.http2 == Http2Mode::on)
    version = https ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
  else if (o.http2 == Http2Mode::automatic && https)
    version = CURL_HTTP_VERSION_2TLS;
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version);
  // Without it, misses that start together each open a connection while the first one is still
  // negotiating, instead of becoming streams on it. Only where h2 may be negotiated: a plain
  // HTTP/1.1 transfer would wait for nothing.
  if (version != CURL_HTTP_VERSION_1_1) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (https) {
    if (!o.tls.ca.empty()) {
      struct stat st {};
      bool dir = ::stat(o.tls.ca.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      curl_easy_setopt(e, dir ? CURLOPT_CAPATH : CURLOPT_CAINFO, o.tls.ca.c_str());
      if (dir)
        curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);  // only the directory, not also the system bundle
    }
    if (o.tls.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!o.tls.cert.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, o.tls.cert.c_str());
    if (!o.tls.key.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, o.tls.key.c_str());
  }
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // forward the path byte for byte
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(impl_->options.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.has_body) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
  }

  if (uv_timer_init(impl_->loop, &f->idle_timer) != 0) {
    curl_easy_cleanup(e);
    curl_slist_free_all(f->header_list);
    curl_slist_free_all(f->connect_to);
    return nullptr;
  }
  f->idle_timer.data = f;
  f->last_activity = uv_now(impl_->loop);
  uv_timer_start(&f->idle_timer, Impl::on_idle_timer, static_cast<std::uint64_t>(impl_->options.idle_timeout_ms), 0);
  impl_->fetches.emplace(f, std::move(owned));
  if (impl_->in_curl) {
    impl_->deferred_adds.push_back(f);
  } else if (curl_multi_add_handle(impl_->multi, e) != CURLM_OK) {
    // Nothing was started: free it all without calling the handler (the caller sees nullptr).
    f->handler = nullptr;
    f->finished = true;
    impl_->destroy(f);
    return nullptr;
  }
  return f;
}

void UpstreamClient::cancel(Fetch* f) {
  if (!f || f->finished) return;
  f->handler = nullptr;
  if (impl_->in_curl) {
    impl_->deferred_cancels.push_back(f);
    return;
  }
  impl_->finish(f, CURLE_ABORTED_BY_CALLBACK);
}

void UpstreamClient::resume(Fetch* f) {
  if (!f || f->finished || !f->paused) return;
  f->paused = false;
  f->last_activity = uv_now(impl_->loop);
  // Unpausing may deliver the held bytes to the write callback right here.
  bool outer = impl_->in_curl;
  impl_->in_curl = true;
  curl_easy_pause(f->easy, CURLPAUSE_CONT);
  impl_->in_curl = outer;
  if (!outer) impl_->after_curl();
}

void UpstreamClient::shutdown() {
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  std::vector<Fetch*> all;
  for (auto& [f, _] : impl_->fetches) all.push_back(f);
  for (Fetch* f : all) {
    f->handler = nullptr;
    impl_->finish(f, CURLE_ABORTED_BY_CALLBACK);
  }
  // curl_multi_cleanup may still call the socket and close-socket callbacks.
  curl_multi_cleanup(impl_->multi);
  impl_->multi = nullptr;
  for (auto& [fd, w] : impl_->sockets) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
             [](uv_handle_t* h) { delete static_cast<SocketWatch*>(h->data); });
  }
  impl_->sockets.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(impl_->timer), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

std::size_t UpstreamClient::active_fetches() const { return impl_->fetches.size(); }

const UpstreamCounters& UpstreamClient::counters() const { return impl_->counters; }

}  // namespace cachefwd::upstream
