# metrics tests: --metrics against promtool and a real Prometheus, and the alert rules.
greeter_add_test(test_metrics test_metrics.cc LIBS greeter_server_core)
# Prometheus takes seconds to start and adds nothing a sanitizer would find that the other
# metrics tests miss: it runs in the plain build only.
if(GREETER_SANITIZE)
  target_compile_definitions(test_metrics PRIVATE GREETER_SANITIZED=1)
endif()
