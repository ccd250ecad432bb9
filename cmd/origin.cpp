// `cachefwd origin`: wires flags to lib/load/origin (the URL scheme lives in origin.h).
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli.h"
#include "commands.h"
#include "load/origin.h"

namespace {

constexpr const char* kSchemeHelp =
    R"(Responses are a function of the request target: /obj/<id>?param=value&...
  size=N          body bytes (1024, 16KiB, 4MiB); default --default-size
  status=NNN      200..599 (204 and 304 carry no body)
  max-age=S  s-maxage=S  no-store=1  no-cache=1  private=1  swr=S  sie=S
                  Cache-Control directives (swr/sie: stale-while-revalidate/stale-if-error)
  cc=TEXT         extra Cache-Control text, verbatim (percent-decoded)
  expires=S       Expires: now + S seconds (may be negative)
  etag=1          ETag; If-None-Match matching it answers 304
  last-modified=T Last-Modified: T (Unix seconds, 1 = 2026-01-01); If-Modified-Since answers 304
  ver=N           changes the ETag and the first body byte (a new version of the object)
  vary=NAME       Vary: NAME
  delay_ms=N      answer N ms later
  close=1         Connection: close after this response
  set-cookie=1    Set-Cookie: replay=1
  cache-status=T  Cache-Status: T (percent-decoded), to pose as a cache in tests
Every response has Date, Content-Length and X-Origin-Requests (requests answered so far).
GET /__origin/stats: counters as JSON; /__origin/reset: zero them.
Example: curl -i 'http://127.0.0.1:9000/obj/7?size=4KiB&max-age=60&etag=1')";

struct OriginFlags {
  std::string listen = "127.0.0.1:9000";
  std::string default_size = "1024";
};

}  // namespace

void register_origin(CLI::App& app) {
  auto flags = std::make_shared<OriginFlags>();
  auto* cmd = app.add_subcommand("origin", "Run a configurable HTTP/1.1 test origin");
  cmd->add_option("--listen", flags->listen, "Address to listen on (port 0: any free port)")
      ->capture_default_str()
      ->check(cli::address())
      ->type_name("ADDR:PORT");
  cmd->add_option("--default-size", flags->default_size, "Body size when the URL gives none")
      ->capture_default_str()
      ->check(cli::size())
      ->type_name("SIZE");
  cmd->footer(kSchemeHelp);
  cmd->callback([flags] {
    using namespace cachefwd;
    const auto where = load::parse_host_port(flags->listen);
    const auto size = parse_size(flags->default_size);
    if (!where || !size) {
      fmt::print(stderr, "cachefwd origin: --listen wants ADDR:PORT (got '{}')\n", flags->listen);
      g_exit_code = cli::kExitUsage;
      return;
    }
    std::signal(SIGPIPE, SIG_IGN);  // libuv writes without MSG_NOSIGNAL (style.md §11)
    uv_loop_t* loop = uv_default_loop();
    load::OriginOptions opts;
    opts.default_size = *size;
    load::Origin origin(loop, opts);
    if (const int rc = origin.listen(*where); rc != 0) {
      fmt::print(stderr, "cachefwd origin: cannot listen on {}: {}\n", flags->listen, uv_strerror(rc));
      g_exit_code = cli::kExitRuntime;
      return;
    }
    fmt::print("origin listening on {}\n", load::HostPort{where->host, origin.port()}.authority());
    std::fflush(stdout);
    // SIGINT or SIGTERM: close the origin and both signal handles so the loop runs dry.
    struct Stopper {
      load::Origin* origin;
      uv_signal_t sig[2];
    } stopper{&origin, {}};
    auto stop = [](uv_signal_t* s, int) {
      auto* st = static_cast<Stopper*>(s->data);
      st->origin->close();
      for (auto& h : st->sig) {
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&h)))
          uv_close(reinterpret_cast<uv_handle_t*>(&h), nullptr);
      }
    };
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; ++i) {
      uv_signal_init(loop, &stopper.sig[i]);
      stopper.sig[i].data = &stopper;
      uv_signal_start_oneshot(&stopper.sig[i], stop, sigs[i]);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
  });
}
