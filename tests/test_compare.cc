// test_compare.cc -- results/compare --quick against the built tools: a CSV with a row for every
// model that greeted, a TLS row when the build has TLS, the reference rows (nginx, the tutorial's
// server), and the plots, written into a temporary directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
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

std::string read_file(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

long file_size(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? (long)st.st_size : -1;
}

// The median rows of results.csv for one work label ("bare", "tls-full", ...): model ->
// greetings/s.
std::map<std::string, double> median_rates(const std::string &csv_path,
                                           const std::string &work_label, std::string *header)
{
    std::map<std::string, double> rates;
    std::ifstream in(csv_path);
    std::getline(in, *header);
    std::vector<std::string> names = split_csv_line(*header);
    size_t model = names.size(), rep = names.size(), rate = names.size(), work = names.size();
    for (size_t i = 0; i < names.size(); i++) {
        model = names[i] == "model" ? i : model;
        rep = names[i] == "rep" ? i : rep;
        rate = names[i] == "greetings_per_s" ? i : rate;
        work = names[i] == "work" ? i : work;
    }
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> f = split_csv_line(line);
        if (rate < f.size() && work < f.size() && f[rep] == "median" && f[work] == work_label) {
            double r = atof(f[rate].c_str());
            auto it = rates.find(f[model]);
            if (it == rates.end() || r < it->second) // the worst concurrency counts
                rates[f[model]] = r;
        }
    }
    return rates;
}

// Whether greeter-server was built with TLS: without it, --tls-cert exits 2 with "not built in".
bool server_has_tls()
{
    TestProc proc;
    int code = run_command(proc,
                           {GREETER_BINARY_DIR "/server/greeter-server", "--tls-cert", "x",
                            "--tls-key", "y"},
                           10000);
    return !(code == 2 && proc.err().find("not built in") != std::string::npos);
}

// Where a results directory is written: TempDir's path() without its removal.
struct OutDir {
    std::string dir;
    std::string path(const std::string &name) const { return dir + "/" + name; }
};

// The run happens in a copy of results/ (and the certificate script it uses), without --out:
// a smoke run must write under the build tree, say where in its last line, and leave the
// published results alone (it once rewrote results/README.md and results.csv and deleted the
// full sweep's plots). The copy keeps the checkout out of harm's way if that fails.
TEST(Compare, QuickRunWritesCsvWithEveryModelAndPlotsAndLeavesThePublishedResultsAlone)
{
    TempDir root;
    ASSERT_FALSE(root.dir().empty());
    TestProc copy;
    ASSERT_EQ(run_command(copy, {"/bin/cp", "-r", GREETER_SOURCE_DIR "/results", root.path("results")}), 0)
        << copy.err();
    ASSERT_EQ(run_command(copy, {"/bin/mkdir", root.path("tests")}), 0) << copy.err();
    ASSERT_EQ(run_command(copy, {"/bin/cp", GREETER_SOURCE_DIR "/tests/make-test-certs", root.path("tests")}), 0)
        << copy.err();
    std::string readme_before = read_file(root.path("results/README.md"));
    long csv_before = file_size(root.path("results/results.csv"));
    TestProc proc;
    // 0.5 s per run: at 0.2 s the fork model (a fork costs milliseconds here) greeted nobody
    // within its window once, in a loaded run, and its row said 0 greetings/s.
    int code = run_command(proc,
                           {root.path("results/compare"), "--quick", "--seconds", "0.5", "--bin",
                            GREETER_BINARY_DIR},
                           120000);
    ASSERT_EQ(code, 0) << proc.err();
    EXPECT_EQ(read_file(root.path("results/README.md")), readme_before);
    EXPECT_EQ(file_size(root.path("results/results.csv")), csv_before);
    std::string err = proc.err();
    std::string last = err.substr(err.rfind('\n', err.size() - 2) + 1);
    EXPECT_NE(last.find("build/compare-quick"), std::string::npos) << last;
    OutDir out{root.path("build/compare-quick")};

    std::string header;
    auto rates = median_rates(out.path("results.csv"), "bare", &header);
    EXPECT_NE(header.find("greetings_per_s"), std::string::npos) << header;
    EXPECT_NE(header.find("server_cpu_us_per_greeting"), std::string::npos) << header;
    EXPECT_NE(header.find("server_peak_rss_mib"), std::string::npos) << header;
    for (const auto &model : kModels) {
        ASSERT_TRUE(rates.count(model)) << "no median row for " << model;
        EXPECT_GT(rates[model], 0) << model;
    }
    for (const char *ext : {".svg", ".png"}) {
        std::string plot = out.path(std::string("plots/throughput-bare") + ext);
        EXPECT_GT(file_size(plot), 0) << plot;
    }
    EXPECT_NE(header.find("server_cpu_us_per_handshake"), std::string::npos) << header;
    if (server_has_tls()) {
        // --quick adds one TLS row: the pool with full handshakes
        auto tls = median_rates(out.path("results.csv"), "tls-full", &header);
        ASSERT_TRUE(tls.count("pool")) << "no TLS (tls-full) median row for pool";
        EXPECT_GT(tls["pool"], 0);
    } else {
        std::cout << "greeter-server built without TLS: no TLS row expected\n";
    }
    EXPECT_GT(file_size(out.path("README.md")), 0);
    std::string readme = read_file(out.path("README.md"));
    // Reference rows: the tutorial's server always; nginx when installed, else the README
    // says why there is no nginx row.
    ASSERT_TRUE(rates.count("tutorial-py")) << "no median row for the tutorial's server";
    EXPECT_GT(rates["tutorial-py"], 0);
    if (rates.count("nginx"))
        EXPECT_GT(rates["nginx"], 0);
    else
        EXPECT_NE(readme.find("no `nginx` rows"), std::string::npos) << readme;
    EXPECT_NE(readme.find("## Against nginx and the tutorial's server"), std::string::npos);
    // gnuplot scripts name their files relative to the repository, never by absolute path.
    std::string gp = read_file(out.path("plots/throughput-bare.gp"));
    EXPECT_EQ(gp.find("set output '/"), std::string::npos) << gp;
}

} // namespace
