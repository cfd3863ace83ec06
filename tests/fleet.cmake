# fleet tests: --shard and --start-at arithmetic, the manifests, and a fleet in network namespaces.
greeter_add_test(test_shard test_shard.cc LIBS loadgen_core UNIT)
# A 3-host fleet in network namespaces (needs root; skipped with the reason otherwise).
add_test(NAME fleet.three_hosts_in_namespaces
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fleet_netns.py ${PROJECT_BINARY_DIR})
set_tests_properties(fleet.three_hosts_in_namespaces PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
# The Kubernetes manifests parsed (PyYAML) and the fields the fleet recipe relies on checked.
add_test(NAME fleet.kubernetes_manifests
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fleet_manifests.py $<TARGET_FILE:loadgen>)
# The fleet merge on recorded values, and mismatched or hostile inputs.
greeter_add_test(test_fleet_merge test_fleet_merge.cc LIBS loadgen_core UNIT)
# loadgen plot on a real run: the SVG parses and holds every series; the HTML fetches nothing.
add_test(NAME fleet.plot_svg COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/plot_svg.py ${PROJECT_BINARY_DIR})
set_tests_properties(fleet.plot_svg PROPERTIES TIMEOUT 60)
# greeter-server's Kubernetes manifests parsed and checked, and their command lines run here.
add_test(NAME fleet.server_manifests
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/server_manifests.py $<TARGET_FILE:greeter-server>)
set_tests_properties(fleet.server_manifests PROPERTIES TIMEOUT 60)
