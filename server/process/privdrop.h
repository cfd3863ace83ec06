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

/*
 * What nothing the process runs later can undo: empties the capability bounding set (every
 * capability up to the last one the kernel knows) and sets no_new_privs, so that no execve
 * (an upgrade's successor, or anything an exploit starts) gains a capability or a set-user-ID
 * identity back. Both are per thread and inherited: call it before the first thread. The
 * process keeps the capabilities it has (binding ports, switching users comes after). 0, or
 * -1 with err.
 */
int privdrop_seal(char *err, size_t errlen);

/* Looks up the ids without changing anything: 0, or -1 with "--user x: no such user". */
int privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                    size_t errlen);

#endif
