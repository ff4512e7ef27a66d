# Runs the built keel-flags CLI on the files in testdata/ and checks exit codes
# and output, as a user's CI would.
#   cmake -DKEEL_FLAGS=<keel-flags> -DTESTDATA=<dir> -P cli_test.cmake

set(failures 0)

# expect(<name> <exit code> <stdout regex> <stderr regex> ARGS <arg>...)
# An empty regex requires an empty stream.
function(expect name code out_regex err_regex)
  cmake_parse_arguments(PARSE_ARGV 4 arg "" "" "ARGS")
  execute_process(COMMAND "${KEEL_FLAGS}" ${arg_ARGS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(problems "")
  if(NOT rc STREQUAL "${code}")
    string(APPEND problems "exit code ${rc}, want ${code}; ")
  endif()
  foreach(stream out err)
    set(regex "${${stream}_regex}")
    if(regex STREQUAL "")
      if(NOT "${${stream}}" STREQUAL "")
        string(APPEND problems "std${stream} should be empty; ")
      endif()
    elseif(NOT "${${stream}}" MATCHES "${regex}")
      string(APPEND problems "std${stream} does not match '${regex}'; ")
    endif()
  endforeach()
  if(problems)
    message("FAIL ${name}: ${problems}\n  stdout: ${out}\n  stderr: ${err}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  else()
    message("ok   ${name}")
  endif()
endfunction()

set(good "${TESTDATA}/good.json")
set(bad "${TESTDATA}/bad.json")
set(malformed "${TESTDATA}/malformed.json")

# validate
expect(validate_good 0 "" "" ARGS validate "${good}")
expect(validate_bad_default 1 "bad.json: flag 'typo-default': [^\n]*'of'" ""
  ARGS validate "${bad}")
expect(validate_bad_types 1 "bad.json: flag 'mixed-types': " "" ARGS validate "${bad}")
expect(validate_bad_operator 1 "bad.json: flag 'unknown-operator': [^\n]*regex_match" ""
  ARGS validate "${bad}")
expect(validate_bad_lists_only_problems 1 "^[^\n]*bad.json[^\n]*\n[^\n]*bad.json[^\n]*\n[^\n]*bad.json[^\n]*\n$"
  "" ARGS validate "${bad}")
expect(validate_mixed 1 "^[^\n]*bad.json: flag" "" ARGS validate "${good}" "${bad}")
expect(validate_malformed 1 "malformed.json: .+" "" ARGS validate "${malformed}")
expect(validate_missing_file 2 "" "no-such-file.json: cannot read file"
  ARGS validate "${TESTDATA}/no-such-file.json")

# eval
expect(eval_targeting_match 0
  "\"reason\":\"TARGETING_MATCH\".*\"value\":true,\"variant\":\"on\"" ""
  ARGS eval "${good}" new-checkout --context "{\"targetingKey\":\"u1\",\"email\":\"ana@example.com\"}")
expect(eval_targeting_null_is_default 0
  "\"reason\":\"DEFAULT\".*\"value\":false,\"variant\":\"off\"" ""
  ARGS eval "${good}" new-checkout --context "{\"email\":\"ana@elsewhere.org\"}")
expect(eval_static_with_metadata 0
  "\"flagMetadata\":{\"owner\":\"web\",\"team\":\"checkout\"}.*\"reason\":\"STATIC\",\"type\":\"string\",\"value\":\"#00c\",\"variant\":\"blue\"" ""
  ARGS eval "${good}" banner-color)
expect(eval_fractional 0
  "\"reason\":\"TARGETING_MATCH\".*\"value\":\"v[12]\",\"variant\":\"(control|treatment)\"" ""
  ARGS eval "${good}" checkout-experiment --context "{\"targetingKey\":\"user-42\"}" --type string)
expect(eval_disabled 0 "\"reason\":\"DISABLED\".*\"value\":null" ""
  ARGS eval "${good}" retired --type boolean)
expect(eval_flag_not_found 1 "\"errorCode\":\"FLAG_NOT_FOUND\".*\"reason\":\"ERROR\"" ""
  ARGS eval "${good}" no-such-flag)
expect(eval_type_mismatch 1 "\"errorCode\":\"TYPE_MISMATCH\".*\"reason\":\"ERROR\"" ""
  ARGS eval "${good}" new-checkout --type integer)
expect(eval_bad_context 2 "" ".+" ARGS eval "${good}" new-checkout --context "[1,2]")
expect(eval_bad_type 2 "" "unknown type 'float'" ARGS eval "${good}" new-checkout --type float)
expect(eval_invalid_file 2 "" "bad.json: .*typo-default" ARGS eval "${bad}" fine)

# usage
expect(no_arguments 2 "" "usage: keel-flags validate" ARGS)
expect(unknown_command 2 "" "usage: keel-flags" ARGS lint "${good}")
expect(validate_without_files 2 "" "usage: keel-flags" ARGS validate)

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} keel-flags CLI case(s) failed")
endif()
