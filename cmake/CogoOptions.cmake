include(${CMAKE_CURRENT_LIST_DIR}/CogoSites.cmake)
# Compiler settings shared by every cogo target.
include(GNUInstallDirs)

set(_cogo_san_flags "")
if(COGO_SANITIZER)
  if(NOT COGO_SANITIZER MATCHES "^(address|thread|undefined|address,undefined)$")
    message(FATAL_ERROR "COGO_SANITIZER must be one of address, thread, undefined, address,undefined")
  endif()
  set(_cogo_san_flags -fsanitize=${COGO_SANITIZER} -fno-omit-frame-pointer)
  if(COGO_SANITIZER MATCHES "undefined")
    list(APPEND _cogo_san_flags -fno-sanitize-recover=undefined)
  endif()
  # Sanitizers apply to everything in the build, dependencies built here included.
  add_compile_options(${_cogo_san_flags})
  add_link_options(${_cogo_san_flags})
  # The small-object cache would hide use-after-free from AddressSanitizer. cogo::core
  # carries the definition to its consumers (see src/CMakeLists.txt).
  add_compile_definitions(COGO_NO_POOL=1)
endif()

function(cogo_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # Checks the COGO_GUARDED_BY / COGO_REQUIRES annotations on cogo's locks.
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(COGO_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # Sites recorded by std::source_location print relative to the project root.
  cogo_relative_sites(${target} ROOT ${PROJECT_SOURCE_DIR})
endfunction()
