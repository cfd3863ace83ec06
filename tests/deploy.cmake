# deploy tests: socket activation, readiness, reload, upgrade and signals of greeter-server.
greeter_add_test(test_deploy test_deploy.cc)
