/* cpus.h -- how many CPUs this process may run on: what "per core" defaults count. */
#ifndef GREETER_CPUS_H
#define GREETER_CPUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The CPUs in this process's affinity mask (taskset, a cpuset, systemd's CPUAffinity=), or
 * the CPUs online when the mask cannot be read; at least 1. A CPU quota (cgroup cpu.max or
 * cfs_quota_us) is not counted: under one, give -w or -t. */
int cpus_usable(void);

#ifdef __cplusplus
}
#endif
#endif
