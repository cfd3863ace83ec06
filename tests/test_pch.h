/* test_pch.h -- the headers nearly every test program parses, precompiled once per build:
 * GoogleTest and the standard library's containers and streams are most of a test's compile
 * time. Nothing of the project's own goes here (its headers change with the code). */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
