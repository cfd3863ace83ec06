# loadgen tests: the histogram, loadgen's modules in-process, and loadgen runs as a process.
greeter_add_test(test_hist test_hist.cc)
greeter_add_test(test_loadgen_units test_loadgen_units.cc LIBS loadgen_core)
greeter_add_test(test_loadgen_run test_loadgen_run.cc)
add_dependencies(test_loadgen_run loadgen greeter-server)
greeter_add_test(test_loadgen_transports test_loadgen_transports.cc)
add_dependencies(test_loadgen_transports loadgen greeter-server)
greeter_add_test(test_loadgen_intervals test_loadgen_intervals.cc LIBS loadgen_core)
add_dependencies(test_loadgen_intervals loadgen greeter-server)
