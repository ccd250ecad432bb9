#pragma once
// Opens a trace or capture file for lib/replay's readers: a plain file, or the output of
// `xz -dc` for .xz files (liblzma would avoid the child process; `xz -dc` streams just as well and
// keeps memory flat).
#include <memory>
#include <string>

#include "replay/simulation.h"

namespace cachefwd::load {

// Throws std::runtime_error naming the path when it cannot be opened, is a directory, or xz
// cannot be started.
std::unique_ptr<replay::Input> open_input_file(const std::string& path);
// An OpenInput that opens `path` afresh on every call.
replay::OpenInput input_file_opener(const std::string& path);
// The first `n` bytes of the (decompressed) file, for format sniffing.
std::string read_head(const std::string& path, size_t n = 64 * 1024);

}  // namespace cachefwd::load
