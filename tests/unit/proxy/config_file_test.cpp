// serve's --config reader: toml++ underneath, our mapping of TOML values to flag settings on top.
#include "proxy/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace cachefwd::proxy {
namespace {

TEST(ConfigFile, ValidTomlWithMultiLineArraysCommentsAndAServeTable) {
  const auto items = parse_config_toml(
      "# a comment\n"
      "listen = [\n"
      "  \"127.0.0.1:3128\",  # first\n"
      "  '[::1]:3128',\n"
      "]\n"
      "max-entries = 1000\n"
      "heuristic = true\n"
      "[serve]\n"
      "ttl = \"\"\"60s\"\"\"\n",
      "c.toml");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].name, "listen");
  EXPECT_EQ(items[0].values, (std::vector<std::string>{"127.0.0.1:3128", "[::1]:3128"}));
  EXPECT_EQ(items[0].line, 2u);
  EXPECT_EQ(items[1].values, std::vector<std::string>{"1000"});
  EXPECT_TRUE(items[2].is_bool);
  EXPECT_EQ(items[2].values, std::vector<std::string>{"true"});
  EXPECT_EQ(items[3].name, "ttl");
  EXPECT_EQ(items[3].values, std::vector<std::string>{"60s"});
  EXPECT_EQ(items[3].line, 9u);
}

std::string error_of(const std::string& text) {
  try {
    parse_config_toml(text, "c.toml");
  } catch (const ConfigFileError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ConfigFile, BrokenTomlIsRejectedWithFileAndLine) {
  EXPECT_EQ(error_of("ttl = \"1s\"\nlisten = [\"x\"\n").rfind("c.toml:", 0), 0u)
      << error_of("listen = [\"x\"\n");
  EXPECT_NE(error_of("ttl = \"1s\"\nlisten = [\"x\"\n"), "(accepted)");
  EXPECT_EQ(error_of("ttl = 60s\n").rfind("c.toml:1:", 0), 0u) << error_of("ttl = 60s\n");
  EXPECT_EQ(error_of("\n\nthis is = not [valid\n").rfind("c.toml:3:", 0), 0u)
      << error_of("\n\nthis is = not [valid\n");
  EXPECT_EQ(error_of("ttl = \"1s\"\nttl = \"2s\"\n").rfind("c.toml:2:", 0), 0u);  // a key set twice
  EXPECT_EQ(error_of("[upstream]\nurl = \"x\"\n"),
            "c.toml:1: unknown section [upstream] (settings go at the top or in [serve])");
  EXPECT_EQ(error_of("rule = [[\"a\"]]\n").rfind("c.toml:1: 'rule' wants a list of strings", 0), 0u);
  // Valid TOML, but no flag has an empty name (found by fuzz_config).
  EXPECT_EQ(error_of("ttl = \"1s\"\n\"\" = []\n"), "c.toml:2: an empty key names no setting");
}

TEST(ConfigFile, ADirectoryOrAMissingFileIsAnError) {
  EXPECT_THROW(read_config_file("/tmp"), ConfigFileError);
  try {
    read_config_file("/tmp");
  } catch (const ConfigFileError& e) {
    EXPECT_EQ(std::string(e.what()), "/tmp: is a directory, not a TOML file");
  }
  EXPECT_THROW(read_config_file("/nonexistent/cachefwd.toml"), ConfigFileError);
  const std::string path = "/tmp/cachefwd-config-test." + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << "policy = \"lru\"\n";
  const auto items = read_config_file(path);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].values, std::vector<std::string>{"lru"});
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace cachefwd::proxy
