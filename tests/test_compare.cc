// test_compare.cc -- results/compare --quick against the built tools: a CSV with a row for every
// model that greeted, and the plots, written into a temporary directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "testproc.h"

namespace {

const std::vector<std::string> kModels = {"iterative", "fork",     "prefork", "thread",
                                          "pool",      "pool-256", "event"};

std::vector<std::string> split_csv_line(const std::string &line)
{
    std::vector<std::string> fields;
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, ','))
        fields.push_back(field);
    return fields;
}

long file_size(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? (long)st.st_size : -1;
}

// A temporary directory removed (with its contents) when the test ends.
struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/test_compare.XXXXXX";
        if (mkdtemp(tmpl))
            path = tmpl;
    }
    ~TempDir()
    {
        if (!path.empty()) {
            std::string cmd = "rm -rf '" + path + "'";
            int ignored = system(cmd.c_str());
            (void)ignored;
        }
    }
};

// The median rows of results.csv: model -> greetings/s.
std::map<std::string, double> median_rates(const std::string &csv_path, std::string *header)
{
    std::map<std::string, double> rates;
    std::ifstream in(csv_path);
    std::getline(in, *header);
    std::vector<std::string> names = split_csv_line(*header);
    size_t model = names.size(), rep = names.size(), rate = names.size();
    for (size_t i = 0; i < names.size(); i++) {
        model = names[i] == "model" ? i : model;
        rep = names[i] == "rep" ? i : rep;
        rate = names[i] == "greetings_per_s" ? i : rate;
    }
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f = split_csv_line(line);
        if (rate < f.size() && f[rep] == "median") {
            double r = atof(f[rate].c_str());
            auto it = rates.find(f[model]);
            if (it == rates.end() || r < it->second) // the worst concurrency counts
                rates[f[model]] = r;
        }
    }
    return rates;
}

TEST(Compare, QuickRunWritesCsvWithEveryModelAndPlots)
{
    TempDir out;
    ASSERT_FALSE(out.path.empty());
    TestProc proc;
    int code = run_command(proc,
                           {GREETER_SOURCE_DIR "/results/compare", "--quick", "--bin",
                            GREETER_BINARY_DIR, "--out", out.path},
                           120000);
    ASSERT_EQ(code, 0) << proc.err();

    std::string header;
    auto rates = median_rates(out.path + "/results.csv", &header);
    EXPECT_NE(header.find("greetings_per_s"), std::string::npos) << header;
    EXPECT_NE(header.find("server_cpu_us_per_greeting"), std::string::npos) << header;
    EXPECT_NE(header.find("server_peak_rss_mib"), std::string::npos) << header;
    for (const auto &model : kModels) {
        ASSERT_TRUE(rates.count(model)) << "no median row for " << model;
        EXPECT_GT(rates[model], 0) << model;
    }
    for (const char *ext : {".svg", ".png"}) {
        std::string plot = out.path + "/plots/throughput-bare" + ext;
        EXPECT_GT(file_size(plot), 0) << plot;
    }
    EXPECT_GT(file_size(out.path + "/README.md"), 0);
}

} // namespace
