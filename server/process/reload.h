/* reload.h -- what SIGHUP can change without a restart (the greeting file, the TLS certificate,
 * key and CA), swapped so that connections in flight finish with what they started with. */
#ifndef GREETER_RELOAD_H
#define GREETER_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest greeting file. */
#define RELOAD_GREETING_MAX ((size_t)1024 * 1024)

/* One version of the reloadable settings. Fields are read-only once published. */
typedef struct reload_gen {
    const char *greeting;
    size_t greeting_len;
    tls_ctx *tls; /* NULL without TLS */
    char *owned_greeting; /* the file's bytes (freed with the generation), or NULL */
    _Atomic unsigned long refs;
    _Atomic int retired;  /* no longer current: freed when the last user lets go */
    _Atomic int released; /* its contents were freed (only once) */
    struct reload_gen *older; /* every generation, for the final free */
} reload_gen;

/* Where the settings come from, and the current generation. Created by reload_create. */
typedef struct reload_state {
    _Atomic(reload_gen *) current;
    const char *greeting_file;     /* NULL: the greeting is fixed text */
    const tls_server_opts *tls;    /* NULL: no TLS */
    size_t greeting_max;           /* e.g. less with UDP listeners */
    reload_gen *newest;            /* the list through ->older; the reloader's alone */
    pthread_mutex_t applying;      /* held through reload_apply, and around a fork */
} reload_state;

/*
 * Reads a whole greeting file into a malloc'd buffer the caller owns (at most max bytes, not
 * empty). NULL with err "--greeting-file F: why".
 */
char *reload_read_greeting(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/*
 * The first generation: greeting (not owned; or owned_greeting, which the state then owns)
 * and a TLS context built from tls when it is not NULL. greeting_file and tls must outlive
 * the state. NULL with err.
 */
reload_state *reload_create(const char *greeting, size_t greeting_len, char *owned_greeting,
                            const char *greeting_file, const tls_server_opts *tls,
                            size_t greeting_max, char *err, size_t errlen);

/* Frees every generation; no connection may still hold one. NULL is fine. */
void reload_destroy(reload_state *st);

/*
 * Re-reads the greeting file and rebuilds the TLS context, then makes them current: new
 * connections get them, connections holding the old generation finish with it. When anything
 * fails the current generation stays and err says why: -1. 0 on success (err then says what
 * changed). One reloader at a time.
 */
int reload_apply(reload_state *st, char *err, size_t errlen);

/*
 * Around fork() in a process that may be reloading: waits for a reload in progress to end and
 * holds the next one off until reload_fork_end (in the parent; a child never reloads and
 * leaves its copy alone). A child forked while the reloader is inside OpenSSL would inherit
 * OpenSSL's locks held and hang on its first handshake. NULL st is fine.
 */
void reload_fork_begin(reload_state *st);
void reload_fork_end(reload_state *st);

/* The current generation, held until reload_release: a few atomic operations. */
reload_gen *reload_acquire(reload_state *st);
void reload_release(reload_gen *gen);

#ifdef __cplusplus
}
#endif
#endif
