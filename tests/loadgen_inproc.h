// loadgen_inproc.h -- what loadgen tests that link loadgen_core share: parsing a command line
// in-process and reading loadgen's JSON result with jansson.
#pragma once

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config.h"

using JsonPtr = std::unique_ptr<json_t, decltype(&json_decref)>;

// Parses JSON text; a failed parse is a test failure (and a null pointer).
inline JsonPtr parse_json(const std::string &text)
{
    json_error_t error;
    JsonPtr root(json_loads(text.c_str(), 0, &error), json_decref);
    EXPECT_NE(root, nullptr) << error.text << " at line " << error.line << ":\n"
                             << text.substr(0, 2000);
    return root;
}

// The integer at key in object o (0 when missing, with a failed expectation).
inline long long int_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    EXPECT_TRUE(json_is_integer(v)) << key;
    return json_integer_value(v);
}

// config_parse on args (no program name) into cfg, which the caller config_free()s; the
// message in *err.
inline int parse_args(std::vector<std::string> args, lg_config *cfg, std::string *err)
{
    std::vector<char *> argv;
    args.insert(args.begin(), "loadgen");
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    char buf[CONFIG_ERRLEN] = "";
    int r = config_parse(static_cast<int>(args.size()), argv.data(), cfg, buf,
                                   sizeof(buf));
    *err = buf;
    return r;
}
