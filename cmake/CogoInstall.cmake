include(CMakePackageConfigHelpers)

install(TARGETS cogo_core EXPORT cogo-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/cogo DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT cogo-targets NAMESPACE cogo:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)

configure_package_config_file(cmake/cogo-config.cmake.in
  ${PROJECT_BINARY_DIR}/cogo-config.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cogo-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cogo-config.cmake ${PROJECT_BINARY_DIR}/cogo-config-version.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cogo)
