# Installs this build of cogo into WORK_DIR/prefix, then configures, builds and runs a
# consumer that finds it with find_package(cogo). FLAGS are the build's sanitizer flags:
# the consumer must be built as cogo was, and an installed sanitizer build carries
# COGO_NO_POOL to it (checked below).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
file(GLOB_RECURSE targets_file ${prefix}/*/cogo-targets.cmake)
file(READ ${targets_file} targets)
if(FLAGS AND NOT targets MATCHES "COGO_NO_POOL=1")
  message(FATAL_ERROR "an installed sanitizer build must carry COGO_NO_POOL to consumers")
endif()
if(NOT FLAGS AND targets MATCHES "COGO_NO_POOL")
  message(FATAL_ERROR "a release build must not turn the pool off for consumers")
endif()
if(EXISTS ${prefix}/include/cogo/testing.hpp AND NOT targets MATCHES "cogo::testing")
  message(FATAL_ERROR "testing.hpp installed without the cogo::testing target")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/consumer -G Ninja
    -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${FLAGS}" -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
execute_process(COMMAND ${WORK_DIR}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
# The site is relative to the consumer's source tree: cogo_relative_sites(consumer).
if(NOT rc EQUAL 0 OR NOT out MATCHES "context canceled at main.cpp:[0-9]+")
  message(FATAL_ERROR "consumer failed (${rc}): ${out}")
endif()
message(STATUS "consumer: ${out}")
