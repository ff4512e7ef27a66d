// Test support: a registry's Prometheus text exposition as a string, for
// tests that check the series a component reports. Header-only (keel::core
// is all it needs), so any keel_add_test target may include it.

#ifndef KEEL_TESTS_TESTING_PROMETHEUS_TEXT_H_
#define KEEL_TESTS_TESTING_PROMETHEUS_TEXT_H_

#include <string>

#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"

namespace keel::testing {

inline std::string PrometheusText(const metrics::Registry& registry) {
  std::string text;
  metrics::WriteExposition(registry, metrics::ExpositionFormat::kPrometheusText,
                           &text);
  return text;
}

}  // namespace keel::testing

#endif  // KEEL_TESTS_TESTING_PROMETHEUS_TEXT_H_
