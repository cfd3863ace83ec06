// test_parse.cc -- strict number and duration parsing for command lines.
#include <gtest/gtest.h>

#include <string>

#include "parse.h"

TEST(ParseLong, AcceptsWholeNumbersInRange)
{
    long v = 0;
    char err[128];
    EXPECT_EQ(parse_long("-w", "42", 1, 100, &v, err, sizeof(err)), 0);
    EXPECT_EQ(v, 42);
}

TEST(ParseLong, RejectsJunkAndRange)
{
    long v = 7;
    char err[128];
    EXPECT_EQ(parse_long("--workers", "10x", 1, 100, &v, err, sizeof(err)), -1);
    EXPECT_STREQ(err, "--workers: '10x' is not a whole number");
    EXPECT_EQ(parse_long("--workers", "", 1, 100, &v, err, sizeof(err)), -1);
    EXPECT_EQ(parse_long("--workers", "0", 1, 100, &v, err, sizeof(err)), -1);
    EXPECT_STREQ(err, "--workers: 0 is out of range (1-100)");
    EXPECT_EQ(parse_long("--workers", "99999999999999999999999", 1, 100, &v, err, sizeof(err)), -1);
    EXPECT_EQ(v, 7);
}

TEST(ParseDuration, UnitsAndDefaults)
{
    long long us = 0;
    char err[128];
    EXPECT_EQ(parse_duration_us("-d", "2", "s", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 2000000);
    EXPECT_EQ(parse_duration_us("-d", "250ms", "s", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 250000);
    EXPECT_EQ(parse_duration_us("-d", "1.5s", "ms", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 1500000);
    EXPECT_EQ(parse_duration_us("-d", "1m", "s", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 60000000);
    EXPECT_EQ(parse_duration_us("-d", "10", "ms", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 10000);
    EXPECT_EQ(parse_duration_us("-d", "7us", "s", &us, err, sizeof(err)), 0);
    EXPECT_EQ(us, 7);
}

TEST(ParseDuration, RejectsBadText)
{
    long long us = 0;
    char err[128];
    EXPECT_EQ(parse_duration_us("-d", "soon", "s", &us, err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find("not a duration"), std::string::npos);
    EXPECT_EQ(parse_duration_us("-d", "5h", "s", &us, err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find("unknown unit"), std::string::npos);
    EXPECT_EQ(parse_duration_us("-d", "-1", "s", &us, err, sizeof(err)), -1);
    EXPECT_EQ(parse_duration_us("-d", "nan", "s", &us, err, sizeof(err)), -1);
    EXPECT_EQ(parse_duration_us("-d", "1e300", "s", &us, err, sizeof(err)), -1);
}
