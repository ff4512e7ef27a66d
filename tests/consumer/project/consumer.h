// Checks run by the keel consumer program, one per keel component. Each
// returns true when the component behaves as documented; a false return makes
// the consumer exit non-zero so the CTest consumer test fails.

#ifndef KEEL_TESTS_CONSUMER_PROJECT_CONSUMER_H_
#define KEEL_TESTS_CONSUMER_PROJECT_CONSUMER_H_

namespace keel_consumer {

// keel::core: scheduler driven by a manual clock, bit-exact murmur3.
bool UseCore();

// keel::redis: option validation (links the hiredis-backed connection code).
bool UseRedis();

// keel::postgres: option validation and SQLSTATE mapping (links libpqxx code).
bool UsePostgres();

// keel::httplib: the OTLP/HTTP transport (links cpp-httplib code).
bool UseHttplib();

}  // namespace keel_consumer

#endif  // KEEL_TESTS_CONSUMER_PROJECT_CONSUMER_H_
