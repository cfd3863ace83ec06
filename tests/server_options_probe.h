/* server_options_probe.h -- greeter-server's option parser behind a C-only door, for C++ tests. */
#ifndef GREETER_SERVER_OPTIONS_PROBE_H
#define GREETER_SERVER_OPTIONS_PROBE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* server_options_parse on argv for a machine of `cores` cores, the result freed: 0 accepted,
 * -1 refused with the message in err. */
int server_options_probe(int argc, char **argv, int cores, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
