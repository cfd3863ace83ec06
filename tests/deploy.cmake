# deploy tests: socket activation, readiness, reload, upgrade and signals of greeter-server.
greeter_add_test(test_deploy test_deploy.cc)
# The install, the Debian package and the units, checked with cmake --install, cpack, dpkg-deb
# and systemd-analyze. Once per suite: the sanitizer builds add nothing to it.
if(NOT GREETER_SANITIZE)
  add_test(NAME deploy_package COMMAND ${PROJECT_SOURCE_DIR}/tests/deploy-package ${PROJECT_BINARY_DIR})
  set_tests_properties(deploy_package PROPERTIES TIMEOUT 120)
endif()
# The version each tool prints and the metrics page shows: project(VERSION), passed in.
greeter_add_test(test_version test_version.cc)
target_compile_definitions(test_version PRIVATE GREETER_PROJECT_VERSION="${PROJECT_VERSION}")
add_dependencies(test_version loadgen greeter-server greeter-client)
# The event model's upgrade: its per-loop SO_REUSEPORT listeners handed over, no client reset.
greeter_add_test(test_upgrade_event test_upgrade_event.cc)
add_dependencies(test_upgrade_event greeter-server greeter-client loadgen)
