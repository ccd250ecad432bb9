#pragma once
// Sockets on 127.0.0.1 for the test origins and for tests that need a port nobody listens on.
#include <cstdint>

namespace cachefwd::testing {

// A listening TCP socket on an ephemeral loopback port; throws std::runtime_error if the kernel
// refuses. The caller owns (and closes) the returned descriptor.
int listen_on_loopback(int backlog, std::uint16_t* port);

// Waits up to timeout_ms for a connection on `listen_fd`; returns it with Nagle off (test peers
// write small pieces and wait on each other), or -1 when none came.
int accept_within(int listen_fd, int timeout_ms);

// A loopback port the kernel just handed out and released: connecting to it is refused until
// something binds it again (0 if no port could be had).
std::uint16_t unused_loopback_port();

}  // namespace cachefwd::testing
