// test_loadgen_check.cc -- judging replies (check.c) and dialogs (dialog.c) directly, and the
// options that build them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "dialog.h"
#include "loadgen_inproc.h"
#include "stats.h"

namespace {

struct Verdict {
    check_verdict v;
    size_t used_total; // bytes of the input taken by the reply
    std::string shown;
};

// Feeds reply to ck in pieces of `piece` bytes (0: all at once), as a reading loop does:
// stops at the first verdict; PENDING after the last piece goes to check_at_eof when eof.
Verdict judge(const check &ck, const std::string &reply, size_t piece, int until_line_end,
              bool eof)
{
    check_reply r;
    check_reply_reset(&r);
    size_t off = 0, taken = 0;
    check_verdict v = CHECK_PENDING;
    while (off < reply.size() && v == CHECK_PENDING) {
        size_t n = piece ? std::min(piece, reply.size() - off) : reply.size() - off;
        size_t used = 0;
        v = check_feed(&ck, &r, reply.data() + off, n, until_line_end, &used);
        EXPECT_LE(used, n);
        taken += used;
        off += n;
    }
    if (v == CHECK_PENDING && eof)
        v = check_at_eof(&ck, &r);
    char shown[256];
    check_describe(&r, shown, sizeof(shown));
    return {v, taken, shown};
}

check prefix(const std::string &text)
{
    check ck;
    char err[256];
    EXPECT_EQ(check_init_prefix(&ck, text.data(), text.size(), err, sizeof(err)), 0);
    return ck;
}

check regex(const std::string &pattern)
{
    check ck;
    char err[256] = "";
    EXPECT_EQ(check_init_regex(&ck, pattern.c_str(), err, sizeof(err)), 0) << err;
    return ck;
}

const std::string kBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7\r\n";

} // namespace

TEST(Check, PrefixVerdictDoesNotDependOnSegmentation)
{
    check ssh = prefix("SSH-2.0-");
    for (size_t piece : {size_t(1), size_t(3), size_t(8), size_t(0)}) {
        for (int wait_line : {0, 1}) {
            Verdict v = judge(ssh, kBanner, piece, wait_line, false);
            EXPECT_EQ(v.v, CHECK_PASS) << "piece " << piece << " wait_line " << wait_line;
            if (wait_line) {
                EXPECT_EQ(v.used_total, kBanner.size()) << "the reply ends with its line";
            }
        }
        Verdict bad = judge(ssh, "Exceeded MaxStartups\r\n", piece, 0, false);
        EXPECT_EQ(bad.v, CHECK_FAIL) << piece;
        Verdict shorter = judge(ssh, "SSH-2", piece, 0, true);
        EXPECT_EQ(shorter.v, CHECK_FAIL) << "closed before the text had arrived";
    }
    // What arrived is shown by its first line, escaped.
    EXPECT_EQ(judge(ssh, "Exceeded MaxStartups\r\n", 0, 0, false).shown,
              "Exceeded MaxStartups\\r\\n");
    check_free(&ssh);
}

TEST(Check, PrefixMayHoldALineEndAndTheReplyEndsAfterIt)
{
    check ck = prefix("PING\n");
    Verdict v = judge(ck, "PING\nPONG\n", 1, 1, false);
    EXPECT_EQ(v.v, CHECK_PASS);
    EXPECT_EQ(v.used_total, 5u) << "the next line belongs to what follows";
    check_free(&ck);
    check ok = prefix("+OK");
    v = judge(ok, "+OK done\r\n+OK next\r\n", 0, 1, false);
    EXPECT_EQ(v.v, CHECK_PASS);
    EXPECT_EQ(v.used_total, 10u);
    v = judge(ok, "+OK done", 2, 1, false);
    EXPECT_EQ(v.v, CHECK_PENDING) << "another exchange follows: wait for the line's end";
    check_free(&ok);
}

