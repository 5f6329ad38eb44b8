# Model-checks MODEL with spin, exhaustively, with the preprocessor flags in DEFINES (a
# ;-list), in WORK_DIR: spin -a, then cc -DSAFETY (assertions and invalid end states:
# a process that never finishes, which is how a lost wake-up shows) with COLLAPSE (the
# state vectors compressed), then ./pan. Fails unless pan reports "errors: 0" for a
# search that ran to its end.
if(NOT SPIN OR NOT EXISTS "${SPIN}")
  message(FATAL_ERROR "spin is not installed (scripts/install-deps installs it)")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(spin_defines "")
foreach(d IN LISTS DEFINES)
  list(APPEND spin_defines -D${d})
endforeach()
execute_process(COMMAND ${SPIN} -a ${spin_defines} ${MODEL} WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spin -a failed:\n${out}")
endif()
execute_process(COMMAND ${CC} -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=2048 -o pan pan.c WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling pan failed:\n${out}")
endif()
execute_process(COMMAND ./pan -m1000000 WORKING_DIRECTORY ${WORK_DIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT out MATCHES "errors: 0")
  message(FATAL_ERROR "the model has errors (see the trail in ${WORK_DIR})")
endif()
if(out MATCHES "max search depth too small" OR out MATCHES "out of memory" OR
   out MATCHES "reached -DMEMLIM bound" OR out MATCHES "Search not completed")
  message(FATAL_ERROR "the search was cut short (depth or memory)")
endif()
