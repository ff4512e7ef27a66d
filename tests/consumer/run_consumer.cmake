# Driver of keel's consumer tests (registered in tests/consumer/CMakeLists.txt):
#   cmake -DMODE=<mode> [-D<VAR>=<value>...] -P run_consumer.cmake
#
# MODE=install     cmake --install BUILD_DIR into a fresh PREFIX (CONFIG).
# MODE=cmake       configure, build and run the consumer project SOURCE_DIR in
#                  BINARY_DIR (FRESH=ON wipes it first) with GENERATOR,
#                  CXX_COMPILER, CXX_FLAGS, LAUNCHER, CONFIG and the cache
#                  entries in ARGS.
# MODE=cmake-fail  configure as above and pass only if configuration fails with
#                  output matching EXPECT_REGEX.
# MODE=pkgconfig   compile and link SOURCES with CXX_COMPILER and the flags of
#                  `PKG_CONFIG --cflags --libs MODULES` for PREFIX/LIBDIR/pkgconfig
#                  (plus DEFINES), then run the program.
# List arguments (ARGS, MODULES, SOURCES, DEFINES) separate items with '|'
# because ';' does not survive a CTest command line; a list value inside one ARGS
# item (KEY=a,b) separates its items with ','.

cmake_minimum_required(VERSION 3.23)

function(keel_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE output)
  string(REPLACE ";" " " command "${ARGN}")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "command failed (${result}): ${command}\n${output}")
  endif()
  message(STATUS "ok: ${command}")
  set(keel_run_output "${output}" PARENT_SCOPE)
endfunction()

function(keel_require)
  foreach(var IN LISTS ARGN)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      message(FATAL_ERROR "run_consumer.cmake: MODE=${MODE} needs -D${var}=...")
    endif()
  endforeach()
endfunction()

foreach(list_var IN ITEMS ARGS MODULES SOURCES DEFINES)
  string(REPLACE "|" ";" ${list_var} "${${list_var}}")
endforeach()
# --config only for a build type that is known (multi-config generators).
set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

# The cmake command line that configures the consumer project.
macro(keel_configure_command out)
  keel_require(SOURCE_DIR BINARY_DIR GENERATOR CXX_COMPILER)
  if(FRESH)
    file(REMOVE_RECURSE "${BINARY_DIR}")
  endif()
  set(${out} "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
      "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_BUILD_TYPE=${CONFIG}" "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
  # ARGS become an initial cache script, the one way to hand a list value (',' in
  # ARGS) to the consumer without the command line splitting it.
  set(init_cache "")
  foreach(arg IN LISTS ARGS)
    string(REGEX MATCH "^([^=]+)=(.*)$" unused "${arg}")
    string(REPLACE "," ";" value "${CMAKE_MATCH_2}")
    string(APPEND init_cache "set(${CMAKE_MATCH_1} [==[${value}]==] CACHE STRING \"\" FORCE)\n")
  endforeach()
  file(MAKE_DIRECTORY "${BINARY_DIR}")
  file(WRITE "${BINARY_DIR}/consumer-init.cmake" "${init_cache}")
  list(APPEND ${out} -C "${BINARY_DIR}/consumer-init.cmake")
endmacro()

if(MODE STREQUAL "install")
  keel_require(BUILD_DIR PREFIX)
  file(REMOVE_RECURSE "${PREFIX}")
  keel_run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args})
  if(NOT EXISTS "${PREFIX}/${LIBDIR}/cmake/keel/keelConfig.cmake")
    message(FATAL_ERROR "install did not produce ${PREFIX}/${LIBDIR}/cmake/keel/keelConfig.cmake")
  endif()

elseif(MODE STREQUAL "cmake")
  keel_configure_command(configure)
  keel_run(${configure})
  keel_run("${CMAKE_COMMAND}" --build "${BINARY_DIR}" ${config_args})
  # Single-config generators put the program in BINARY_DIR, multi-config ones
  # in a folder per configuration (Debug when none is given).
  set(program "${BINARY_DIR}/keel_consumer${CMAKE_EXECUTABLE_SUFFIX}")
  if(NOT EXISTS "${program}")
    set(config_dir "${CONFIG}")
    if(NOT config_dir)
      set(config_dir Debug)
    endif()
    set(program "${BINARY_DIR}/${config_dir}/keel_consumer${CMAKE_EXECUTABLE_SUFFIX}")
  endif()
  keel_run("${program}")
  message(STATUS "${keel_run_output}")

elseif(MODE STREQUAL "cmake-fail")
  keel_require(EXPECT_REGEX)
  keel_configure_command(configure)
  execute_process(COMMAND ${configure} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(result EQUAL 0)
    message(FATAL_ERROR "configuration succeeded but was expected to fail:\n${output}")
  endif()
  # CMake wraps long messages; compare with whitespace runs collapsed.
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${output}")
  if(NOT flat MATCHES "${EXPECT_REGEX}")
    message(FATAL_ERROR "configuration failed without a message matching '${EXPECT_REGEX}':\n${output}")
  endif()
  message(STATUS "configuration failed as expected: ${CMAKE_MATCH_0}")

elseif(MODE STREQUAL "pkgconfig")
  keel_require(PKG_CONFIG PREFIX LIBDIR MODULES SOURCES BINARY_DIR CXX_COMPILER)
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
  foreach(module IN LISTS MODULES)
    keel_run("${PKG_CONFIG}" --validate "${module}")
  endforeach()
  keel_run("${PKG_CONFIG}" --cflags --libs ${MODULES})
  string(STRIP "${keel_run_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  keel_run("${PKG_CONFIG}" --variable=libdir keel)
  string(STRIP "${keel_run_output}" libdir)
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
  set(defines)
  foreach(define IN LISTS DEFINES)
    list(APPEND defines "-D${define}")
  endforeach()
  file(REMOVE_RECURSE "${BINARY_DIR}")
  file(MAKE_DIRECTORY "${BINARY_DIR}")
  set(program "${BINARY_DIR}/keel_consumer${CMAKE_EXECUTABLE_SUFFIX}")
  # The rpath lets a shared libkeel be found without LD_LIBRARY_PATH.
  keel_run("${CXX_COMPILER}" ${cxx_flags} -std=c++17 ${defines} ${SOURCES} ${flags}
           "-Wl,-rpath,${libdir}" -o "${program}")
  keel_run("${program}")
  message(STATUS "${keel_run_output}")

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
