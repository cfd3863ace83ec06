/* cpus.c -- how many CPUs this process may run on: what "per core" defaults count. */
#include "cpus.h"

#include <sched.h>
#include <unistd.h>

int cpus_usable(void)
{
    cpu_set_t set;
    /* Fails past CPU_SETSIZE (1024) CPUs: the online count is as good an answer there. */
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
