# fleet tests: --shard and --start-at arithmetic, the manifests, and a fleet in network namespaces.
greeter_add_test(test_shard test_shard.cc LIBS loadgen_core)
