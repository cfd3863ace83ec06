/* kstats.h -- kernel TCP counters that explain latency, from /proc/net/netstat and snmp. */
#ifndef LOADGEN_KSTATS_H
#define LOADGEN_KSTATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The counters are for the whole network namespace, not only loadgen's connections: a
 * before/after difference shows what happened on the machine during the run.
 */
typedef enum {
    KSTAT_LISTEN_OVERFLOWS = 0, /* TcpExt: accept queue full */
    KSTAT_LISTEN_DROPS,         /* TcpExt: SYNs dropped on a listener */
    KSTAT_SYN_RETRANS,          /* TcpExt: SYNs sent again */
    KSTAT_TCP_TIMEOUTS,         /* TcpExt: retransmission timer fired */
    KSTAT_REQ_QFULL_DROP,       /* TcpExt: SYN queue full */
    KSTAT_SYNCOOKIES_SENT,      /* TcpExt */
    KSTAT_ACTIVE_OPENS,         /* Tcp: connect()s */
    KSTAT_ATTEMPT_FAILS,        /* Tcp */
    KSTAT_ESTAB_RESETS,         /* Tcp */
    KSTAT_RETRANS_SEGS,         /* Tcp */
    KSTAT_OUT_RSTS,             /* Tcp */
    KSTAT_COUNT
} kstat_id;

typedef struct kstats {
    uint64_t value[KSTAT_COUNT];
    int present[KSTAT_COUNT]; /* 0 when the kernel did not report it */
} kstats;

/* The counter's name as the kernel spells it ("ListenOverflows"). */
const char *kstats_name(kstat_id id);

/* Reads the counters now; missing files or fields leave present[] 0. */
void kstats_read(kstats *k);

/* Parses text in the /proc/net/netstat layout (pairs of "Prefix: names" / "Prefix: values"
 * lines) into k; exposed for tests. */
void kstats_parse(const char *text, kstats *k);

#ifdef __cplusplus
}
#endif
#endif
