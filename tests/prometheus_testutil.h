// prometheus_testutil.h -- what the tests that run the real Prometheus share: an instant query.
#pragma once

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "testproc.h"

inline std::string url_encode(const std::string &text)
{
    std::string out;
    char hex[4];
    for (unsigned char c : text) {
        if (isalnum(c) || c == '_' || c == '.' || c == '-') {
            out += (char)c;
        } else {
            snprintf(hex, sizeof(hex), "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

// The first value a Prometheus instant query answers ("value":[1700000000.1,"123.4"]), or -1.
inline double prometheus_query(int port, const std::string &query)
{
    std::string answer = fetch_greeting(port, 5000, nullptr,
                                        "GET /api/v1/query?query=" + url_encode(query) +
                                            " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    size_t at = answer.find("\"value\":[");
    if (at == std::string::npos || (at = answer.find(",\"", at)) == std::string::npos)
        return -1;
    return strtod(answer.c_str() + at + 2, nullptr);
}
