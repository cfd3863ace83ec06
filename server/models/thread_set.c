/* thread_set.c -- start one thread per item, run them until shutdown, join them: for models whose threads each serve on their own. */
#include "thread_set.h"

#include "shutdown.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int thread_set_run(const char *what, void *items, size_t item_size, int count,
                   const thread_set_ops *ops, char *err, size_t errlen)
{
    pthread_t *threads = calloc((size_t)count, sizeof(*threads));
    if (threads == NULL) {
        snprintf(err, errlen, "%s: out of memory for %d threads", what, count);
        return -1;
    }
    int started = 0, rc = 0;
    for (; started < count; started++) {
        void *item = (char *)items + (size_t)started * item_size;
        if (ops->prepare && ops->prepare(item, started, err, errlen) < 0) {
            rc = -1;
            break;
        }
        int prc = shutdown_thread_create(&threads[started], NULL, ops->main, item);
        if (prc != 0) {
            snprintf(err, errlen, "%s: start thread %d of %d: %s", what, started + 1, count,
                     strerror(prc));
            if (ops->release)
                ops->release(item);
            rc = -1;
            break;
        }
        pthread_setname_np(threads[started], what); /* as top -H and ps -L show it */
    }
    if (rc != 0)
        shutdown_request(); /* the threads that did start stop too */
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        if (ops->release)
            ops->release((char *)items + (size_t)i * item_size);
    }
    free(threads);
    return rc;
}
