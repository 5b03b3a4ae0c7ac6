cmake_minimum_required(VERSION 3.25)
# Installs the build at BUILD_DIR into a fresh PREFIX and checks what lands
# there: the binary, the systemd unit pointing at it, the example config;
# nothing of the tests or the fake. Run by ctest with
# -DBUILD_DIR=... -DPREFIX=... -P check_install.cmake.
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}"
                        --prefix "${PREFIX}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${err}")
endif()
file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
list(SORT installed)
message(STATUS "installed: ${installed}")
foreach(expected bin/stsync lib/systemd/system/stsync.service
                 lib/sysusers.d/stsync.conf lib/tmpfiles.d/stsync.conf
                 share/doc/stsync/examples/stsync.example.yaml
                 share/doc/stsync/README.md
                 share/doc/stsync/docs/operations.md)
  if(NOT expected IN_LIST installed)
    message(FATAL_ERROR "cmake --install did not install ${expected}")
  endif()
endforeach()
foreach(f IN LISTS installed)
  if(f MATCHES "fake|test")
    message(FATAL_ERROR "cmake --install installed test code: ${f}")
  endif()
endforeach()
file(READ "${PREFIX}/lib/systemd/system/stsync.service" unit)
if(NOT unit MATCHES "ExecStart=${PREFIX}/bin/stsync run")
  message(FATAL_ERROR "the installed unit does not start ${PREFIX}/bin/stsync")
endif()
file(REMOVE_RECURSE "${PREFIX}")
