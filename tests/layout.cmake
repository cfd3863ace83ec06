# layout tests: no include cycle between modules, no folder of code above 15 C files.
add_test(NAME layout.include_cycles_and_folder_sizes
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/layout_check.py)
set_tests_properties(layout.include_cycles_and_folder_sizes PROPERTIES TIMEOUT 60)
