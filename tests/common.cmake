# common/ unit tests.
greeter_add_test(test_addr test_addr.cc UNIT)
greeter_add_test(test_parse test_parse.cc UNIT)
greeter_add_test(test_cli test_cli.cc UNIT)
greeter_add_test(test_cidr test_cidr.cc UNIT)
greeter_add_test(test_dlist test_dlist.cc UNIT)
greeter_add_test(test_proxy_header test_proxy_header.cc UNIT)
greeter_add_test(test_net_close test_net_close.cc UNIT)
