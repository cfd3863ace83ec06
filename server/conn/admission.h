/* admission.h -- who may connect and how many at once: allow/deny lists and connection caps. */
#ifndef GREETER_ADMISSION_H
#define GREETER_ADMISSION_H

#include <stddef.h>
#include <sys/socket.h>

#include "cidr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct admission_config {
    const cidr_block *allow; /* with any allow rule, only clients inside one are let in */
    size_t allow_count;
    const cidr_block *deny;  /* a deny rule wins over every allow rule */
    size_t deny_count;
    int max_conns;           /* open connections at once; 0 = no cap */
    int max_per_ip;          /* open connections per client address; 0 = no cap */
} admission_config;

typedef enum {
    ADMIT_OK,     /* count it as open until admission_release */
    ADMIT_DENIED, /* the access rules say no: close without a word */
    ADMIT_BUSY    /* a cap is reached: send the busy message */
} admit_result;

/*
 * The state lives in one MAP_SHARED block, so the caps hold across the processes of the fork
 * and prefork models as well as across threads. Lock rules: the per-address table is guarded
 * by a process-shared, robust mutex (a child that dies holding it does not wedge the others);
 * the total is an atomic counter. Returns NULL with err on failure. Rules are copied.
 */
typedef struct admission admission;
admission *admission_create(const admission_config *cfg, char *err, size_t errlen);
void admission_destroy(admission *adm);

/* Decides for a new connection from peer. Non-IP peers (UNIX sockets) pass the access rules
 * and count only toward max_conns. */
admit_result admission_admit(admission *adm, const struct sockaddr *peer);

/* Only the access rules, for datagrams: 1 allowed, 0 denied. */
int admission_allowed(const admission *adm, const struct sockaddr *peer);

/* Whether peer's address holds all --max-per-ip places (0 without that cap, or for a peer
 * with no IP address): which of the caps a busy answer came from. */
int admission_address_full(admission *adm, const struct sockaddr *peer);

/* A connection admitted with ADMIT_OK has closed. */
void admission_release(admission *adm, const struct sockaddr *peer);

#ifdef __cplusplus
}
#endif
#endif
