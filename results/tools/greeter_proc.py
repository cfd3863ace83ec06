# greeter_proc.py -- what the bench-* scripts share: the build they measure, greeter-server
# started and stopped as their child, and each child pinned and scheduled as asked
# (python3 standard library only).
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_set(cpus):
    """taskset's "N" or "N-M" (or "N,M-K") form as a set of CPU numbers; None for None."""
    if not cpus:
        return None
    mask = set()
    for part in cpus.split(","):
        first, _, last = part.partition("-")
        mask.update(range(int(first), int(last or first) + 1))
    return mask


def child_setup(cpus, batch=False):
    """A preexec_fn that pins the child to cpus (taskset's form; None: no pinning) and, with
    batch, puts it under SCHED_BATCH; None when there is nothing to do."""
    if not cpus and not batch:
        return None
    mask = cpu_set(cpus)

    def setup():
        if mask:
            os.sched_setaffinity(0, mask)
        if batch:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    return setup


def build(bin_dir, name, tools=("server/greeter-server", "loadgen/loadgen")):
    """bin_dir when given (it must hold tools), else a Release build of greeter-server and
    loadgen in build/release."""
    if bin_dir:
        for tool in tools:
            if not os.access(os.path.join(bin_dir, tool), os.X_OK):
                sys.exit("%s: %s has no %s (a build directory of this project?)"
                         % (name, bin_dir, tool))
        return bin_dir
    out = os.path.join(ROOT, "build", "release")
    subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=Release",
                    "-DGREETER_TESTS=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j%d" % os.cpu_count(), "--target",
                    "greeter-server", "loadgen"], check=True, stdout=subprocess.DEVNULL)
    return out


def start_greeter(server_bin, model, extra, cpus=None, batch=False, name="bench"):
    """greeter-server -m model on 127.0.0.1, port 0, with extra arguments; returns (proc,
    port) once it says where it listens, or exits the script with what it said."""
    argv = [server_bin, "-m", model, "-H", "127.0.0.1", "-p", "0"] + extra
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=child_setup(cpus, batch))
    deadline = time.monotonic() + 10
    said = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on" in line and ":" in line:
            port = int(line.rsplit(":", 1)[1].split()[0])
            return proc, port
        said.append(line.rstrip())
    proc.kill()
    proc.wait()
    sys.exit("%s: %s did not start:\n%s" % (name, " ".join(argv), "\n".join(said[-5:])))


def stop_greeter(proc):
    """SIGTERM, then SIGKILL after 20 s; returns what it printed (its summary)."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""
