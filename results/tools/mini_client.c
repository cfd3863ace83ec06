/* mini_client.c -- the baseline for bench-loadgen: a plain single-purpose epoll greeting client.
 *
 * Keeps N connections in flight to 127.0.0.1:PORT for SECONDS on THREADS epoll loops: each
 * connection is socket + non-blocking connect + EPOLLIN, read until EOF, close, reconnect.
 * No timing, no histograms, no checks beyond counting. Prints greetings, greetings/s and its own
 * CPU microseconds (user + sys, getrusage) per greeting.
 * usage: mini_client PORT CONNECTIONS SECONDS THREADS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;
static int per_thread;
static double seconds;
static atomic_ulong total_greetings, total_errors;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_one(int epfd)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&target, sizeof(target)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    return 0;
}

static void *loop(void *arg)
{
    (void)arg;
    int epfd = epoll_create1(EPOLL_CLOEXEC), open = 0;
    unsigned long greetings = 0, errors = 0;
    struct epoll_event events[256];
    char buf[4096];
    double end = now_s() + seconds;
    for (int i = 0; i < per_thread; i++)
        open += open_one(epfd) == 0;
    while (open > 0) {
        int stopping = now_s() >= end;
        int n = epoll_wait(epfd, events, 256, 100);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            ssize_t got;
            while ((got = read(fd, buf, sizeof(buf))) > 0)
                ;
            if (got < 0 && errno == EAGAIN)
                continue;
            got == 0 ? greetings++ : errors++;
            close(fd);
            open--;
            if (!stopping)
                open += open_one(epfd) == 0;
        }
    }
    close(epfd);
    atomic_fetch_add(&total_greetings, greetings);
    atomic_fetch_add(&total_errors, errors);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: mini_client PORT CONNECTIONS SECONDS THREADS\n");
        return 2;
    }
    int threads = atoi(argv[4]);
    target.sin_family = AF_INET;
    target.sin_port = htons((unsigned short)atoi(argv[1]));
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    per_thread = atoi(argv[2]) / threads;
    seconds = atof(argv[3]);
    pthread_t tids[64];
    struct rusage ru;
    double t0 = now_s();
    for (int i = 0; i < threads && i < 64; i++)
        pthread_create(&tids[i], NULL, loop, NULL);
    for (int i = 0; i < threads && i < 64; i++)
        pthread_join(tids[i], NULL);
    double wall = now_s() - t0;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    unsigned long g = atomic_load(&total_greetings);
    printf("greetings=%lu errors=%lu rate=%.0f us_per_greeting=%.2f\n", g,
           atomic_load(&total_errors), g / wall, g ? cpu * 1e6 / g : 0.0);
    return 0;
}
