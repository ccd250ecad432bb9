// LD_PRELOAD shim for end-to-end tests: names under .slow-dns.test take SLOW_RESOLVER_MS (default
// 3000) to fail to resolve, as with an unresponsive DNS server, without any packet leaving the
// machine (tests must stay on loopback). Every other name goes to the C library.
#include <dlfcn.h>
#include <netdb.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  using Real = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "getaddrinfo"));
  static constexpr char kSuffix[] = ".slow-dns.test";
  std::size_t n = node ? std::strlen(node) : 0;
  if (n >= sizeof(kSuffix) - 1 && std::strcmp(node + n - (sizeof(kSuffix) - 1), kSuffix) == 0) {
    const char* ms = std::getenv("SLOW_RESOLVER_MS");
    std::this_thread::sleep_for(std::chrono::milliseconds(ms ? std::atoi(ms) : 3000));
    return EAI_NONAME;
  }
  return real(node, service, hints, res);
}
