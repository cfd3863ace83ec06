// test_cli.cc -- common/cli: options parsed from a table, the same words for the same mistakes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli.h"

namespace {

enum { OPT_NAME = CLI_LONG_ONLY, OPT_FLAG };

const cli_option kOptions[] = {
    {"count", 'c', 1}, {"quiet", 'q', 0}, {"name", OPT_NAME, 1},
    {"flag", OPT_FLAG, 0}, {"help", 'h', 0}, {nullptr, 0, 0},
};

// What apply saw, in order, as "key=value" (key a letter or a long name).
struct Seen {
    std::vector<std::string> calls;
    bool refuse_count = false;
};

int record(void *ctx, int key, const char *value, char *err, size_t errlen)
{
    auto *seen = static_cast<Seen *>(ctx);
    std::string name = key == OPT_NAME ? "name" : key == OPT_FLAG ? "flag" : std::string(1, (char)key);
    if (key == 'c' && seen->refuse_count) {
        snprintf(err, errlen, "--count: '%s' is not a whole number", value);
        return -1;
    }
    seen->calls.push_back(name + "=" + (value ? value : ""));
    return key == 'h' ? CLI_STOP : CLI_GO_ON;
}

// Runs cli_parse on words (argv[0] is added); its result, apply's calls in seen, argv after.
int parse(std::vector<std::string> words, Seen *seen, std::string *err,
          std::vector<std::string> *after = nullptr)
{
    words.insert(words.begin(), "tool");
    std::vector<char *> argv;
    for (auto &w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    char buf[256] = "";
    int rc = cli_parse((int)words.size(), argv.data(), kOptions, record, seen, buf, sizeof(buf));
    *err = buf;
    if (after)
        for (size_t i = 0; i < words.size(); i++)
            after->push_back(argv[i]);
    return rc;
}

TEST(Cli, LongShortAndAttachedValuesInOrder)
{
    Seen seen;
    std::string err;
    EXPECT_EQ(parse({"-c", "3", "--name=x", "-q", "--flag", "--count", "4"}, &seen, &err), 8) << err;
    EXPECT_EQ(seen.calls, (std::vector<std::string>{"c=3", "name=x", "q=", "flag=", "c=4"}));
}

TEST(Cli, OperandsComeAfterTheOptionsAndDoubleDashEndsThem)
{
    Seen seen;
    std::string err;
    std::vector<std::string> after;
    int first = parse({"host", "-q", "port", "--", "-c"}, &seen, &err, &after);
    ASSERT_EQ(first, 3) << err;
    EXPECT_EQ(seen.calls, (std::vector<std::string>{"q="}));
    EXPECT_EQ(std::vector<std::string>(after.begin() + first, after.end()),
              (std::vector<std::string>{"host", "port", "-c"}));
}

TEST(Cli, UnknownOptionAndMissingValueAreNamed)
{
    Seen seen;
    std::string err;
    EXPECT_EQ(parse({"--colour"}, &seen, &err), -1);
    EXPECT_EQ(err, "unknown option '--colour'");
    EXPECT_EQ(parse({"-q", "--name"}, &seen, &err), -1);
    EXPECT_EQ(err, "option '--name' needs a value");
    EXPECT_EQ(parse({"-x"}, &seen, &err), -1);
    EXPECT_EQ(err, "unknown option '-x'");
}

TEST(Cli, MistakesInsideABundleOrAfterAnEqualsSignAreNamedExactly)
{
    Seen seen;
    std::string err;
    // The letter that is wrong, not the whole bundle or the word before it.
    EXPECT_EQ(parse({"--flag", "-xq"}, &seen, &err), -1);
    EXPECT_EQ(err, "unknown option '-x'");
    EXPECT_EQ(parse({"-qc"}, &seen, &err), -1);
    EXPECT_EQ(err, "option '-c' needs a value");
    // A value for an option that takes none (abbreviated too) is not an unknown option.
    EXPECT_EQ(parse({"--help=yes"}, &seen, &err), -1);
    EXPECT_EQ(err, "option '--help' takes no value");
    EXPECT_EQ(parse({"--fl=1"}, &seen, &err), -1);
    EXPECT_EQ(err, "option '--flag' takes no value");
    // An abbreviation of two long names says which.
    const cli_option twins[] = {{"expect", 'e', 1}, {"expect-re", 'r', 1}, {"quiet", 'q', 0},
                                {nullptr, 0, 0}};
    std::vector<std::string> words = {"tool", "--exp", "x"};
    std::vector<char *> argv;
    for (auto &w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    char buf[256] = "";
    EXPECT_EQ(cli_parse(3, argv.data(), twins, record, &seen, buf, sizeof(buf)), -1);
    EXPECT_EQ(std::string(buf), "option '--exp' is ambiguous: --expect, --expect-re");
}

TEST(Cli, ApplysRefusalAndStopComeBack)
{
    Seen seen;
    std::string err;
    seen.refuse_count = true;
    EXPECT_EQ(parse({"-q", "-c", "many", "--flag"}, &seen, &err), -1);
    EXPECT_EQ(err, "--count: 'many' is not a whole number");
    EXPECT_EQ(seen.calls, (std::vector<std::string>{"q="})); // nothing after the refusal
    Seen stopped;
    EXPECT_EQ(parse({"-h", "--colour"}, &stopped, &err), CLI_STOPPED); // nothing after --help
    EXPECT_EQ(stopped.calls, (std::vector<std::string>{"h="}));
}

TEST(Cli, RunsAgainFromTheStart)
{
    Seen first, second;
    std::string err;
    ASSERT_EQ(parse({"-qc", "1"}, &first, &err), 3) << err;
    ASSERT_EQ(parse({"-c", "2"}, &second, &err), 3) << err;
    EXPECT_EQ(first.calls, (std::vector<std::string>{"q=", "c=1"}));
    EXPECT_EQ(second.calls, (std::vector<std::string>{"c=2"}));
}

} // namespace
