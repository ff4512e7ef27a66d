# Helpers for keel's tests, fuzzers and benchmarks.
#
# keel_add_test(<name> SOURCES <src>... [LIBS <lib>...] [LABELS <label>...]
#               [TIMEOUT <seconds>])
#   One GoogleTest executable and one CTest entry. Labels: `unit` is added unless
#   `integration` is given; add `concurrency` for stress tests that must stay in the
#   ThreadSanitizer run.
#
# keel_add_fuzzer(<name> SOURCES <src>... [LIBS <lib>...] [SECONDS <n>])
#   A libFuzzer target tests/fuzz/<name>.cc with a seed corpus in
#   tests/fuzz/corpus/<name>/. With KEEL_BUILD_FUZZERS (clang) it is a real fuzzer
#   and CTest runs it for SECONDS (default 20, fixed seed so a CI failure
#   reproduces); otherwise it is built with a replay
#   driver that runs every seed input, so the corpus is regression-tested on every
#   compiler.
#
# keel_add_benchmark(<name> SOURCES <src>... [LIBS <lib>...])
#   A Google Benchmark program, run by the `keel_run_benchmarks` target. With
#   BUILD_TESTING it is also a CTest entry (label `benchmark`) that runs every case
#   for a moment, so benchmarks cannot rot; timings are never asserted.
#
# keel_label_directory_tests(<label>)
#   Adds <label> to every test the calling directory has defined so far.

include_guard(GLOBAL)

function(keel_label_directory_tests label)
  get_directory_property(tests TESTS)
  set_property(TEST ${tests} APPEND PROPERTY LABELS ${label})
endfunction()

function(keel_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TIMEOUT" "SOURCES;LIBS;LABELS")
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE keel::core ${arg_LIBS} GTest::gmock GTest::gtest_main)
  # Header-only test support (tests/testing/prometheus_text.h, ...).
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  if(TARGET keel_test_pch)
    target_precompile_headers(${name} REUSE_FROM keel_test_pch)
  endif()
  keel_target_warnings(${name})
  set(labels ${arg_LABELS})
  if(NOT "integration" IN_LIST labels)
    list(APPEND labels unit)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${arg_TIMEOUT})
endfunction()

function(keel_add_fuzzer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SECONDS" "SOURCES;LIBS")
  if(NOT arg_SECONDS)
    set(arg_SECONDS 20)
  endif()
  set(corpus "${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name}")
  if(KEEL_BUILD_FUZZERS)
    add_executable(${name} ${arg_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE keel::core ${arg_LIBS})
    set(work "${CMAKE_CURRENT_BINARY_DIR}/corpus/${name}")
    file(MAKE_DIRECTORY "${work}")
    # New inputs go to the build tree; the seed corpus stays read-only.
    add_test(NAME ${name}
             COMMAND ${name} -seed=1 -max_total_time=${arg_SECONDS} -timeout=10 -rss_limit_mb=2048
                     -print_final_stats=1 "${work}" "${corpus}")
    set_tests_properties(${name} PROPERTIES LABELS "fuzz" TIMEOUT 600)
  else()
    add_executable(${name} ${arg_SOURCES} "${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc")
    target_link_libraries(${name} PRIVATE keel::core ${arg_LIBS})
    add_test(NAME ${name} COMMAND ${name} "${corpus}")
    set_tests_properties(${name} PROPERTIES LABELS "unit;fuzz-replay" TIMEOUT 300)
  endif()
  keel_target_warnings(${name})
endfunction()

function(keel_add_benchmark name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LIBS")
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE keel::core ${arg_LIBS} benchmark::benchmark)
  keel_target_warnings(${name})
  set_property(GLOBAL APPEND PROPERTY KEEL_BENCHMARKS ${name})
  if(BUILD_TESTING)
    add_test(NAME ${name} COMMAND ${name} --benchmark_min_time=0.001)
    set_tests_properties(${name} PROPERTIES LABELS "benchmark" TIMEOUT 300)
  endif()
endfunction()
