# Install rules for keel: libraries, public headers, a CMake package and
# pkg-config files.
#
# Layout under the install prefix:
#   include/keel/...                         public headers (the HEADERS file sets)
#   <libdir>/libkeel_<component>.{a,so}      one library per component
#   <libdir>/cmake/keel/keelConfig.cmake     find_package(keel COMPONENTS ...)
#   <libdir>/cmake/keel/keelConfigVersion.cmake
#   <libdir>/cmake/keel/keel-<component>-targets*.cmake
#   <libdir>/cmake/keel/KeelFindPackages.cmake  dependency lookup used by the config
#   <libdir>/pkgconfig/keel.pc, keel-<component>.pc
#
# Each component has its own export set and targets file so that a core-only
# consumer never loads (or needs the dependencies of) redis, postgres or httplib.
# Only the components that this build defines are installed; keelConfig.cmake
# records that list and rejects requests for the others with a clear message.

include(CMakePackageConfigHelpers)

set(KEEL_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/keel" CACHE STRING
    "Where keelConfig.cmake and the exported targets are installed, relative to the prefix")
mark_as_advanced(KEEL_INSTALL_CMAKEDIR)

# Every component keel knows about, in dependency order (core first).
set(KEEL_KNOWN_COMPONENTS core redis postgres httplib)

# The dependency of each backend component: its imported target (defined by
# KeelFindPackages.cmake) and its pkg-config module.
set(_keel_dep_target_redis hiredis::hiredis)
set(_keel_dep_target_postgres libpqxx::pqxx)
set(_keel_dep_target_httplib httplib::httplib)
set(_keel_pc_dep_redis hiredis)
set(_keel_pc_dep_postgres libpqxx)
set(_keel_pc_dep_httplib cpp-httplib)
# pkg-config modules a component's sources call without its headers exposing
# them (private: Requires.private, or Requires for a static library).
set(_keel_pc_private_deps_postgres libpq)
# With TLS (src/redis/CMakeLists.txt), keel::redis also calls hiredis_ssl and
# libssl.
if(TARGET hiredis_ssl::hiredis_ssl)
  set(_keel_pc_private_deps_redis hiredis_ssl libssl)
endif()

# A backend dependency that keel links PUBLIC (its types appear in keel's headers)
# is needed by every consumer; a PRIVATE one only by consumers of a static keel.
# Read from the targets, so keelConfig.cmake and the .pc files follow
# src/CMakeLists.txt.
function(_keel_dependency_is_public component out)
  get_target_property(links keel_${component} INTERFACE_LINK_LIBRARIES)
  if(_keel_dep_target_${component} IN_LIST links)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Builds that take a dependency from its CMake package (vcpkg's header-only
# cpp-httplib, Conan) may have no .pc file for it; a .pc must not require a
# module that pkg-config cannot find, so such a dependency is left out.
find_package(PkgConfig QUIET)
function(_keel_pc_module_exists module out)
  set(${out} FALSE PARENT_SCOPE)
  if(PKG_CONFIG_FOUND)
    execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --exists "${module}"
                    RESULT_VARIABLE result)
    if(result EQUAL 0)
      set(${out} TRUE PARENT_SCOPE)
    endif()
  endif()
endfunction()

