# Checks a Promela model exhaustively with spin: generates the verifier, compiles it and
# runs it, failing unless the search completes with no error (no assertion violated, no
# invalid end state) within the memory limit.
#   cmake -DSPIN=... -DCC=... -DMODEL=path.pml -DWORK_DIR=dir -P run_spin.cmake
if(NOT SPIN OR NOT EXISTS "${SPIN}")
  message(FATAL_ERROR "spin is not installed (scripts/install-deps installs it)")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
get_filename_component(name ${MODEL} NAME)
file(COPY ${MODEL} DESTINATION ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGV} WORKING_DIRECTORY ${WORK_DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(last_out "${out}" PARENT_SCOPE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
run(${SPIN} -a ${name})
# SAFETY: assertions and invalid end states (a process blocked for ever); COLLAPSE keeps
# the state vectors small.
run(${CC} -O1 -w -DSAFETY -DCOLLAPSE -DMEMLIM=2048 -o pan pan.c)
run(./pan -m1000000)
message(STATUS "${last_out}")
if(NOT last_out MATCHES "errors: 0")
  message(FATAL_ERROR "spin found an error in ${name}:\n${last_out}")
endif()
if(last_out MATCHES "out of memory" OR last_out MATCHES "max search depth too small")
  message(FATAL_ERROR "the search of ${name} did not complete:\n${last_out}")
endif()
