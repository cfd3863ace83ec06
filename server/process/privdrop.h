/* privdrop.h -- giving up root after the privileged set-up (binding low ports, reading keys). */
#ifndef GREETER_PRIVDROP_H
#define GREETER_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Switches the whole process to user (and group, default: the user's primary group): clears
 * supplementary groups, sets the group, then the user, and verifies that root cannot be
 * regained. Must run before any thread or child is started, since it changes only the calling
 * process. 0, or -1 with err; a failure is meant to be fatal, never ignored.
 */
int privdrop_apply(const char *user, const char *group, char *err, size_t errlen);

/* Looks up the ids without changing anything: 0, or -1 with "--user x: no such user". */
int privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                    size_t errlen);

#endif
