# Overlay port for keel, built from the checkout that contains this file
# (packaging/vcpkg/ports/keel -> four levels up). Use it with
#   vcpkg install keel[redis,postgres,httplib] --overlay-ports=<keel>/packaging/vcpkg/ports
# or VCPKG_OVERLAY_PORTS in a consumer's manifest build. vcpkg does not hash a
# local source tree into the package ABI, so after changing keel's sources
# reinstall with `vcpkg remove keel` first (or --no-binarycaching).
# A registry port would replace SOURCE_PATH with vcpkg_from_github() on a
# tagged release.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/cmake/KeelInstall.cmake")
  message(FATAL_ERROR "keel overlay port: no keel checkout at ${SOURCE_PATH}")
endif()

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    redis     KEEL_WITH_REDIS
    postgres  KEEL_WITH_POSTGRES
    httplib   KEEL_WITH_HTTPLIB
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DKEEL_INSTALL=ON
    -DBUILD_TESTING=OFF
    -DKEEL_BUILD_EXAMPLES=OFF
    -DKEEL_BUILD_BENCHMARKS=OFF
    -DKEEL_BUILD_FUZZERS=OFF
    -DKEEL_WARNINGS_AS_ERRORS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME keel CONFIG_PATH lib/cmake/keel)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE
  "${CURRENT_PACKAGES_DIR}/debug/include"
  "${CURRENT_PACKAGES_DIR}/debug/share"
)
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
