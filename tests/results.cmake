# results tests: results/compare --quick against the test build (not under sanitizers, whose
# slowdown would make the quick sweep meaningless and slow).
if(NOT GREETER_SANITIZE)
  greeter_add_test(test_compare test_compare.cc SLOW HEAVY)
endif()
