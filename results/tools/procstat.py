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
