# Compiles SOURCE twice: as written it must fail with the diagnostic named on its
# "// expect-error: REGEX" line; with -DCOGO_COMPILE_FAIL_CONTROL it must compile.
file(STRINGS ${SOURCE} expect_line REGEX "^// expect-error: ")
if(NOT expect_line)
  message(FATAL_ERROR "${SOURCE}: no '// expect-error: REGEX' line")
endif()
string(REGEX REPLACE "^// expect-error: " "" expect "${expect_line}")
set(flags -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE})

execute_process(COMMAND ${CXX} ${flags} -DCOGO_COMPILE_FAIL_CONTROL ${SOURCE}
  RESULT_VARIABLE control_rc ERROR_VARIABLE control_err)
if(NOT control_rc EQUAL 0)
  message(FATAL_ERROR "control build of ${SOURCE} failed; the case is broken:\n${control_err}")
endif()

execute_process(COMMAND ${CXX} ${flags} ${SOURCE} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT err MATCHES "${expect}")
  message(FATAL_ERROR "${SOURCE} failed for another reason than /${expect}/:\n${err}")
endif()
message(STATUS "${SOURCE}: rejected as expected")
