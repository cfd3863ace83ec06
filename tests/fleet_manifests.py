#!/usr/bin/env python3
"""tests/fleet_manifests.py -- deploy/kubernetes/ parsed with a real YAML parser (PyYAML), and the
fields the fleet recipe of docs/fleet.md relies on checked: an Indexed Job whose completions,
parallelism and SHARDS agree, whose pods run loadgen with --shard $JOB_COMPLETION_INDEX/$SHARDS,
--start-at and --json into the results volume, never retried; a merge Job that reads the same
volume; and the loadgen options used exist in `loadgen --help`.
Usage: tests/fleet_manifests.py LOADGEN_BINARY      Exit 0 pass, 1 fail.
"""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KDIR = os.path.join(ROOT, "deploy", "kubernetes")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def load_all():
    docs = {}
    for name in sorted(os.listdir(KDIR)):
        if name.endswith(".yaml"):
            with open(os.path.join(KDIR, name)) as f:
                for doc in yaml.safe_load_all(f):
                    check(isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc,
                          "%s: a document without kind/apiVersion" % name)
                    docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def pod_volume_claim(pod, mount_path):
    """The PVC name mounted at mount_path in the pod's only container, or None."""
    container = pod["containers"][0]
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    volume = volumes.get(mounts.get(mount_path))
    return volume and volume.get("persistentVolumeClaim", {}).get("claimName")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    docs = load_all()
    config = docs.get(("ConfigMap", "loadgen-run"), {}).get("data", {})
    job = docs.get(("Job", "loadgen"))
    merge = docs.get(("Job", "loadgen-merge"))
    claim = docs.get(("PersistentVolumeClaim", "loadgen-results"))
    check(config and job and merge and claim, "missing ConfigMap, Job, merge Job or PVC")
    if failures:
        return report()
    spec = job["spec"]
    shards = int(config.get("SHARDS", "0"))
    check(spec.get("completionMode") == "Indexed", "the Job is not Indexed")
    check(spec.get("completions") == spec.get("parallelism") == shards and shards > 0,
          "completions %s, parallelism %s and SHARDS %s differ" %
          (spec.get("completions"), spec.get("parallelism"), shards))
    check(spec.get("backoffLimit") == 0, "a failed shard must not be retried (backoffLimit 0)")
    pod = spec["template"]["spec"]
    check(pod.get("restartPolicy") == "Never", "restartPolicy must be Never")
    container = pod["containers"][0]
    script = " ".join(container.get("command", []) + container.get("args", []))
    for needed in ('--shard "$JOB_COMPLETION_INDEX/$SHARDS"', '--start-at "$START_AT"',
                   '--json "/results/shard-$JOB_COMPLETION_INDEX.json"', "$LOADGEN_ARGS",
                   '"$TARGET"', "exec loadgen"):
        check(needed in script, "the shard's command lacks %s" % needed)
    refs = [e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e]
    check(refs == ["loadgen-run"], "the shard's env does not come from ConfigMap loadgen-run")
    for key in ("TARGET", "START_AT", "LOADGEN_ARGS"):
        check(config.get(key), "ConfigMap loadgen-run lacks %s" % key)
    check(re.fullmatch(r"\d{10}", config.get("START_AT", "")),
          "START_AT should be a Unix time the recipe regenerates")
    anti = pod.get("affinity", {}).get("podAntiAffinity", {})
    check(anti.get("requiredDuringSchedulingIgnoredDuringExecution"), "shards may share a node")
    check(pod_volume_claim(pod, "/results") == "loadgen-results",
          "the shards do not write to the loadgen-results volume at /results")
    mpod = merge["spec"]["template"]["spec"]
    check(pod_volume_claim(mpod, "/results") == "loadgen-results",
          "the merge does not read the loadgen-results volume at /results")
    mscript = " ".join(mpod["containers"][0].get("command", []) + mpod["containers"][0].get("args", []))
    check("loadgen merge -o /results/fleet.json /results/shard-*.json" in mscript,
          "the merge Job does not merge /results/shard-*.json")
    check("ReadWriteMany" in claim["spec"]["accessModes"], "the results claim is not ReadWriteMany")
    # The options the recipe passes must be ones loadgen has.
    helptext = subprocess.run([sys.argv[1], "--help"], stdout=subprocess.PIPE, text=True).stdout
    for option in re.findall(r"(--[a-z][a-z-]+|-[a-zA-Z]\b)", script + " " + config["LOADGEN_ARGS"]):
        check(option in helptext, "loadgen --help does not know %s" % option)
    return report()


def report():
    for failure in failures:
        print("fleet_manifests: FAIL: " + failure)
    if not failures:
        print("fleet_manifests: PASS: the Indexed Job, the merge Job and the volume agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
