/* dlist.h -- intrusive deadline lists: O(1) timers when every deadline in a list is now + that list's constant. */
#ifndef GREETER_DLIST_H
#define GREETER_DLIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Embedded in whatever waits; DL_ENTRY gets the container back. A node knows its list, so
 * removing it needs no list and removing an unlisted node is harmless. */
typedef struct dl_node {
    struct dl_node *prev, *next;
    struct dl_list *owner; /* NULL while in no list */
    uint64_t deadline_ns;
} dl_node;

/* Appending keeps a list sorted only when deadlines arrive in order, as they do when each
 * is now + the same timeout: then the head is always the next to expire. */
typedef struct dl_list {
    dl_node *head, *tail;
} dl_list;

#define DL_ENTRY(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

/* The entry (of type, linked by member) that expires first in l, or NULL when l is empty. */
#define DL_FIRST(l, type, member) ((l)->head ? DL_ENTRY((l)->head, type, member) : NULL)

static inline int dl_listed(const dl_node *n) { return n->owner != NULL; }

/* Takes n out of its list, if it is in one. */
static inline void dl_remove(dl_node *n)
{
    dl_list *l = n->owner;
    if (l == NULL)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    n->owner = NULL;
}

/* Puts n at the end of l with this deadline, out of any list it was in. */
static inline void dl_append(dl_list *l, dl_node *n, uint64_t deadline_ns)
{
    dl_remove(n);
    n->deadline_ns = deadline_ns;
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    n->owner = l;
}

/* Puts n into l at its place by deadline, searching from the tail: for a node that comes back
 * with an earlier deadline than the newest (a wait that resumes its phase's first deadline).
 * Equal deadlines keep their arrival order. O(1) when the deadline is the latest. */
static inline void dl_insert_sorted(dl_list *l, dl_node *n, uint64_t deadline_ns)
{
    dl_remove(n);
    dl_node *after = l->tail;
    while (after && after->deadline_ns > deadline_ns)
        after = after->prev;
    n->deadline_ns = deadline_ns;
    n->owner = l;
    n->prev = after;
    n->next = after ? after->next : l->head;
    if (n->next)
        n->next->prev = n;
    else
        l->tail = n;
    if (after)
        after->next = n;
    else
        l->head = n;
}

#ifdef __cplusplus
}
#endif
#endif
