/* wake_cost.c -- what one thread waking another costs here: two threads pass a token back and
 * forth through pipes, on one CPU, on two CPUs, and where the scheduler puts them.
 *
 *   cc -O2 -pthread -o wake_cost results/tools/wake_cost.c && ./wake_cost
 *
 * Prints, per placement, the wall time of a round trip and the CPU time (getrusage, both
 * threads) per wake-up. The interesting figure is the ratio of "two CPUs" to "one CPU": how
 * much more a hand-off between threads costs when the woken thread's CPU was idle. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { ROUND_TRIPS = 20000 };

typedef struct pair {
    int ping[2], pong[2]; /* pipes: main -> peer, peer -> main */
    int peer_cpu;         /* -1: wherever the scheduler puts it */
} pair;

static cpu_set_t allowed; /* the CPUs this process may use (taskset): restored after each row */

/* Pins the calling thread to cpu (-1: back to every allowed CPU); exits if it cannot. */
static void pin(int cpu)
{
    cpu_set_t set = allowed;
    if (cpu >= 0) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
    }
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc != 0) {
        fprintf(stderr, "wake_cost: cannot run on CPU %d: %s\n", cpu, strerror(rc));
        exit(1);
    }
}

static void *peer_main(void *arg)
{
    pair *p = arg;
    char token;
    pin(p->peer_cpu);
    for (int i = 0; i < ROUND_TRIPS; i++)
        if (read(p->ping[0], &token, 1) != 1 || write(p->pong[1], &token, 1) != 1)
            exit(1);
    return NULL;
}

static double us(const struct timeval *tv) { return tv->tv_sec * 1e6 + tv->tv_usec; }

static void measure(const char *what, int main_cpu, int peer_cpu)
{
    pair p = {.peer_cpu = peer_cpu};
    if (pipe(p.ping) < 0 || pipe(p.pong) < 0) {
        perror("pipe");
        exit(1);
    }
    pthread_t peer;
    int rc = pthread_create(&peer, NULL, peer_main, &p);
    if (rc != 0) {
        fprintf(stderr, "wake_cost: pthread_create: %s\n", strerror(rc));
        exit(1);
    }
    pin(main_cpu);
    struct rusage r0, r1;
    struct timespec t0, t1;
    getrusage(RUSAGE_SELF, &r0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char token = 'x';
    for (int i = 0; i < ROUND_TRIPS; i++)
        if (write(p.ping[1], &token, 1) != 1 || read(p.pong[0], &token, 1) != 1)
            exit(1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &r1);
    pthread_join(peer, NULL);
    double wall_us = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    double cpu_us = us(&r1.ru_utime) - us(&r0.ru_utime) + us(&r1.ru_stime) - us(&r0.ru_stime);
    printf("%-28s %7.1f us per round trip, %6.1f us CPU per wake-up\n", what,
           wall_us / ROUND_TRIPS, cpu_us / (2.0 * ROUND_TRIPS));
    close(p.ping[0]), close(p.ping[1]), close(p.pong[0]), close(p.pong[1]);
    pin(-1);
}

int main(void)
{
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0 || CPU_COUNT(&allowed) < 2) {
        fprintf(stderr, "wake_cost: needs 2 CPUs or more to run on\n");
        return 1;
    }
    int first = -1, second = -1; /* the first two CPUs allowed */
    for (int c = 0; c < CPU_SETSIZE && second < 0; c++)
        if (CPU_ISSET(c, &allowed))
            *(first < 0 ? &first : &second) = c;
    char one[64], two[64];
    snprintf(one, sizeof(one), "one CPU (both on CPU %d)", first);
    snprintf(two, sizeof(two), "two CPUs (CPU %d and %d)", first, second);
    measure(one, first, first);
    measure(two, first, second);
    measure("unpinned", -1, -1);
    return 0;
}
