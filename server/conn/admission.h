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
    double rate_per_ip;      /* new connections (datagrams) per second per address; 0 = any */
} admission_config;

typedef enum {
    ADMIT_OK,     /* count it as open until admission_release */
    ADMIT_DENIED, /* the access rules say no: close without a word */
    ADMIT_BUSY,   /* a cap is reached: send the busy message */
    ADMIT_RATE    /* over --rate-per-ip: send the busy message, count it rate_limited */
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

/* The caps alone (ADMIT_OK or ADMIT_BUSY), for a second try once a place was freed: the rules
 * and the rate have already let this connection through, and it takes no second token. */
admit_result admission_take_place(admission *adm, const struct sockaddr *peer);

/* Only the access rules, for datagrams: 1 allowed, 0 denied. */
int admission_allowed(const admission *adm, const struct sockaddr *peer);

/* Whether peer's address holds all --max-per-ip places (0 without that cap, or for a peer
 * with no IP address): which of the caps a busy answer came from. */
int admission_address_full(admission *adm, const struct sockaddr *peer);

/* The --rate-per-ip token bucket of peer's address: 1 when it has a token (taken), 0 when the
 * address is over its rate. admission_admit calls it; datagrams, and a connection whose real
 * client address arrives later (a PROXY protocol header), call it themselves. Each address
 * may start `burst` at once (the rate's one second's worth, at least 1), then one per
 * 1/rate s. Addresses are kept in a bounded table (65,536): when a new address finds its
 * neighbourhood full, it takes the place of the one seen least recently there, so a flood
 * of addresses costs the others at most a fresh bucket, never a wrong refusal. Always 1
 * without a rate, and for non-IP peers. */
int admission_rate_allow(admission *adm, const struct sockaddr *peer);

/* A connection admitted with ADMIT_OK has closed. */
void admission_release(admission *adm, const struct sockaddr *peer);

#ifdef __cplusplus
}
#endif
#endif
