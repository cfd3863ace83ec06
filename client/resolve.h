/* resolve.h -- the client's `resolve` mode: print what getaddrinfo answers, tutorial style. */
#ifndef GREETER_RESOLVE_H
#define GREETER_RESOLVE_H

#include <stdio.h>

/* Prints the local host name and one line per answer for host and service; returns the
 * exit status (0, or 1 with the reason on stderr). */
int resolve_print(FILE *out, const char *host, const char *service);

#endif
