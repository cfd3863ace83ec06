# client tests: greeter-client as a process.
greeter_add_test(test_client test_client.cc)
# greeter-client's bounds (time, memory, size) against hostile servers written in the test.
greeter_add_test(test_robust_client test_robust_client.cc)
add_dependencies(test_robust_client greeter-client greeter-server)
