// loadgen_testutil.h -- what the loadgen process tests share: running loadgen, reading its
// JSON, a scratch directory.
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

// A directory under /tmp, removed with everything in it at the end. The path stays short:
// UNIX socket paths must fit in 108 bytes.
class TempDir {
  public:
    TempDir()
    {
        char tmpl[] = "/tmp/loadgen-test-XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string path(const std::string &name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};
