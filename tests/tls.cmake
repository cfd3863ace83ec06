# TLS wrapper unit tests (common/tls.c, or the stub without OpenSSL).
greeter_add_test(test_tls test_tls.cc)
# What the server offers, seen by openssl s_client and testssl.sh (tools/lib.sh installs both).
greeter_add_test(test_tls_groups test_tls_groups.cc SLOW)
add_dependencies(test_tls_groups greeter-server)
