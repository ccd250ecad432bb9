#include "cli.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/strings.h"

namespace cli {

namespace {

std::string first_line(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The subcommand the command line names (the first word that is one), or nullptr.
CLI::App* named_subcommand(CLI::App& app, const std::vector<std::string>& argv) {
  for (const auto& a : argv) {
    if (!a.empty() && a[0] == '-') continue;
    for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == a) return sub;
    return nullptr;
  }
  return nullptr;
}

std::string subcommand_names(CLI::App& app) {
  std::string out;
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
    out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

// CLI11's message, reworded where it is unclear; suggestions for unknown options.
std::string reword(CLI::App& app, CLI::App* sub, const CLI::ParseError& e,
                   const std::vector<std::string>& argv) {
  const std::string what = first_line(e.what());
  const std::string help = sub ? "cachefwd " + sub->get_name() + " --help" : "cachefwd --help";
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    // "The following argument(s) was/were not expected: a b"
    const auto colon = what.find(": ");
    std::string args = colon == std::string::npos ? what : what.substr(colon + 2);
    std::string out;
    std::istringstream in(args);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    // The values after an unknown option are CLI11's leftovers too: name only the options then.
    const bool any_option =
        std::any_of(words.begin(), words.end(), [](auto& w) { return w.size() > 1 && w[0] == '-'; });
    for (const auto& w : words) {
      if (any_option && !(w.size() > 1 && w[0] == '-')) continue;
      if (!out.empty()) out += "; ";
      if (w.size() > 1 && w[0] == '-') {
        const std::string flag = w.substr(0, w.find('='));
        out += "unknown option " + flag;
        const std::string s = suggest_option(sub ? *sub : app, flag);
        if (!s.empty()) out += " (did you mean " + s + "?)";
      } else {
        out += "unexpected argument '" + w + "'";
      }
    }
    return out + "; see " + help;
  }
  if (!sub) {
    for (const auto& a : argv) {
      if (a.empty() || a[0] == '-') continue;
      return "unknown subcommand '" + a + "': give one of " + subcommand_names(app) +
             " (see cachefwd --help)";
    }
    if (dynamic_cast<const CLI::RequiredError*>(&e))
      return "give a subcommand: " + subcommand_names(app) + " (see cachefwd --help)";
  }
  std::smatch m;
  // "Could not convert: --connections = abc"
  if (std::regex_search(what, m, std::regex("^Could not convert: (\\S+) = (.*)$")))
    return m[1].str() + ": '" + m[2].str() + "' is not a number; see " + help;
  // "The value abc is not an allowed value for --x"
  if (std::regex_search(what, m, std::regex("^The value (.*) is not an allowed value for (\\S+)$")))
    return m[2].str() + ": '" + m[1].str() + "' is not an allowed value; see " + help;
  // "--json: 1 required TEXT missing"
  if (std::regex_search(what, m, std::regex("^(\\S+): 1 required (\\S+) missing$")))
    return m[1].str() + " wants a value (" + m[2].str() + ")";
  return what;
}

}  // namespace

CLI::Validator duration() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        const auto ms = cachefwd::parse_duration_ms(v);
        if (!ms || *ms < 0) return "wants a duration such as 30s, 1m30s, 1.5s or 500ms (got '" + v + "')";
        return {};
      },
      "");
}

CLI::Validator size() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (!cachefwd::parse_size(v))
          return "wants a size such as 256MiB, 64KiB or 1048576 (got '" + v + "')";
        return {};
      },
      "");
}

CLI::Validator address() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        const bool bracketed = !v.empty() && v[0] == '[';
        const auto colon = v.rfind(':');
        const bool ok =
            colon != std::string::npos && colon + 1 < v.size() &&
            cachefwd::parse_decimal(std::string_view(v).substr(colon + 1)).value_or(70000) <= 65535 &&
            (bracketed ? v[colon - 1] == ']' : v.find(':') == colon);
        if (!ok)
          return "wants ADDR:PORT, e.g. 127.0.0.1:3128, localhost:3128 or [::1]:3128 (got '" + v + "')";
        return {};
      },
      "");
}

CLI::Validator at_least(double least) {
  return CLI::Validator(
      [least](std::string& v) -> std::string {
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0') return "'" + v + "' is not a number";
        if (d < least) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%g", least);
          return "must be at least " + std::string(buf) + " (got " + v + ")";
        }
        return {};
      },
      "");
}

void type_options(CLI::App& app, const std::vector<std::string>& names, const CLI::Validator& v,
                  const std::string& kind) {
  for (const auto& n : names) {
    if (auto* opt = app.get_option_no_throw(n)) opt->check(v)->type_name(kind);
  }
}

void name_values(CLI::App& app, const std::vector<std::pair<std::string, std::string>>& kinds) {
  for (const auto& [name, kind] : kinds) {
    if (auto* opt = app.get_option_no_throw(name)) opt->type_name(kind);
  }
}

void add_version(CLI::App& app) { app.set_version_flag("--version", kVersion); }

std::string suggest_option(const CLI::App& app, const std::string& flag) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& name : opt->get_lnames()) {
      const std::string candidate = "--" + name;
      const size_t d = edit_distance(flag, candidate);
      if (d < best_d) {
        best_d = d;
        best = candidate;
      }
    }
  }
  // Close enough to be a typo: two edits, or a third for long names.
  return best_d <= std::max<size_t>(2, flag.size() / 5) ? best : std::string();
}

int report_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& argv) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
  CLI::App* sub = named_subcommand(app, argv);
  std::fprintf(stderr, "cachefwd%s%s: %s\n", sub ? " " : "", sub ? sub->get_name().c_str() : "",
               reword(app, sub, e, argv).c_str());
  return kExitUsage;
}

void write_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return;
  }
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string resolve_listen_address(const std::string& text) {
  if (text.empty() || text[0] == '[') return text;
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || text.find(':') != colon) return text;
  const std::string host = text.substr(0, colon);
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) return text;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return text;
  const addrinfo* pick = res;
  for (const addrinfo* a = res; a; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  char ip[INET6_ADDRSTRLEN] = "";
  std::string out = text;
  if (pick->ai_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(pick->ai_addr)->sin_addr, ip, sizeof ip);
    out = std::string(ip) + text.substr(colon);
  } else if (pick->ai_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(pick->ai_addr)->sin6_addr, ip, sizeof ip);
    out = "[" + std::string(ip) + "]" + text.substr(colon);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace cli
