#!/usr/bin/env python3
"""tests/server_manifests.py -- the Kubernetes manifests of greeter-server
(deploy/kubernetes/greeter-server*.yaml) parsed with PyYAML and checked: each Deployment runs
non-root with a read-only root filesystem, every capability dropped and the RuntimeDefault
seccomp profile; its probes use the metrics port (readiness /ready, liveness /metrics), never
the greeting port; preStop and terminationGracePeriodSeconds leave room for SIGTERM's drain;
its Service and PodDisruptionBudget select its pods and name its ports; --proxy-protocol is
given exactly where the Service's balancer sends the header. Then the container's command line
is run for real here (addresses moved to 127.0.0.1, ports to 0): it must listen, answer
/ready with 200, and exit 0 on SIGTERM.
Usage: tests/server_manifests.py GREETER_SERVER_BINARY      Exit 0 pass, 1 fail.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KDIR = os.path.join(ROOT, "deploy", "kubernetes")
PROXY_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def load(name):
    with open(os.path.join(KDIR, name)) as f:
        return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(f) if d}


def option_value(args, option, default=None):
    return args[args.index(option) + 1] if option in args else default


def seconds(text):
    """--io-timeout's value in seconds (units ms, s, m; default s)."""
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)?", text)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, None: 1}[m.group(2)]
    return float(m.group(1)) * scale


def check_pod(name, pod, args):
    sec = pod.get("securityContext", {})
    check(sec.get("runAsNonRoot") is True and sec.get("runAsUser", 0) != 0, name + ": not non-root")
    check(sec.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          name + ": seccompProfile is not RuntimeDefault")
    container = pod["containers"][0]
    csec = container.get("securityContext", {})
    check(csec.get("readOnlyRootFilesystem") is True, name + ": root filesystem not read-only")
    check(csec.get("allowPrivilegeEscalation") is False, name + ": privilege escalation allowed")
    check(csec.get("capabilities", {}).get("drop") == ["ALL"], name + ": capabilities not all dropped")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(str(ports.get("greeting")) == option_value(args, "-p"), name + ": greeting port is not -p")
    metrics = option_value(args, "--metrics", "")
    check(metrics.endswith(":%s" % ports.get("metrics")), name + ": metrics port is not --metrics'")
    ready, live = container.get("readinessProbe", {}), container.get("livenessProbe", {})
    check(ready.get("httpGet", {}).get("path") == "/ready" and ready["httpGet"].get("port") == "metrics",
          name + ": readiness is not GET /ready on the metrics port")
    check(live.get("httpGet", {}).get("port") == "metrics", name + ": liveness is not on the metrics port")
    check(live.get("httpGet", {}).get("path") != "/ready",
          name + ": liveness on /ready would kill a draining pod")
    stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    check(stop[:1] == ["sleep"], name + ": no preStop sleep (endpoints must go before SIGTERM)")
    drain = 3 * seconds(option_value(args, "--io-timeout", "5s"))  # handshake, greeting, close
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(stop[:1] == ["sleep"] and grace >= int(stop[1]) + drain + 5,
          name + ": terminationGracePeriodSeconds %s leaves no room for the drain" % grace)
    return container


def check_file(filename, deployment_name, proxied):
    docs = load(filename)
    dep = docs.get(("Deployment", deployment_name))
    svc = docs.get(("Service", deployment_name))
    pdb = docs.get(("PodDisruptionBudget", deployment_name))
    if not check(dep and svc and pdb, filename + ": missing Deployment, Service or PDB"):
        return None
    template = dep["spec"]["template"]
    labels = template["metadata"]["labels"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(),
          filename + ": the Deployment's selector does not match its pods")
    container = template["spec"]["containers"][0]
    args = container.get("args", [])
    check_pod(filename, template["spec"], args)
    check(svc["spec"]["selector"].items() <= labels.items(), filename + ": the Service selects other pods")
    port_names = {p["name"] for p in container["ports"]}
    check(all(p["targetPort"] in port_names and p["targetPort"] != "metrics" for p in svc["spec"]["ports"]),
          filename + ": the Service's targetPort is not the greeting port")
    check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(),
          filename + ": the PDB selects other pods")
    check(pdb["spec"].get("maxUnavailable", 0) < dep["spec"]["replicas"],
          filename + ": the PDB lets every pod go at once")
    sends = svc["metadata"].get("annotations", {}).get(PROXY_ANNOTATION) == "*"
    check(sends == proxied and ("--proxy-protocol" in args) == proxied,
          filename + ": --proxy-protocol and the balancer's PROXY header disagree")
    return container


def run_for_real(binary, container):
    """The container's command line, with addresses on 127.0.0.1 and ports 0: it must start,
    answer /ready, and drain to exit 0 on SIGTERM."""
    args = list(container["args"])
    args[args.index("-H") + 1] = "127.0.0.1"
    args[args.index("-p") + 1] = "0"
    args[args.index("--metrics") + 1] = "127.0.0.1:0"
    proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        metrics_port = None
        deadline = time.monotonic() + 10
        while metrics_port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)", line)
            metrics_port = m and int(m.group(1))
        if not check(metrics_port, "%s did not start: %s" % (" ".join(args), proc.stderr.read(500) if proc.poll() is not None else "")):
            return
        with urllib.request.urlopen("http://127.0.0.1:%d/ready" % metrics_port, timeout=5) as answer:
            check(answer.status == 200 and answer.read() == b"ready\n", "/ready did not say ready")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=20) == 0, "the server did not exit 0 on SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for filename, name, proxied in (("greeter-server.yaml", "greeter-server", False),
                                    ("greeter-server-proxied.yaml", "greeter-server-proxied", True)):
        container = check_file(filename, name, proxied)
        if container:
            run_for_real(sys.argv[1], container)
    for failure in failures:
        print("server_manifests: FAIL: " + failure)
    if not failures:
        print("server_manifests: PASS: both Deployments, their Services and PDBs agree; the "
              "command lines run")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