# The .pc files locate the prefix from their own directory so that
# `cmake --install --prefix <dir>` and relocated packages work unchanged.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(KEEL_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(KEEL_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(KEEL_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _keel_pc_to_prefix "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" _keel_pc_to_prefix "${_keel_pc_to_prefix}")
  set(KEEL_PC_PREFIX "\${pcfiledir}/${_keel_pc_to_prefix}")
  set(KEEL_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(KEEL_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()

# _keel_install_pkg_config(<component>): writes keel.pc (core) or
# keel-<component>.pc. A static library cannot hide its dependencies, so for a
# static build the private dependencies move to Requires/Libs and a plain
# `pkg-config --libs` links; a shared build keeps them private.
# nlohmann_json is header-only and used only inside keel's sources, so no .pc
# names it.
function(_keel_install_pkg_config component)
  get_target_property(type keel_${component} TYPE)
  set(requires)
  set(requires_private)
  set(libs "-L\${libdir} -lkeel_${component}")
  set(cflags "-I\${includedir}")
  if(component STREQUAL "core")
    set(KEEL_PC_NAME keel)
    set(KEEL_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: core (base, telemetry, components, facade)")
    set(requires absl_status absl_statusor absl_strings)
    set(private_deps libcrypto)
    # Threads::Threads is a public dependency of keel::core.
    string(APPEND libs " -pthread")
    string(APPEND cflags " -pthread")
  else()
    set(KEEL_PC_NAME keel-${component})
    set(KEEL_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: ${component} component")
    set(requires "keel = ${PROJECT_VERSION}")
    set(private_deps)
    set(module ${_keel_pc_dep_${component}})
    _keel_pc_module_exists(${module} module_exists)
    _keel_dependency_is_public(${component} public)
    if(NOT module_exists)
      message(STATUS "keel: no pkg-config module '${module}'; ${KEEL_PC_NAME}.pc will not require it")
    elseif(public)
      list(APPEND requires ${module})
    else()
      set(private_deps ${module})
    endif()
    foreach(extra IN LISTS _keel_pc_private_deps_${component})
      _keel_pc_module_exists(${extra} extra_exists)
      if(extra_exists)
        list(APPEND private_deps ${extra})
      endif()
    endforeach()
  endif()
  if(type STREQUAL "STATIC_LIBRARY")
    list(APPEND requires ${private_deps})
  else()
    list(APPEND requires_private ${private_deps})
  endif()
  list(JOIN requires ", " KEEL_PC_REQUIRES)
  list(JOIN requires_private ", " KEEL_PC_REQUIRES_PRIVATE)
  set(KEEL_PC_LIBS "${libs}")
  set(KEEL_PC_CFLAGS "${cflags}")
  set(pc_file "${PROJECT_BINARY_DIR}/pkgconfig/${KEEL_PC_NAME}.pc")
  configure_file("${PROJECT_SOURCE_DIR}/cmake/keel.pc.in" "${pc_file}" @ONLY)
  install(FILES "${pc_file}" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endfunction()

set(KEEL_BUILT_COMPONENTS)
set(KEEL_STATIC_COMPONENTS)
set(KEEL_PUBLIC_DEP_COMPONENTS)
foreach(component IN LISTS KEEL_KNOWN_COMPONENTS)
  if(NOT TARGET keel_${component})
    continue()
  endif()
  list(APPEND KEEL_BUILT_COMPONENTS ${component})
  get_target_property(_keel_type keel_${component} TYPE)
  if(_keel_type STREQUAL "STATIC_LIBRARY")
    list(APPEND KEEL_STATIC_COMPONENTS ${component})
  endif()
  if(NOT component STREQUAL "core")
    _keel_dependency_is_public(${component} _keel_public)
    if(_keel_public)
      list(APPEND KEEL_PUBLIC_DEP_COMPONENTS ${component})
    endif()
  endif()
  install(TARGETS keel_${component}
    EXPORT keel-${component}-targets
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
    FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(EXPORT keel-${component}-targets
    NAMESPACE keel::
    FILE keel-${component}-targets.cmake
    DESTINATION "${KEEL_INSTALL_CMAKEDIR}")
  _keel_install_pkg_config(${component})
endforeach()

configure_file("${PROJECT_SOURCE_DIR}/cmake/keelConfig.cmake.in"
               "${PROJECT_BINARY_DIR}/keelConfig.cmake" @ONLY)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/keelConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/keelConfig.cmake"
    "${PROJECT_BINARY_DIR}/keelConfigVersion.cmake"
    "${PROJECT_SOURCE_DIR}/cmake/KeelFindPackages.cmake"
  DESTINATION "${KEEL_INSTALL_CMAKEDIR}")

if(EXISTS "${PROJECT_SOURCE_DIR}/LICENSE")
  install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
endif()
