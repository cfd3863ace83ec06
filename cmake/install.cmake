# install.cmake -- what `cmake --install` puts where (GNU directories, DESTDIR and the prefix
# honoured), the man pages made at build time from each tool's --help, and the Debian package
# (`cpack -G DEB`) with its dependencies, conffile and system user.
include(GNUInstallDirs)

install(TARGETS greeter-server greeter-client loadgen RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# One source for each page: the tool's --help (every option, as the tool words it) plus the
# sections only a manual has (docs/man/TOOL.extra).
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "greeter: no python3: the man pages are not made (apt-get install python3)")
else()
  set(GREETER_MAN_PAGES)
  foreach(spec "greeter-server|a greeting server with a thread pool and other concurrency models"
               "greeter-client|the greeting server's client"
               "loadgen|a load generator for servers that speak first")
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tool)
    list(GET parts 1 summary)
    set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/docs/man/help2roff ${tool} "${summary}"
              $<TARGET_FILE:${tool}> ${PROJECT_SOURCE_DIR}/docs/man/${tool}.extra ${page}
      DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/docs/man/help2roff ${PROJECT_SOURCE_DIR}/docs/man/${tool}.extra
      COMMENT "man page ${tool}.1 from ${tool} --help" VERBATIM)
    list(APPEND GREETER_MAN_PAGES ${page})
  endforeach()
  add_custom_target(man ALL DEPENDS ${GREETER_MAN_PAGES})
  install(FILES ${GREETER_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# systemd looks in <prefix>/lib/systemd/system (the library directory may be multiarch).
install(FILES deploy/systemd/greeter.service deploy/systemd/greeter.socket
        DESTINATION lib/systemd/system)
# The environment file is /etc/default/greeter under the /usr prefix (as GNUInstallDirs has
# it), <prefix>/etc/default/greeter under any other: decided at install time, so that
# `cmake --install --prefix` and cpack's /usr both get it right.
set(GREETER_ENV_FILE ${PROJECT_SOURCE_DIR}/deploy/systemd/greeter.env)
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(greeter_env_dir /etc/default)
  else()
    set(greeter_env_dir \${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}/default)
  endif()
  file(INSTALL DESTINATION \${greeter_env_dir} TYPE FILE RENAME greeter FILES \"${GREETER_ENV_FILE}\")
")
install(FILES README.md SECURITY.md docs/deploy.md docs/architecture.md docs/metrics.md
              deploy/prometheus/greeter-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME greeter)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "greeter maintainers <greeter@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "greeting server, client and load generator")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # libc6, libssl3, ... from the binaries themselves
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
