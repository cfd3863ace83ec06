# TLS wrapper unit tests (common/tls.c, or the stub without OpenSSL).
greeter_add_test(test_tls test_tls.cc)
