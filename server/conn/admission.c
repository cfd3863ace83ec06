/* admission.c -- who may connect and how many at once: allow/deny lists and connection caps. */
#include "admission.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* Distinct client addresses tracked at once for --max-per-ip; past that, new addresses are
 * told we are busy rather than let in uncounted. */
#define PER_IP_SLOTS 65536

typedef struct ip_slot {
    uint8_t key[16];
    uint32_t count; /* 0: the slot is free */
} ip_slot;

/* --rate-per-ip: addresses tracked, and how many neighbouring slots an address may use. */
#define RATE_SLOTS 65536
#define RATE_PROBES 8

/* One address's token bucket, kept as the time its bucket will be full again (a GCRA's
 * "theoretical arrival time"): one number, however many tokens. */
typedef struct rate_slot {
    uint8_t key[16];
    uint64_t full_at_ns; /* 0: the slot is free */
} rate_slot;

struct admission {
    size_t mapped_bytes;
    int max_conns, max_per_ip;
    size_t allow_count, deny_count;
    _Atomic int open; /* admitted and not yet released */
    pthread_mutex_t lock; /* guards table[] */
    uint64_t rate_interval_ns, rate_tolerance_ns; /* 1/rate; (burst - 1)/rate */
    pthread_mutex_t rate_lock; /* guards rates[] */
    rate_slot *rates;          /* RATE_SLOTS into this block with a rate, else NULL */
    cidr_block *allow, *deny; /* point into this block */
    ip_slot table[];          /* PER_IP_SLOTS when max_per_ip is set, else none */
};

static void init_robust_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
}

/* The bucket of --rate-per-ip: one second's worth of tokens, at least one. */
static void set_rate(admission *adm, double per_second)
{
    double burst = per_second < 1 ? 1 : (double)(uint64_t)(per_second + 0.5);
    adm->rate_interval_ns = (uint64_t)(1e9 / per_second);
    adm->rate_tolerance_ns = (uint64_t)((burst - 1) * 1e9 / per_second);
    init_robust_mutex(&adm->rate_lock);
}

admission *admission_create(const admission_config *cfg, char *err, size_t errlen)
{
    size_t slots = cfg->max_per_ip > 0 ? PER_IP_SLOTS : 0;
    size_t rate_slots = cfg->rate_per_ip > 0 ? RATE_SLOTS : 0;
    size_t rules = (cfg->allow_count + cfg->deny_count) * sizeof(cidr_block);
    size_t bytes = sizeof(admission) + slots * sizeof(ip_slot) + rate_slots * sizeof(rate_slot) +
                   rules;
    admission *adm = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (adm == MAP_FAILED) {
        snprintf(err, errlen, "admission state (%zu bytes): %s", bytes, strerror(errno));
        return NULL;
    }
    adm->mapped_bytes = bytes;
    adm->max_conns = cfg->max_conns;
    adm->max_per_ip = cfg->max_per_ip;
    adm->rates = rate_slots ? (rate_slot *)((char *)adm->table + slots * sizeof(ip_slot)) : NULL;
    adm->allow = (cidr_block *)((char *)adm->table + slots * sizeof(ip_slot) +
                                rate_slots * sizeof(rate_slot));
    adm->deny = adm->allow + cfg->allow_count;
    adm->allow_count = cfg->allow_count;
    adm->deny_count = cfg->deny_count;
    if (cfg->allow_count)
        memcpy(adm->allow, cfg->allow, cfg->allow_count * sizeof(cidr_block));
    if (cfg->deny_count)
        memcpy(adm->deny, cfg->deny, cfg->deny_count * sizeof(cidr_block));
    init_robust_mutex(&adm->lock);
    if (adm->rates)
        set_rate(adm, cfg->rate_per_ip);
    return adm;
}

void admission_destroy(admission *adm)
{
    if (adm == NULL)
        return;
    pthread_mutex_destroy(&adm->lock);
    if (adm->rates)
        pthread_mutex_destroy(&adm->rate_lock);
    munmap(adm, adm->mapped_bytes);
}

int admission_allowed(const admission *adm, const struct sockaddr *peer)
{
    uint8_t key[16];
    if (cidr_key(peer, key) < 0)
        return 1; /* UNIX peers: the socket file's permissions are the access control */
    for (size_t i = 0; i < adm->deny_count; i++)
        if (cidr_contains(&adm->deny[i], peer))
            return 0;
    if (adm->allow_count == 0)
        return 1;
    for (size_t i = 0; i < adm->allow_count; i++)
        if (cidr_contains(&adm->allow[i], peer))
            return 1;
    return 0;
}

static void lock_robust(pthread_mutex_t *m)
{
    if (pthread_mutex_lock(m) == EOWNERDEAD) {
        /* A process died holding the lock; the table may be off by its connection. */
        pthread_mutex_consistent(m);
    }
}

static void lock_table(admission *adm)
{
    lock_robust(&adm->lock);
}

static size_t slot_hash(const uint8_t key[16])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return (size_t)(h & (PER_IP_SLOTS - 1));
}

/* Lock held. The slot holding key, or the free slot where it would go; NULL when full. */
static ip_slot *do_find_slot(admission *adm, const uint8_t key[16])
{
    size_t i = slot_hash(key);
    for (size_t probes = 0; probes < PER_IP_SLOTS; probes++, i = (i + 1) & (PER_IP_SLOTS - 1)) {
        ip_slot *s = &adm->table[i];
        if (s->count == 0 || memcmp(s->key, key, 16) == 0)
            return s;
    }
    return NULL;
}

