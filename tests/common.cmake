# common/ unit tests.
greeter_add_test(test_addr test_addr.cc)
greeter_add_test(test_parse test_parse.cc)
greeter_add_test(test_cli test_cli.cc)
greeter_add_test(test_cidr test_cidr.cc)
greeter_add_test(test_dlist test_dlist.cc)
greeter_add_test(test_proxy_header test_proxy_header.cc)
greeter_add_test(test_net_close test_net_close.cc)
