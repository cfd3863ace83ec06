/* version.c -- the project's version (project(VERSION) in CMakeLists.txt), for every tool's
 * --version, the metrics' build info and the Debian package alike. */
#include "version.h"

/* Defined for this file alone (common/CMakeLists.txt), so a new version rebuilds one file. */
#ifndef GREETER_VERSION
// cppcheck-suppress preprocessorErrorDirective ; tools/lint runs without the build's definitions
#error "GREETER_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

const char *version_string(void) { return GREETER_VERSION; }

void version_print(FILE *out, const char *program) { fprintf(out, "%s %s\n", program, GREETER_VERSION); }
