# reference_servers.py -- starts and stops the servers results/compare measures beside the
# greeter models: nginx (stream `return`, plain or TLS) and the tutorial's Python server.
"""Each server runs on 127.0.0.1 as a child process of the caller, stopped by its PID.

nginx runs in the foreground (`daemon off`) from a temporary prefix holding its
configuration, pid file and error log; master_process stays on, so "workers" is the
worker_processes count and the caller's wait4() on the master covers the workers it reaped.
nginx 1.22's ssl_protocols default leaves TLS 1.3 out: the TLS configuration names
TLSv1.2 and TLSv1.3, like greeter-server, or nginx would be measured on TLS 1.2.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SOURCE_DIR = os.path.dirname(os.path.abspath(__file__))
GREETING = "Thank you for connecting"
STREAM_MODULE_DIRS = ["/usr/lib/nginx/modules", "/usr/lib64/nginx/modules",
                      "/usr/share/nginx/modules"]
NGINX_PACKAGES = ["nginx-light", "libnginx-mod-stream"]
START_TIMEOUT_S = 10.0


def nginx_stream_module():
    """The path of ngx_stream_module.so, or None."""
    for d in STREAM_MODULE_DIRS:
        path = os.path.join(d, "ngx_stream_module.so")
        if os.path.exists(path):
            return path
    return None


def nginx_missing():
    """Why nginx rows cannot run (None when they can)."""
    if not shutil.which("nginx"):
        return "nginx is not installed (apt-get install %s)" % " ".join(NGINX_PACKAGES)
    if not nginx_stream_module():
        return "nginx's stream module is not installed (apt-get install libnginx-mod-stream)"
    return None


def free_port():
    """A port that was free on 127.0.0.1 a moment ago (nginx cannot report a port 0 bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc, port, timeout_s=START_TIMEOUT_S):
    """Waits until 127.0.0.1:port accepts a connection; False if proc exits or time runs
    out. The probe's connection is made before any measurement starts."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def nginx_config(prefix, port, workers, tls_files, max_conns):
    """nginx.conf text: one stream server returning the greeting on 127.0.0.1:port."""
    ssl = ""
    if tls_files:
        ssl = ("    ssl_certificate %s;\n    ssl_certificate_key %s;\n"
               "    ssl_protocols TLSv1.2 TLSv1.3;\n" % tls_files)
    return (
        "daemon off;\nmaster_process on;\nworker_processes %s;\n"
        "worker_rlimit_nofile %d;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
        "load_module %s;\n"
        "events { worker_connections %d; }\n"
        "stream {\n  server {\n    listen 127.0.0.1:%d%s;\n%s    return \"%s\";\n  }\n}\n"
        % (workers, 2 * max_conns + 64, prefix, prefix, nginx_stream_module(), max_conns,
           port, " ssl" if tls_files else "", ssl, GREETING))


class ReferenceServer:
    """A started reference server: proc (Popen), port, argv, and its temporary prefix."""

    def __init__(self, proc, port, argv, prefix=None):
        self.proc, self.port, self.argv, self.prefix = proc, port, argv, prefix

    def error_text(self):
        """nginx's error log (the tutorial server has none), for the run's record."""
        if not self.prefix:
            return ""
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        if self.prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)


def start_nginx(workers, tls_files, max_conns, err_file, preexec_fn=None):
    """nginx with `workers` worker processes ("auto": one per core); tls_files is None or
    (certificate, key). Returns a ReferenceServer; raises RuntimeError when it does not
    come up (three tries, each on a fresh port)."""
    last = ""
    for _attempt in range(3):
        prefix = tempfile.mkdtemp(prefix="compare-nginx-")
        os.chmod(prefix, 0o755)  # workers drop to 'nobody' when started as root
        port = free_port()
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_config(prefix, port, workers, tls_files, max_conns))
        argv = ["nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err_file, preexec_fn=preexec_fn)
        server = ReferenceServer(proc, port, argv, prefix)
        if wait_listening(proc, port):
            return server
        last = server.error_text().strip()[-300:]
        stop(server)
        server.cleanup()
    raise RuntimeError("nginx did not start: %s" % last)


def start_tutorial(err_file, preexec_fn=None):
    """The tutorial's Python server on 127.0.0.1 (a free port chosen here). Its output (the
    tutorial's 'Got connection from' lines) goes to /dev/null."""
    port = free_port()
    argv = ["python3", os.path.join(SOURCE_DIR, "tutorial_server.py"), "127.0.0.1", str(port)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err_file, preexec_fn=preexec_fn)
    server = ReferenceServer(proc, port, argv)
    if not wait_listening(proc, port):
        stop(server)
        raise RuntimeError("%s did not start listening" % " ".join(argv))
    return server


def stop(server, timeout_s=20.0):
    """SIGTERM, then SIGKILL after timeout_s; reaps with wait4. Returns (exit code, rusage)."""
    proc = server.proc
    if proc.returncode is not None:  # it exited on its own and poll() reaped it
        return proc.returncode, None
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if time.monotonic() > deadline:
            proc.kill()
            deadline = float("inf")
        time.sleep(0.02)
