# Finds keel's optional backend dependencies, CMake config package first and
# pkg-config second (Debian ships only .pc files for hiredis, libpqxx and
# cpp-httplib). Each macro defines the canonical imported target that vcpkg and
# Conan builds also provide, so keel's targets link one name everywhere:
#   keel_find_hiredis()  -> hiredis::hiredis, and hiredis_ssl::hiredis_ssl when
#                           that hiredis (>= 1.0) was built with TLS
#   keel_find_libpqxx()  -> libpqxx::pqxx, and PostgreSQL::PostgreSQL (libpq)
#   keel_find_httplib()  -> httplib::httplib
# This file is installed with keel; keelConfig.cmake uses it for find_dependency.
# Each macro takes REQUIRED to fail configuration when nothing is found, and sets
# keel_<dep>_FOUND.

include_guard(GLOBAL)

# _keel_pkg_config_target(<target> <pc-module> <required>)
macro(_keel_pkg_config_target target module required)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(keel_pc_${module} QUIET IMPORTED_TARGET ${module})
  endif()
  if(TARGET PkgConfig::keel_pc_${module})
    add_library(${target} INTERFACE IMPORTED)
    target_link_libraries(${target} INTERFACE PkgConfig::keel_pc_${module})
    # A static libkeel must carry the dependency's own private dependencies.
    if(NOT BUILD_SHARED_LIBS AND keel_pc_${module}_STATIC_LIBRARIES)
      set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_OPTIONS
                   ${keel_pc_${module}_STATIC_LDFLAGS_OTHER})
    endif()
  elseif(${required})
    message(FATAL_ERROR
      "keel: ${target} not found: neither a CMake config package nor the pkg-config "
      "module '${module}' is available. Install it (Debian: see README.md) or turn the "
      "feature off.")
  endif()
endmacro()

macro(keel_find_hiredis)
  set(_keel_required OFF)
  if("${ARGN}" STREQUAL "REQUIRED")
    set(_keel_required ON)
  endif()
  if(NOT TARGET hiredis::hiredis)
    find_package(hiredis CONFIG QUIET)
  endif()
  if(NOT TARGET hiredis::hiredis)
    _keel_pkg_config_target(hiredis::hiredis hiredis ${_keel_required})
  endif()
  set(keel_hiredis_FOUND FALSE)
  if(TARGET hiredis::hiredis)
    set(keel_hiredis_FOUND TRUE)
  endif()
  # hiredis's TLS library is optional: without it keel::redis refuses TLS.
  if(keel_hiredis_FOUND AND NOT TARGET hiredis_ssl::hiredis_ssl)
    find_package(hiredis_ssl CONFIG QUIET)
    if(NOT TARGET hiredis_ssl::hiredis_ssl)
      _keel_pkg_config_target(hiredis_ssl::hiredis_ssl hiredis_ssl OFF)
    endif()
  endif()
endmacro()

# keel::postgres also calls libpq itself (PQtransactionStatus, which libpqxx
# does not expose), and not every libpqxx package passes libpq on to its
# consumers, so libpq is found with libpqxx: CMake's FindPostgreSQL (which
# vcpkg's libpq and Conan's CMakeDeps also serve) first, pkg-config second.
macro(keel_find_libpqxx)
  set(_keel_required OFF)
  if("${ARGN}" STREQUAL "REQUIRED")
    set(_keel_required ON)
  endif()
  if(NOT TARGET libpqxx::pqxx)
    find_package(libpqxx CONFIG QUIET)
  endif()
  if(NOT TARGET libpqxx::pqxx)
    _keel_pkg_config_target(libpqxx::pqxx libpqxx ${_keel_required})
  endif()
  if(NOT TARGET PostgreSQL::PostgreSQL)
    find_package(PostgreSQL QUIET)
  endif()
  if(NOT TARGET PostgreSQL::PostgreSQL)
    _keel_pkg_config_target(PostgreSQL::PostgreSQL libpq ${_keel_required})
  endif()
  set(keel_libpqxx_FOUND FALSE)
  if(TARGET libpqxx::pqxx AND TARGET PostgreSQL::PostgreSQL)
    set(keel_libpqxx_FOUND TRUE)
  endif()
endmacro()

macro(keel_find_httplib)
  set(_keel_required OFF)
  if("${ARGN}" STREQUAL "REQUIRED")
    set(_keel_required ON)
  endif()
  if(NOT TARGET httplib::httplib)
    find_package(httplib CONFIG QUIET)
  endif()
  if(NOT TARGET httplib::httplib)
    _keel_pkg_config_target(httplib::httplib cpp-httplib ${_keel_required})
  endif()
  set(keel_httplib_FOUND FALSE)
  if(TARGET httplib::httplib)
    set(keel_httplib_FOUND TRUE)
  endif()
endmacro()
