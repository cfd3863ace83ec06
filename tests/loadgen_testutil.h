// loadgen_testutil.h -- what the loadgen process tests share: running loadgen, reading its
// JSON.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "testproc.h"

// Runs loadgen with args (no program name); its exit code, output in proc.
inline int loadgen(TestProc &proc, std::vector<std::string> args, int timeout_ms = 30000)
{
    args.insert(args.begin(), GREETER_LOADGEN_BIN);
    return run_command(proc, args, timeout_ms);
}

// The number after "key": in the JSON, looking for each key of path in turn
// ("latency_us", "greeting", "p90"), so nested fields are found in loadgen's fixed layout.
// -1 when a key is missing.
inline double json_number(const std::string &json, const std::vector<std::string> &path)
{
    size_t at = 0;
    for (const auto &key : path) {
        at = json.find("\"" + key + "\":", at);
        if (at == std::string::npos)
            return -1;
        at += key.size() + 3;
    }
    return strtod(json.c_str() + at, nullptr);
}
