#pragma once
// `cachefwd bench` without the flag parsing: picks the target and workload, starts what the demo
// mode embeds (an origin thread and a `cachefwd serve` child), runs the load, collects the
// counters around it and returns the report.
#include <optional>
#include <string>
#include <vector>

#include "load/engine.h"
#include "load/report.h"
#include "load/workload.h"

namespace cachefwd::load {

struct BenchConfig {
  std::string proxy;      // HOST:PORT of a forward proxy: absolute-form requests
  std::string url;        // one URL (all requests), or the origin of a --keys workload
  std::string urls_file;  // one URL per line
  std::string origin;     // HOST:PORT of a `cachefwd origin` for a --keys workload
  bool keys_given = false;
  bool direct = false;  // with no target: measure the embedded origin without a proxy
  WorkloadOptions workload;
  LoadOptions load;       // connect_to / absolute_form / rss_pid are filled in by run_bench
  std::string admin_url;  // JSON counters of the proxy (hits, misses, entries, bytes)
  int proxy_pid = 0;
  // Demo mode: the child proxy's command line after the executable; {port} and {admin} are
  // replaced by the chosen ports. `--admin 127.0.0.1:{admin}` is appended when `serve --help`
  // lists --admin.
  std::vector<std::string> serve_args{"serve", "--listen", "127.0.0.1:{port}", "--ttl", "60"};
  bool serve_args_given = false;  // the user's own list: used verbatim
  std::string serve_admin_path = "/stats";
  std::string self_exe = "/proc/self/exe";  // resolved with readlink before use
};

// Throws std::runtime_error with a message for the user when the setup fails.
BenchReport run_bench(const BenchConfig& cfg);

}  // namespace cachefwd::load
