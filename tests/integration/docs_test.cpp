// `cachefwd --help` and the man page agree: every flag a subcommand's --help lists is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/proxy_process.h"

using namespace cachefwd::testing;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Docs, EveryFlagInHelpIsInTheShellCompletions) {
  const std::string bash = read_text(std::string(CACHEFWD_SOURCE_DIR) + "/completions/cachefwd.bash");
  const std::string zsh = read_text(std::string(CACHEFWD_SOURCE_DIR) + "/completions/_cachefwd");
  ASSERT_FALSE(bash.empty());
  ASSERT_FALSE(zsh.empty());
  for (std::string sub : {"serve", "bench", "replay", "origin"}) {
    std::string help;
    EXPECT_EQ(run_cachefwd({sub, "--help"}, help), 0) << sub;
    std::regex flag("(^|[ ,])(--[a-z][a-z0-9-]+)");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator(); ++it) {
      const std::string f = (*it)[2].str();
      // Flags inside descriptions are other options' names; every listed option is an entry.
      EXPECT_NE(bash.find(" " + f), std::string::npos)
          << sub << " " << f << ": run scripts/gen-completions.py";
      EXPECT_NE(zsh.find("'" + f + "["), std::string::npos)
          << sub << " " << f << ": run scripts/gen-completions.py";
    }
  }
}

TEST(Docs, EveryFlagInHelpIsInTheManPage) {
  std::ifstream in(CACHEFWD_MAN_PAGE);
  ASSERT_TRUE(in) << CACHEFWD_MAN_PAGE;
  std::stringstream ss;
  ss << in.rdbuf();
  // roff writes '-' as '\-': undo that to search for plain flag names.
  std::string man = std::regex_replace(ss.str(), std::regex("\\\\-"), "-");
  for (std::string sub : {"serve", "bench", "replay", "origin"}) {
    std::string help;
    EXPECT_EQ(run_cachefwd({sub, "--help"}, help), 0) << sub;
    std::set<std::string> flags;
    std::regex flag("(^|[ ,])(--[a-z][a-z0-9-]+)");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator(); ++it)
      flags.insert((*it)[2].str());
    EXPECT_GT(flags.size(), 2u) << sub << ": no flags found in --help";
    for (auto& f : flags) {
      if (f == "--help") continue;
      EXPECT_NE(man.find(f), std::string::npos)
          << "cachefwd " << sub << " " << f << " is not in man/cachefwd.1";
    }
  }
}
