# Finds what the enabled keel targets need.

include(KeelFindPackages)

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)

if(KEEL_WITH_REDIS)
  keel_find_hiredis(REQUIRED)
endif()
if(KEEL_WITH_POSTGRES)
  keel_find_libpqxx(REQUIRED)
endif()
if(KEEL_WITH_HTTPLIB)
  keel_find_httplib(REQUIRED)
endif()
