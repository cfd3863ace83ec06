#!/usr/bin/env python3
"""tests/fleet_netns.py -- a 3-host fleet in network namespaces (tools/fleet), checked end to end.

Runs tools/fleet 3 for 2 s of load against the build in BIN and checks what a user relies on:
the merged greeting count equals the server's `greeted`; every merged histogram equals the
bucket-by-bucket sum of the shards'; the shards' shares of -c add up to the whole.
Exit 0 pass, 1 fail, 77 skip (no network namespaces here: the message says why).
Usage: tests/fleet_netns.py BIN_DIR
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

HOSTS = 3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bucket_counts(path):
    """The exact bucket counts of a .hgrm file written by loadgen (its '#c I:C' lines)."""
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            if line.startswith("#c "):
                for pair in line[3:].split():
                    index, count = pair.split(":")
                    counts[int(index)] += int(count)
    return counts


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("fleet_netns: SKIP: network namespaces need root", file=sys.stderr)
        return 77
    failures = []
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [os.path.join(ROOT, "tools", "fleet"), str(HOSTS), "--seconds", "2", "--bin", sys.argv[1],
             "--out", out, "--", "-c", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        print(run.stdout)
        if run.returncode == 77:
            print("fleet_netns: SKIP: tools/fleet could not create network namespaces", file=sys.stderr)
            return 77
        if run.returncode != 0:
            print("fleet_netns: FAIL: tools/fleet exited %d" % run.returncode)
            return 1
        match = re.search(r"fleet greetings (\d+), server greeted (\d+)", run.stdout)
        if not match:
            failures.append("no 'fleet greetings N, server greeted N' line")
        elif match.group(1) != match.group(2) or int(match.group(1)) == 0:
            failures.append("fleet greetings %s != server greeted %s" % match.groups())
        for phase in ("connect", "first_byte", "greeting"):
            summed = collections.Counter()
            for shard in range(HOSTS):
                summed.update(bucket_counts(os.path.join(out, "shard%d" % shard, phase + ".hgrm")))
            merged = bucket_counts(os.path.join(out, "fleet-%s.hgrm" % phase))
            if not merged or merged != summed:
                failures.append("%s: the merged buckets are not the sum of the shards'" % phase)
        connections = 0
        for shard in range(HOSTS):
            with open(os.path.join(out, "shard%d.txt" % shard)) as f:
                found = re.search(r"closed loop: (\d+) connections", f.read())
            connections += int(found.group(1)) if found else 0
        if connections != 60:
            failures.append("the shards' -c add up to %d, not 60" % connections)
    for failure in failures:
        print("fleet_netns: FAIL: " + failure)
    if not failures:
        print("fleet_netns: PASS: %d hosts, counts and histograms merge exactly" % HOSTS)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
