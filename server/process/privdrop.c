/* privdrop.c -- giving up root after the privileged set-up (binding low ports, reading keys). */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                    size_t errlen)
{
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    int rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
    if (pwp == NULL) {
        snprintf(err, errlen, "--user %s: %s", user, rc ? strerror(rc) : "no such user");
        return -1;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    if (group) {
        struct group gr, *grp = NULL;
        rc = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
        if (grp == NULL) {
            snprintf(err, errlen, "--group %s: %s", group, rc ? strerror(rc) : "no such group");
            return -1;
        }
        *gid = gr.gr_gid;
    }
    return 0;
}

int privdrop_apply(const char *user, const char *group, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    if (privdrop_lookup(user, group, &uid, &gid, err, errlen) < 0)
        return -1;
    if (geteuid() != 0) {
        snprintf(err, errlen, "--user %s: only root can switch users (this is uid %u)", user,
                 (unsigned)geteuid());
        return -1;
    }
    /* Order matters: groups while we are still root, the user last. */
    if (setgroups(0, NULL) < 0) {
        snprintf(err, errlen, "--user %s: clearing supplementary groups: %s", user, strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        snprintf(err, errlen, "--group: setting gid %u: %s", (unsigned)gid, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "--user %s: setting uid %u: %s", user, (unsigned)uid, strerror(errno));
        return -1;
    }
    /* Trust, but verify: if root can be had back, the drop did not happen. */
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "--user %s: root could be regained after dropping it; refusing to run",
                 user);
        return -1;
    }
    return 0;
}

/* The highest capability number the running kernel knows (newer kernels know more than our
 * headers may); -1 when /proc does not say. */
static int last_capability(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    long last = -1;
    if (f) {
        char line[32], *end;
        if (fgets(line, sizeof(line), f) != NULL) {
            last = strtol(line, &end, 10);
            if (end == line || (*end != '\n' && *end != '\0') || last < 0 || last > 1023)
                last = -1;
        }
        fclose(f);
    }
    return (int)last;
}

int privdrop_seal(char *err, size_t errlen)
{
    errno = 0;
    int last = last_capability();
    if (last < 0) {
        snprintf(err, errlen, "--user: reading /proc/sys/kernel/cap_last_cap: %s",
                 errno ? strerror(errno) : "no number in it");
        return -1;
    }
    /* Without root the set cannot be changed, and privdrop_apply reports why (or the process
     * already runs as the user: no capability to lose, and no_new_privs still holds). */
    for (int cap = 0; geteuid() == 0 && cap <= last; cap++) {
        /* A successor started by an upgrade inherits an empty set: nothing left to drop. */
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            snprintf(err, errlen, "--user: dropping capability %d from the bounding set: %s", cap,
                     strerror(errno));
            return -1;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "--user: setting no_new_privs: %s", strerror(errno));
        return -1;
    }
    return 0;
}
