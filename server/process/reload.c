/* reload.c -- what SIGHUP can change without a restart (the greeting file, the TLS certificate,
 * key and CA), swapped so that connections in flight finish with what they started with. */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *reload_read_greeting(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "--greeting-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed || n == 0 || n > max) {
        snprintf(err, errlen, "--greeting-file %s: %s", path,
                 failed ? "cannot read it" : n == 0 ? "the file is empty" : "larger than allowed");
        if (!failed && n > max)
            snprintf(err, errlen, "--greeting-file %s: larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* A generation holding one reference (the state's). NULL with err when the TLS context fails. */
static reload_gen *gen_new(const char *greeting, size_t len, char *owned,
                           const tls_server_opts *tls, char *err, size_t errlen)
{
    reload_gen *gen = calloc(1, sizeof(*gen));
    if (gen == NULL) {
        snprintf(err, errlen, "reload: out of memory");
        free(owned);
        return NULL;
    }
    gen->greeting = owned ? owned : greeting;
    gen->greeting_len = len;
    gen->owned_greeting = owned;
    atomic_init(&gen->refs, 1);
    if (tls && (gen->tls = tls_ctx_new_server(tls, err, errlen)) == NULL) {
        free(owned);
        free(gen);
        return NULL;
    }
    return gen;
}

/* Frees what the generation holds, once; the struct itself stays on the list until the end,
 * so a reader that raced with the swap may still touch its counters safely. */
static void gen_release_contents(reload_gen *gen)
{
    if (atomic_exchange(&gen->released, 1))
        return;
    tls_ctx_free(gen->tls);
    free(gen->owned_greeting);
}

reload_gen *reload_acquire(reload_state *st)
{
    for (;;) {
        reload_gen *gen = atomic_load(&st->current);
        atomic_fetch_add(&gen->refs, 1);
        /* Still current after our reference counts: the swap had not happened, so the
         * reloader's release of the state's reference cannot reach zero while we hold it. */
        if (atomic_load(&st->current) == gen)
            return gen;
        reload_release(gen);
    }
}

void reload_release(reload_gen *gen)
{
    if (atomic_fetch_sub(&gen->refs, 1) == 1 && atomic_load(&gen->retired))
        gen_release_contents(gen);
}

reload_state *reload_create(const char *greeting, size_t greeting_len, char *owned_greeting,
                            const char *greeting_file, const tls_server_opts *tls,
                            size_t greeting_max, char *err, size_t errlen)
{
    reload_state *st = calloc(1, sizeof(*st));
    reload_gen *gen = st ? gen_new(greeting, greeting_len, owned_greeting, tls, err, errlen) : NULL;
    if (gen == NULL) {
        if (st == NULL) {
            snprintf(err, errlen, "reload: out of memory");
            free(owned_greeting);
        }
        free(st);
        return NULL;
    }
    st->greeting_file = greeting_file;
    st->tls = tls;
    st->greeting_max = greeting_max;
    st->newest = gen;
    atomic_init(&st->current, gen);
    pthread_mutex_init(&st->applying, NULL);
    return st;
}

void reload_destroy(reload_state *st)
{
    if (st == NULL)
        return;
    for (reload_gen *gen = st->newest, *older; gen; gen = older) {
        older = gen->older;
        gen_release_contents(gen);
        free(gen);
    }
    pthread_mutex_destroy(&st->applying);
    free(st);
}

void reload_fork_begin(reload_state *st)
{
    if (st)
        pthread_mutex_lock(&st->applying);
}

void reload_fork_end(reload_state *st)
{
    if (st)
        pthread_mutex_unlock(&st->applying);
}

/* reload_apply with st->applying held. */
static int do_reload_apply(reload_state *st, char *err, size_t errlen)
{
    reload_gen *old = atomic_load(&st->current);
    char *owned = NULL;
    size_t len = old->greeting_len;
    if (st->greeting_file &&
        (owned = reload_read_greeting(st->greeting_file, st->greeting_max, &len, err, errlen)) == NULL)
        return -1;
    reload_gen *gen = gen_new(old->greeting, len, owned, st->tls, err, errlen);
    if (gen == NULL)
        return -1;
    gen->older = st->newest;
    st->newest = gen;
    atomic_store(&st->current, gen);
    atomic_store(&old->retired, 1);
    reload_release(old); /* the state's reference */
    snprintf(err, errlen, "%s%s%s", st->greeting_file ? "greeting file re-read" : "",
             st->greeting_file && st->tls ? ", " : "", st->tls ? "TLS certificate and key reloaded" : "");
    return 0;
}

int reload_apply(reload_state *st, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->applying);
    int rc = do_reload_apply(st, err, errlen);
    pthread_mutex_unlock(&st->applying);
    return rc;
}
