/* version.h -- the project's version (project(VERSION) in CMakeLists.txt), for every tool's
 * --version, the metrics' build info and the Debian package alike. */
#ifndef GREETER_VERSION_H
#define GREETER_VERSION_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "0.6.0": a static string. */
const char *version_string(void);

/* Prints "PROGRAM VERSION\n" (e.g. "greeter-server 0.6.0"), what --version answers. */
void version_print(FILE *out, const char *program);

#ifdef __cplusplus
}
#endif
#endif
