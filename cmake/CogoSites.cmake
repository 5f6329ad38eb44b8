# cogo_relative_sites(<target> [ROOT <dir>])
#
# cogo records call sites with std::source_location, whose file names are the paths the
# compiler was given: absolute in most builds. This maps ROOT (default: the calling
# project's source directory) to nothing in <target>'s sources, so that dumps, errors
# and leak reports print "src/handler.cpp:40" instead of "/home/.../src/handler.cpp:40".
function(cogo_relative_sites target)
  cmake_parse_arguments(ARG "" "ROOT" "" ${ARGN})
  if(NOT ARG_ROOT)
    set(ARG_ROOT ${PROJECT_SOURCE_DIR})
  endif()
  get_filename_component(_root "${ARG_ROOT}" ABSOLUTE)
  target_compile_options(${target} PRIVATE "-fmacro-prefix-map=${_root}/=")
endfunction()
