// keel/ratelimit/internal/gcra_config.h
//
// Internal to keel's rate limiters: the configuration of one GCRA bucket,
// shared by TokenBucket (which stores it in its object layout) and the GCRA
// arithmetic in src/ratelimit/gcra.h. Not part of the public API.
//
// Thread safety: a plain value.

#ifndef KEEL_RATELIMIT_INTERNAL_GCRA_CONFIG_H_
#define KEEL_RATELIMIT_INTERNAL_GCRA_CONFIG_H_

#include <cstdint>

namespace keel {
namespace ratelimit_internal {

// One bucket's configuration.
struct GcraConfig {
  std::int64_t interval_ns = 1;  // time to accrue one permit, >= 1
  std::int64_t burst = 1;        // bucket size in permits, >= 1
  std::int64_t max_debt = 0;     // extra permits Reserve may borrow, >= 0
  double inverse = 1.0;          // 1.0 / interval_ns, for PermitsIn()
};

}  // namespace ratelimit_internal
}  // namespace keel

#endif  // KEEL_RATELIMIT_INTERNAL_GCRA_CONFIG_H_
