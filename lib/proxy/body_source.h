#pragma once
// What feeds the current response's body to a client connection, in the manner of h2o's
// generators: the connection calls proceed() when its write queue has drained below the
// low-water mark (more bytes are welcome), and stop() when the client goes away (stop producing,
// release what you hold). Two sources exist: a fill in progress (Subscription: the upstream
// response, shared by its waiters, each at its own pace; the upstream pauses when nobody has
// room and nothing is being stored) and a CONNECT tunnel (the remote socket's reads stop and
// resume). A stored body needs neither call: it is written whole, from the entry's own bytes
// (zero-copy), and the socket queue holds a reference to them.
namespace cachefwd::proxy {

class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual void proceed() = 0;
  virtual void stop() = 0;
};

}  // namespace cachefwd::proxy
