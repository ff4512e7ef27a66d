# Compiler settings shared by every keel target: warnings, sanitizers and ccache.

if(KEEL_IS_TOP_LEVEL AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(KEEL_CCACHE ccache)
  if(KEEL_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${KEEL_CCACHE}")
  endif()
endif()

# Sanitizers apply to the whole build (library, tests, benchmarks) so that every
# frame on a report is instrumented.
if(KEEL_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(KEEL_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT KEEL_SANITIZER STREQUAL "")
  message(FATAL_ERROR "KEEL_SANITIZER must be empty, 'address' or 'thread', not '${KEEL_SANITIZER}'")
endif()

# keel_target_warnings(<target>): keel's warning set, private to keel's own targets so
# consumers never inherit it.
function(keel_target_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Woverloaded-virtual
      -Wimplicit-fallthrough -Wmissing-declarations)
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      target_compile_options(${target} PRIVATE -Wthread-safety -Wthread-safety-beta)
    endif()
    if(KEEL_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
