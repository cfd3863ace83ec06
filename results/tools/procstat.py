# results/tools/procstat.py -- CPU and memory of a process tree from /proc, for the benchmarks
# in results/ (python3 standard library only).
import os


def proc_stats():
    """{pid: stat fields after the command name} for every process in /proc."""
    stats = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stats[int(name)] = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
    return stats


def tree_sum(root, stats, value):
    """The sum of value(fields) over root and its descendants (ppid links)."""
    children = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if pid in stats:
            total += value(stats[pid])
        todo.extend(children.get(pid, []))
    return total


def cpu_ticks(fields):
    """utime + stime + cutime + cstime: a reaped child's time moves into its parent's."""
    return sum(int(v) for v in fields[11:15])


def tree_cpu_ticks(root):
    """CPU ticks of root and its descendants; a child reaped in between still counts."""
    return tree_sum(root, proc_stats(), cpu_ticks)


def tree_pids(root):
    """root and its descendants' PIDs (ppid links), those alive now."""
    stats = proc_stats()
    return [pid for pid in stats if _descends(pid, root, stats)]


def _descends(pid, root, stats):
    seen = set()
    while pid not in seen:
        if pid == root:
            return True
        seen.add(pid)
        fields = stats.get(pid)
        if fields is None:
            return False
        pid = int(fields[1])
    return False


def task_switches(pid):
    """Context switches (voluntary + involuntary) of every thread of pid, from
    /proc/PID/task/*/status; 0 for a process gone meanwhile."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            continue  # the thread ended meanwhile
    return total


def tree_switches(root):
    """Context switches of root's process tree (threads alive now; fork's reaped children's
    are lost, which the benchmarks that use this avoid)."""
    return sum(task_switches(pid) for pid in tree_pids(root))


def thread_cpu_ticks(pid):
    """{thread name: utime + stime ticks} summed over pid's threads of each name (server
    threads are named for their role: pool-worker, waiting-room, event, ...)."""
    by_name = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return by_name
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index(b"(") + 1:raw.rindex(b")")].decode(errors="replace")
        fields = raw.rsplit(b")", 1)[1].split()
        by_name[name] = by_name.get(name, 0) + int(fields[11]) + int(fields[12])
    return by_name
