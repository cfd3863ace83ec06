/* thread_set.h -- start one thread per item, run them until shutdown, join them: for models whose threads each serve on their own. */
#ifndef GREETER_THREAD_SET_H
#define GREETER_THREAD_SET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct thread_set_ops {
    /* Optional: makes item `index` ready before its thread starts (its own socket, say).
     * 0, or -1 with err, having undone whatever it did. */
    int (*prepare)(void *item, int index, char *err, size_t errlen);
    void *(*main)(void *item); /* the thread's body: runs until shutdown */
    /* Optional: undoes prepare, after the item's thread ended or when it could not start. */
    void (*release)(void *item);
} thread_set_ops;

/*
 * Runs `count` threads, thread i on the item at items + i * item_size (the caller owns the
 * array), started with shutdown_thread_create, and returns once every one has been joined.
 * If one cannot be prepared or started, a stop is requested so that the others end: returns
 * -1 with "WHAT: start thread I of N: why" (or prepare's message) in err; else 0.
 */
int thread_set_run(const char *what, void *items, size_t item_size, int count,
                   const thread_set_ops *ops, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
