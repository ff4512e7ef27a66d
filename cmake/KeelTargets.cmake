# keel_add_library(<component>
#                  HEADER_DIRS <dir>...       folders under include/keel/ owned by it
#                  [HEADER_FILES <file>...]   single headers under include/keel/
#                  [PUBLIC_LINKS <lib>...] [PRIVATE_LINKS <lib>...])
#
# Creates the library keel_<component> with the alias keel::<component>; its public
# headers form a FILE_SET that is installed and, on CMake >= 3.24, each compiled on
# its own (target keel_<component>_verify_interface_header_sets). Sources are added
# by the folders under src/ with target_sources().

function(keel_add_library component)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "HEADER_DIRS;HEADER_FILES;PUBLIC_LINKS;PRIVATE_LINKS")
  set(target keel_${component})
  add_library(${target})
  add_library(keel::${component} ALIAS ${target})

  set(headers)
  foreach(dir IN LISTS arg_HEADER_DIRS)
    file(GLOB_RECURSE dir_headers CONFIGURE_DEPENDS
         "${PROJECT_SOURCE_DIR}/include/keel/${dir}/*.h")
    list(APPEND headers ${dir_headers})
  endforeach()
  foreach(file IN LISTS arg_HEADER_FILES)
    if(EXISTS "${PROJECT_SOURCE_DIR}/include/keel/${file}")
      list(APPEND headers "${PROJECT_SOURCE_DIR}/include/keel/${file}")
    endif()
  endforeach()
  target_sources(${target} PUBLIC
    FILE_SET HEADERS BASE_DIRS "${PROJECT_SOURCE_DIR}/include" FILES ${headers})

  target_compile_features(${target} PUBLIC cxx_std_17)
  target_link_libraries(${target} PUBLIC ${arg_PUBLIC_LINKS} PRIVATE ${arg_PRIVATE_LINKS})
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/src")
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${component}
    OUTPUT_NAME keel_${component}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    POSITION_INDEPENDENT_CODE ON)
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.24)
    set_target_properties(${target} PROPERTIES VERIFY_INTERFACE_HEADER_SETS ON)
  endif()
  keel_target_warnings(${target})
endfunction()
