# server tests: the queue in-process, the server as a process.
greeter_add_test(test_queue test_queue.cc LIBS greeter_server_core UNIT)
greeter_add_test(test_pool_policy test_pool_policy.cc LIBS greeter_server_core UNIT)
greeter_add_test(test_mem_trim test_mem_trim.cc LIBS greeter_server_core UNIT)
greeter_add_test(test_server test_server.cc)
greeter_add_test(test_server_options test_server_options.cc server_options_probe.c LIBS greeter_server_core)
greeter_add_test(test_models test_models.cc)
greeter_add_test(test_transports test_transports.cc)
greeter_add_test(test_tls_e2e test_tls_e2e.cc)
greeter_add_test(test_admission test_admission.cc LIBS greeter_server_core)
greeter_add_test(test_limits test_limits.cc)
greeter_add_test(test_admission_release test_admission_release.cc)
greeter_add_test(test_hostile test_hostile.cc)
greeter_add_test(test_proxy_protocol test_proxy_protocol.cc)
greeter_add_test(test_waiting_room test_waiting_room.cc)
# Its reconnect race runs 750 TLS connections: a sanitized server takes 20 s for them (TSan),
# so there it runs fewer, enough for the sanitizers to see the paths.
if(GREETER_SANITIZE)
  target_compile_definitions(test_waiting_room PRIVATE GREETER_SANITIZED=1)
endif()
# A fork-model child binds no symbols of its own (BIND_NOW).
greeter_add_test(test_fork_cost test_fork_cost.cc)
# The system calls per greeting, counted by strace.
greeter_add_test(test_syscall_cost test_syscall_cost.cc)
# The stop signals blocked in every thread and child, taken from a signalfd.
greeter_add_test(test_signals test_signals.cc)
# A stop under load: the listeners' queues taken, later clients refused, none reset.
greeter_add_test(test_stop_drain test_stop_drain.cc)
add_dependencies(test_stop_drain greeter-server loadgen)
greeter_add_test(test_thread_names test_thread_names.cc)
# valgrind and sanitizers do not mix: the memory check runs in the plain build only.
if(NOT GREETER_SANITIZE)
  greeter_add_test(test_valgrind test_valgrind.cc)
endif()
# The process models when their processes die: counts that add up, no orphans.
greeter_add_test(test_robust_server test_robust_server.cc)
add_dependencies(test_robust_server greeter-server loadgen)
# Memory after TLS floods (event, pool, thread models); not under sanitizers, whose
# allocators keep freed memory on purpose (quarantine).
if(NOT GREETER_SANITIZE)
  greeter_add_test(test_robust_memory test_robust_memory.cc HEAVY)
  add_dependencies(test_robust_memory greeter-server loadgen)
endif()
greeter_add_test(test_balancers test_balancers.cc)
greeter_add_test(test_scale_out test_scale_out.cc SLOW)
# Hostile clients: UDP anti-amplification, --rate-per-ip.
greeter_add_test(test_amplification test_amplification.cc)
add_dependencies(test_amplification greeter-server greeter-client loadgen)
greeter_add_test(test_rate_limit test_rate_limit.cc)
add_dependencies(test_rate_limit greeter-server loadgen)
