// keel consumer: proves that a project outside keel's tree can build and run
// against keel, whether keel comes from find_package (installed prefix),
// add_subdirectory or pkg-config. KEEL_CONSUMER_WITH_<COMPONENT> is defined
// for each backend component the consumer links.

#include <cstdio>

#include "consumer.h"

int main() {
  int failures = 0;
  if (!keel_consumer::UseCore()) ++failures;
#ifdef KEEL_CONSUMER_WITH_REDIS
  if (!keel_consumer::UseRedis()) ++failures;
#endif
#ifdef KEEL_CONSUMER_WITH_POSTGRES
  if (!keel_consumer::UsePostgres()) ++failures;
#endif
#ifdef KEEL_CONSUMER_WITH_HTTPLIB
  if (!keel_consumer::UseHttplib()) ++failures;
#endif
  if (failures != 0) {
    std::fprintf(stderr, "keel consumer: %d component check(s) failed\n",
                 failures);
    return 1;
  }
  std::printf("keel consumer: ok\n");
  return 0;
}