/* Lock held. Empties slot s and shifts later entries of its probe run back, so that linear
 * probing finds them without tombstones. */
static void do_free_slot(admission *adm, const ip_slot *s)
{
    size_t hole = (size_t)(s - adm->table);
    adm->table[hole].count = 0;
    for (size_t i = (hole + 1) & (PER_IP_SLOTS - 1); adm->table[i].count != 0;
         i = (i + 1) & (PER_IP_SLOTS - 1)) {
        size_t home = slot_hash(adm->table[i].key);
        /* Move entry i into the hole unless its home lies cyclically in (hole, i]. */
        int stays = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays)
            continue;
        adm->table[hole] = adm->table[i];
        adm->table[i].count = 0;
        hole = i;
    }
}

/* Counts one more connection for peer's address; 0, or -1 when its cap (or the table) is full. */
static int per_ip_take(admission *adm, const struct sockaddr *peer)
{
    uint8_t key[16];
    if (adm->max_per_ip <= 0 || cidr_key(peer, key) < 0)
        return 0;
    lock_table(adm);
    ip_slot *s = do_find_slot(adm, key);
    int rc = -1;
    if (s == NULL) {
        log_warn("--max-per-ip: tracking %d client addresses already; turning new ones away",
                 PER_IP_SLOTS);
    } else if ((int)s->count < adm->max_per_ip) {
        memcpy(s->key, key, 16);
        s->count++;
        rc = 0;
    }
    pthread_mutex_unlock(&adm->lock);
    return rc;
}

static void per_ip_give_back(admission *adm, const struct sockaddr *peer)
{
    uint8_t key[16];
    if (adm->max_per_ip <= 0 || cidr_key(peer, key) < 0)
        return;
    lock_table(adm);
    ip_slot *s = do_find_slot(adm, key);
    if (s && s->count > 0 && --s->count == 0)
        do_free_slot(adm, s);
    pthread_mutex_unlock(&adm->lock);
}

int admission_address_full(admission *adm, const struct sockaddr *peer)
{
    uint8_t key[16];
    if (adm->max_per_ip <= 0 || cidr_key(peer, key) < 0)
        return 0;
    lock_table(adm);
    const ip_slot *s = do_find_slot(adm, key);
    int full = s != NULL && s->count > 0 && (int)s->count >= adm->max_per_ip;
    pthread_mutex_unlock(&adm->lock);
    return full;
}

/* rate_lock held. key's bucket, or the slot it takes: a free one, else the one among its
 * neighbours whose bucket fills soonest (seen least recently), reset for key. */
static rate_slot *do_find_rate_slot(admission *adm, const uint8_t key[16])
{
    size_t home = slot_hash(key);
    rate_slot *victim = NULL;
    for (size_t k = 0; k < RATE_PROBES; k++) {
        rate_slot *s = &adm->rates[(home + k) & (RATE_SLOTS - 1)];
        if (s->full_at_ns != 0 && memcmp(s->key, key, 16) == 0)
            return s;
        if (victim == NULL || s->full_at_ns < victim->full_at_ns)
            victim = s;
    }
    memcpy(victim->key, key, 16);
    victim->full_at_ns = 0; /* a full bucket */
    return victim;
}

int admission_rate_allow(admission *adm, const struct sockaddr *peer)
{
    uint8_t key[16];
    if (adm->rates == NULL || cidr_key(peer, key) < 0)
        return 1;
    uint64_t now = clock_now_ns();
    lock_robust(&adm->rate_lock);
    rate_slot *s = do_find_rate_slot(adm, key);
    uint64_t full_at = s->full_at_ns > now ? s->full_at_ns : now;
    /* Tokens left = (tolerance - (full_at - now)) / interval + 1: none when beyond it. */
    int allowed = full_at - now <= adm->rate_tolerance_ns;
    if (allowed)
        s->full_at_ns = full_at + adm->rate_interval_ns;
    pthread_mutex_unlock(&adm->rate_lock);
    return allowed;
}

admit_result admission_admit(admission *adm, const struct sockaddr *peer)
{
    if (!admission_allowed(adm, peer))
        return ADMIT_DENIED;
    if (!admission_rate_allow(adm, peer))
        return ADMIT_RATE;
    return admission_take_place(adm, peer);
}

admit_result admission_take_place(admission *adm, const struct sockaddr *peer)
{
    int open = atomic_fetch_add_explicit(&adm->open, 1, memory_order_relaxed) + 1;
    if (adm->max_conns > 0 && open > adm->max_conns) {
        atomic_fetch_sub_explicit(&adm->open, 1, memory_order_relaxed);
        return ADMIT_BUSY;
    }
    if (per_ip_take(adm, peer) < 0) {
        atomic_fetch_sub_explicit(&adm->open, 1, memory_order_relaxed);
        return ADMIT_BUSY;
    }
    return ADMIT_OK;
}

void admission_release(admission *adm, const struct sockaddr *peer)
{
    per_ip_give_back(adm, peer);
    atomic_fetch_sub_explicit(&adm->open, 1, memory_order_relaxed);
}
