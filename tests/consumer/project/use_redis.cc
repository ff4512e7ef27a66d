// keel::redis from a consumer: validating options needs no server but pulls in
// the connection code and therefore hiredis at link time.

#include <cstdio>

#include "absl/status/status.h"
#include "consumer.h"
#include "keel/redis/connection.h"

namespace keel_consumer {

bool UseRedis() {
  keel::redis::ConnectionOptions options;
  if (!keel::redis::ValidateConnectionOptions(options).ok()) {
    std::fprintf(stderr, "redis: default options rejected\n");
    return false;
  }
  options.port = -1;
  const absl::Status status = keel::redis::ValidateConnectionOptions(options);
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    std::fprintf(stderr, "redis: port -1 gave %s\n", status.ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace keel_consumer
