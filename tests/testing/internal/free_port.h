// testing/internal/free_port.h
//
// Picks a TCP port on 127.0.0.1 that is free right now, by binding port 0 and
// reading back the port the kernel chose.
//
// The port is released before the server binds it, so another process can
// take it in between: callers start the server and, if it reports "Address
// already in use", pick again (see ServerProcess::Start).
//
// Example:
//   KEEL_ASSIGN_OR_RETURN(int port, PickFreeLoopbackPort());
//
// Thread safety: safe to call from any thread.

#ifndef KEEL_TESTING_INTERNAL_FREE_PORT_H_
#define KEEL_TESTING_INTERNAL_FREE_PORT_H_

#include "absl/status/statusor.h"

namespace keel::testing_internal {

// Returns a currently unused loopback port in [1, 65535]. Fails with
// kUnavailable when the socket cannot be created or bound (errno in the
// message).
absl::StatusOr<int> PickFreeLoopbackPort();

}  // namespace keel::testing_internal

#endif  // KEEL_TESTING_INTERNAL_FREE_PORT_H_
