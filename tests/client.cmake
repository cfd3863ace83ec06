# client tests: greeter-client as a process.
greeter_add_test(test_client test_client.cc)
