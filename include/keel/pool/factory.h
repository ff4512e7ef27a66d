// keel/pool/factory.h
//
// `keel::pool::Factory<Conn>`: what a pool needs to know about a connection
// type: how to open one within a time budget, a cheap liveness check done at
// every hand-out, a round-trip validation done only after the connection sat
// idle, and a reset that cleans session state when a lease is returned.
// Connections are destroyed through their std::unique_ptr.
//
// Example:
//   class RedisFactory : public keel::pool::Factory<keel::redis::Connection> {
//    public:
//     absl::StatusOr<std::unique_ptr<keel::redis::Connection>> Create(
//         std::chrono::nanoseconds timeout) override { ... }
//     bool IsAlive(keel::redis::Connection& c) override {
//       return !c.broken();
//     }
//     absl::Status Validate(keel::redis::Connection& c) override {
//       return c.Ping();
//     }
//   };
//
// Thread safety: the pool calls a factory from many threads at once (connector
// threads, acquiring and releasing callers), each call on a different
// connection; implementations must be thread-safe for that. Methods must not
// throw (the pool maps an escaping exception to kInternal / a failed check)
// and must not call back into the pool, except Pool::EvictAll() (the pool
// holds no lock while it calls a factory), e.g. from Reset() when a
// connection shows that every other one is stale too (a failover).

#ifndef KEEL_POOL_FACTORY_H_
#define KEEL_POOL_FACTORY_H_

#include <chrono>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel::pool {

template <typename Conn>
class Factory {
 public:
  virtual ~Factory() = default;

  // Opens a connection, giving up after about `timeout`. Runs on a pool-owned
  // connector thread. Any error is counted, remembered as the last connect
  // error (quoted in acquire timeouts) and triggers connect backoff.
  virtual absl::StatusOr<std::unique_ptr<Conn>> Create(
      std::chrono::nanoseconds timeout) = 0;

  // Cheap local check run on every hand-out (no round trip: e.g. a flag, or a
  // zero-timeout poll() of the socket). False discards the connection and the
  // caller gets another one. Default: true.
  virtual bool IsAlive(Conn& conn) {
    (void)conn;
    return true;
  }

  // Round-trip check (PING, SELECT 1) run at hand-out on connections idle for
  // at least validation_idle_threshold, and by keepalive. Non-OK discards the
  // connection. Default: OK.
  virtual absl::Status Validate(Conn& conn) {
    (void)conn;
    return absl::OkStatus();
  }

  // Run when a lease is returned (unless marked broken), on the releasing
  // thread: restore a clean session (roll back an open transaction, ...) or
  // return non-OK to have the connection discarded, so that no caller is ever
  // handed a dirty connection. Default: OK.
  virtual absl::Status Reset(Conn& conn) {
    (void)conn;
    return absl::OkStatus();
  }
};

}  // namespace keel::pool

#endif  // KEEL_POOL_FACTORY_H_
