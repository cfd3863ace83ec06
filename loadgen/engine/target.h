/* target.h -- where loadgen connects to and from: the resolved target and --source addresses. */
#ifndef LOADGEN_TARGET_H
#define LOADGEN_TARGET_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"
#include "shard.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TARGET_MAX_SOURCES 65536

typedef struct lg_target {
    struct sockaddr_storage addr;        /* AF_INET, AF_INET6 or AF_UNIX */
    socklen_t addrlen;
    char text[ADDR_STRLEN];              /* HOST:PORT of the address used, or the UNIX path */
    struct sockaddr_storage *sources;    /* owned; NULL when --source is not given */
    size_t nsources;
} lg_target;

/*
 * Checks the syntax of HOST:PORT (addr_split; a port is required and not 0) without
 * resolving. 0, or -1 with a message: a usage error.
 */
int target_check_syntax(const char *spec, int socktype, char *err, size_t errlen);

/*
 * Resolves HOST:PORT by the tutorial's rules for socktype (SOCK_STREAM or SOCK_DGRAM: a
 * service name's port may differ). A name with several addresses uses the first IPv4 one (the
 * tutorial's AF_INET), else the first. 0, or -1 with a message.
 */
int target_resolve(lg_target *t, const char *spec, int socktype, char *err, size_t errlen);

/* Sets t to the UNIX socket path (nothing is checked until connect). 0, or -1 with a message
 * when the path does not fit a sockaddr_un. */
int target_set_unix(lg_target *t, const char *path, char *err, size_t errlen);

/*
 * Parses --source: addresses separated by commas ("127.0.0.2,127.0.0.3", "::1") or one CIDR
 * block inside 127.0.0.0/8 of at most 65536 addresses ("127.0.0.0/24": its host addresses).
 * Every address must have the target's family. Allocates t->sources (freed by target_free;
 * on failure nothing stays allocated).
 * 0, or -1 with a message.
 */
int target_set_sources(lg_target *t, const char *list, char *err, size_t errlen);

/*
 * With --shard, keeps the shard's own contiguous slice of several --source addresses (one
 * address is shared by every shard). 0, or -1 with a message when there are several but fewer
 * than shards.
 */
int target_shard_sources(lg_target *t, const shard_spec *s, char *err, size_t errlen);

void target_free(lg_target *t);

/*
 * Warns (log_warn) when `connections` cannot fit: raises RLIMIT_NOFILE toward what they need
 * and warns when the limit stays short; for IP targets, warns when they exceed the ephemeral
 * port range times the number of source addresses.
 */
void target_preflight(const lg_target *t, long connections, int threads);

#ifdef __cplusplus
}
#endif
#endif