TEST(Check, RegexJudgesTheFirstLineWhateverTheSegmentation)
{
    check ck = regex("^HTTP/1\\.[01] 2[0-9][0-9] ");
    for (size_t piece : {size_t(1), size_t(5), size_t(0)}) {
        EXPECT_EQ(judge(ck, "HTTP/1.1 200 OK\r\nServer: x\r\n", piece, 0, false).v, CHECK_PASS);
        Verdict nf = judge(ck, "HTTP/1.1 404 Not Found\r\nServer: x\r\n", piece, 0, false);
        EXPECT_EQ(nf.v, CHECK_FAIL);
        EXPECT_EQ(nf.shown, "HTTP/1.1 404 Not Found\\r\\n");
        // Only the first line counts: a match on the second is no match.
        EXPECT_EQ(judge(ck, "HTTP/1.1 500 x\r\nHTTP/1.1 200 OK\r\n", piece, 0, false).v,
                  CHECK_FAIL);
    }
    // A line the server never ends is judged at EOF.
    EXPECT_EQ(judge(ck, "HTTP/1.0 204 ", 1, 0, true).v, CHECK_PASS);
    check_free(&ck);
    check anchored = regex("^250 ");
    EXPECT_EQ(judge(anchored, "250 ok", 0, 0, true).v, CHECK_PASS);
    EXPECT_EQ(judge(anchored, "554 5.5.0 Error\r\n", 0, 0, false).v, CHECK_FAIL);
    check_free(&anchored);
    check bad;
    char err[256] = "";
    EXPECT_EQ(check_init_regex(&bad, "a(b", err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find("'a(b'"), std::string::npos) << err;
}

TEST(Check, AnyReplyPassesAtEofOrAtItsLineEnd)
{
    check any = {};
    EXPECT_EQ(judge(any, "hello\r\nmore", 1, 0, false).v, CHECK_PENDING)
        << "the last exchange reads until the server closes";
    EXPECT_EQ(judge(any, "hello\r\nmore", 1, 0, true).v, CHECK_PASS);
    EXPECT_EQ(judge(any, "", 1, 0, true).v, CHECK_FAIL);
    Verdict line = judge(any, "hello\r\nmore", 0, 1, false);
    EXPECT_EQ(line.v, CHECK_PASS);
    EXPECT_EQ(line.used_total, 7u);
}

TEST(Check, DescribeEscapesAndCuts)
{
    check any = {};
    std::string binary("\x01\xff\t\\ok\n", 7);
    EXPECT_EQ(judge(any, binary, 0, 0, true).shown, "\\x01\\xff\\t\\\\ok\\n");
    std::string long_line(500, 'a');
    std::string shown = judge(any, long_line, 0, 0, true).shown;
    EXPECT_EQ(shown, std::string(CHECK_HEAD, 'a') + "...");
    EXPECT_EQ(judge(any, "", 0, 0, true).shown, "(nothing)");
}

TEST(ReplyTable, MostCommonFirstAndBounded)
{
    lg_reason_table t = {};
    lg_stats_count_reason(&t, "a", 1);
    lg_stats_count_reason(&t, "b", 5);
    lg_stats_count_reason(&t, "c", 3);
    lg_stats_count_reason(&t, "a", 1);
    int top[5];
    ASSERT_EQ(lg_stats_top_reasons(&t, top, 5), 3);
    EXPECT_STREQ(t.entry[top[0]].text, "b");
    EXPECT_STREQ(t.entry[top[1]].text, "c");
    EXPECT_STREQ(t.entry[top[2]].text, "a");
    ASSERT_EQ(lg_stats_top_reasons(&t, top, 2), 2);
    EXPECT_STREQ(t.entry[top[1]].text, "c");
}

namespace {

// A dialog file in a temp dir, removed with the object.
class DialogFile {
  public:
    explicit DialogFile(const std::string &text)
    {
        char tmpl[] = "/tmp/lg-dialog-XXXXXX";
        int fd = mkstemp(tmpl);
        path_ = tmpl;
        EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        close(fd);
    }
    ~DialogFile() { unlink(path_.c_str()); }
    const std::string &path() const { return path_; }

  private:
    std::string path_;
};

std::string load_error(const std::string &text)
{
    DialogFile f(text);
    lg_dialog d;
    char err[512] = "";
    EXPECT_EQ(dialog_load(&d, f.path().c_str(), 8, err, sizeof(err)), -1) << text;
    dialog_free(&d);
    std::string e = err;
    EXPECT_EQ(e.rfind(f.path(), 0), 0u) << "names the file: " << e;
    return e.substr(f.path().size());
}

} // namespace

TEST(Dialog, StepsInOrderWithEscapesAndComments)
{
    DialogFile f("# SMTP, one message-less session\n"
                 "expect 220 \n"
                 "\n"
                 "send EHLO loadgen\\r\\n\n"
                 "  expect-re ^250[ -]\n"
                 "send QUIT\\r\\n\r\n"
                 "expect 221\n");
    lg_dialog d;
    char err[512] = "";
    ASSERT_EQ(dialog_load(&d, f.path().c_str(), 8, err, sizeof(err)), 0) << err;
    ASSERT_EQ(d.nsteps, 5);
    EXPECT_EQ(d.nexpects, 3);
    EXPECT_EQ(d.step[0].kind, DIALOG_EXPECT);
    EXPECT_EQ(std::string(d.step[0].ck.text, d.step[0].ck.len), "220 ");
    EXPECT_EQ(d.step[0].line, 2);
    EXPECT_EQ(std::string(d.step[1].data, d.step[1].len), "EHLO loadgen\r\n");
    EXPECT_EQ(d.step[2].ck.kind, CHECK_REGEX);
    EXPECT_EQ(d.step[2].expect_index, 1);
    EXPECT_EQ(std::string(d.step[3].data, d.step[3].len), "QUIT\r\n") << "CRLF files too";
    EXPECT_EQ(d.repeat_from, 3);
    EXPECT_TRUE(dialog_repeatable(&d));
    dialog_free(&d);
}

TEST(Dialog, UnreadableFileIsNamedWithItsReason)
{
    // A directory opens for reading but every read fails: it is not an empty dialog.
    char tmpl[] = "/tmp/lg-dialog-dir-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    lg_dialog d;
    char err[512] = "";
    EXPECT_EQ(dialog_load(&d, tmpl, 8, err, sizeof(err)), -1);
    dialog_free(&d);
    rmdir(tmpl);
    EXPECT_EQ(std::string(err), std::string(tmpl) + ": " + strerror(EISDIR));
}

TEST(Dialog, BadLinesNameTheFileAndLine)
{
    EXPECT_EQ(load_error("expect 220\nsned HELO\n"),
              ":2: unknown step 'sned' (use send TEXT, expect TEXT or expect-re REGEX)");
    EXPECT_EQ(load_error("# nothing\nexpect\n"), ":2: 'expect' needs a text after it");
    EXPECT_EQ(load_error("send a\\q\n"),
              ":1: bad escape in 'a\\q' (use \\n \\r \\t \\0 \\\\ or \\xHH)");
    EXPECT_NE(load_error("expect-re a(b\n").find(":1: 'a(b': "), std::string::npos);
    EXPECT_EQ(load_error("send PING\\r\\n\n"), ": no expect step (a dialog needs at least one)");
    std::string many;
    for (int i = 0; i < 9; i++)
        many += "expect x\n";
    EXPECT_EQ(load_error(many), ": 9 expect steps, at most 8");
}

TEST(Dialog, OptionsAreCheckedTogether)
{
    DialogFile f("expect 220\nsend QUIT\\r\\n\nexpect 221\n");
    DialogFile greeting_only("expect 220\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--dialog", f.path(), "--send", "x", "h:1"}, "--dialog does not go with --send"},
        {{"--dialog", f.path(), "--udp", "h:1"}, "--dialog does not apply with --udp"},
        {{"--requests", "0", "--udp", "h:1"}, "--requests does not apply with --udp"},
        {{"--expect", "a", "--expect-re", "b", "h:1"}, "give one of them"},
        {{"--expect-re", "(", "h:1"}, "--expect-re: '(': "},
        {{"--requests", "5", "h:1"}, "--requests needs a request to repeat"},
        {{"--requests", "5", "--dialog", greeting_only.path(), "h:1"},
         "--requests: the dialog must end with a send step"},
        {{"--dialog", "/nonexistent/dialog", "h:1"},
         "--dialog: /nonexistent/dialog: No such file or directory"},
        {{"--requests", "0", "--send", "x", "--stage", "1s:5", "h:1"},
         "--stage does not apply with --requests"},
        {{"--fail-if", "request.p99>1ms", "h:1"}, "the request phase needs --requests"},
        {{"--requests", "0", "--send", "x", "-n", "10", "h:1"}, "give -d"},
        {{"--fail-if", "expect3.p99>1ms", "--dialog", f.path(), "h:1"},
         "no such expect step in the --dialog"},
    };
    for (const auto &c : cases) {
        lg_config cfg;
        std::string err;
        EXPECT_EQ(parse_args(c.first, &cfg, &err), -1) << c.second;
        EXPECT_NE(err.find(c.second), std::string::npos) << "got: " << err;
        config_free(&cfg);
    }
    lg_config cfg;
    std::string err;
    ASSERT_EQ(parse_args({"--dialog", f.path(), "--requests", "3", "--fail-if",
                          "expect2.p99>1s", "h:1"},
                         &cfg, &err),
              0)
        << err;
    EXPECT_EQ(cfg.dialog.nsteps, 3);
    EXPECT_EQ(cfg.requests, 3);
    config_free(&cfg);
    ASSERT_EQ(parse_args({"-R", "100", "--requests", "0", "--send", "x", "h:1"}, &cfg, &err), 0);
    EXPECT_EQ(cfg.connections, CONFIG_DEFAULT_CONNECTIONS)
        << "with --requests, -R paces requests on -c connections";
    config_free(&cfg);
}
