cmake_minimum_required(VERSION 3.25)
# Fails unless ctest has one entry per doctest test case: the number of
# ctest entries that run the stsync_tests binary with --test-case must equal
# `stsync_tests --count`. Run by ctest as `cmake -DTESTS=... -DBUILD_DIR=...
# -P check_case_count.cmake`.
execute_process(COMMAND ${TESTS} --count
                OUTPUT_VARIABLE count_out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TESTS} --count failed: ${count_out}")
endif()
string(REGEX MATCH "passing the current filters: ([0-9]+)" _ "${count_out}")
set(cases "${CMAKE_MATCH_1}")
if(cases STREQUAL "" OR cases EQUAL 0)
  message(FATAL_ERROR "cannot read the case count from: ${count_out}")
endif()

# ctest's own view of what it will run, as JSON.
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${BUILD_DIR}
                        --show-only=json-v1
                OUTPUT_VARIABLE json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest --show-only failed")
endif()
string(JSON total LENGTH "${json}" tests)
set(entries 0)
math(EXPR last "${total} - 1")
foreach(i RANGE ${last})
  string(JSON command GET "${json}" tests ${i} command)
  if(command MATCHES "--test-case=")
    math(EXPR entries "${entries} + 1")
  endif()
endforeach()

message(STATUS "doctest cases: ${cases}; ctest entries running one: ${entries}")
if(NOT entries EQUAL cases)
  message(FATAL_ERROR
    "ctest has ${entries} entries for ${cases} doctest cases: some cases "
    "never run under ctest (a ';' in a case name splits its entry)")
endif()
