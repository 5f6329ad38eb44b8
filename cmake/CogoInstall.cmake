include(CMakePackageConfigHelpers)

set(_cogo_targets cogo_core cogo_diag)
if(TARGET cogo_testing)
  list(APPEND _cogo_targets cogo_testing)
  set(COGO_HAS_TESTING ON)
else()
  set(COGO_HAS_TESTING OFF)
endif()
install(TARGETS ${_cogo_targets} EXPORT cogo-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# testing.hpp ships only with the target that links GoogleTest.
install(DIRECTORY include/cogo DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN testing.hpp EXCLUDE)
if(COGO_HAS_TESTING)
  install(FILES include/cogo/testing.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cogo)
endif()
install(EXPORT cogo-targets NAMESPACE cogo:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)

configure_package_config_file(cmake/cogo-config.cmake.in
  ${PROJECT_BINARY_DIR}/cogo-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cogo-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cogo-config.cmake ${PROJECT_BINARY_DIR}/cogo-config-version.cmake
  cmake/CogoSites.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)
