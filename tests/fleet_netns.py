#!/usr/bin/env python3
"""tests/fleet_netns.py -- a 3-host fleet in network namespaces (tools/fleet), checked end to end.

Runs tools/fleet 3 for 2 s of load against the build in BIN_DIR and checks what a user relies on:
the merged greeting count equals the server's `greeted`; every merged histogram (whole run and
each interval) equals the bucket-by-bucket sum of the shards', decoded here independently of
loadgen's C code; the intervals line up (the shards started within a few ms of each other and
each fleet interval sums the shards' same interval); the shares of -c add up to the whole;
the shards' --fail-if conditions are judged on the fleet.
Exit 0 pass, 1 fail, 77 skip (no network namespaces here: the message says why).
Usage: tests/fleet_netns.py BIN_DIR
"""
import base64
import collections
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

HOSTS = 3
CONNECTIONS = 60
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def decode_hist(text):
    """HdrHistogram's compressed V2 encoding (base64) to {bucket index: count}."""
    raw = base64.b64decode(text)
    cookie, length = struct.unpack(">ii", raw[:8])
    assert cookie == 0x1C849314, "compressed cookie %x" % cookie
    body = zlib.decompress(raw[8:8 + length])
    cookie, payload_len = struct.unpack(">ii", body[:8])
    assert cookie == 0x1C849313, "V2 cookie %x" % cookie
    data, pos, index, counts = body[40:40 + payload_len], 0, 0, collections.Counter()
    while pos < len(data):
        shift = value = 0
        while True:  # LEB128, at most 9 bytes
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift if shift < 56 else byte << 56
            if byte < 0x80 or shift >= 56:
                break
            shift += 7
        value = (value >> 1) ^ -(value & 1)  # ZigZag
        if value < 0:
            index -= value  # a run of zero buckets
        else:
            if value:
                counts[index] = value
            index += 1
    return counts


def phase_buckets(latency):
    return {phase: decode_hist(obj["hist"]) for phase, obj in latency.items()}


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("fleet_netns: SKIP: network namespaces need root", file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [os.path.join(ROOT, "tools", "fleet"), str(HOSTS), "--seconds", "2", "--bin", sys.argv[1],
             "--out", out, "--", "-c", str(CONNECTIONS), "--fail-if", "rate>1", "--fail-if", "p99<100s"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        print(run.stdout)
        if run.returncode == 77:
            print("fleet_netns: SKIP: tools/fleet could not create network namespaces", file=sys.stderr)
            return 77
        if run.returncode != 0:
            print("fleet_netns: FAIL: tools/fleet exited %d" % run.returncode)
            return 1
        shards = []
        for i in range(HOSTS):
            with open(os.path.join(out, "shard%d.json" % i)) as f:
                shards.append(json.load(f))
        with open(os.path.join(out, "fleet.json")) as f:
            fleet = json.load(f)
    match = re.search(r"server greeted (\d+)", run.stdout)
    check(match and int(match.group(1)) == fleet["greetings"] > 0,
          "fleet greetings %d, server greeted %s" % (fleet["greetings"], match and match.group(1)))
    check(sum(s["connections"] for s in shards) == CONNECTIONS, "the shares of -c do not add up")
    check(sorted(s["shard"]["index"] for s in shards) == list(range(HOSTS)), "shard indexes")
    verdicts = [(v["condition"], v["pass"]) for v in fleet.get("fail_if", [])]
    check(verdicts == [("rate>1", True), ("p99<100s", True)], "the fleet's --fail-if verdicts: %s" % verdicts)
    for key in ("starts", "greetings", "unfinished"):
        check(fleet[key] == sum(s[key] for s in shards), "fleet %s is not the shards' sum" % key)
    summed = collections.defaultdict(collections.Counter)
    for s in shards:
        for phase, counts in phase_buckets(s["latency_us"]).items():
            summed[phase].update(counts)
    check(phase_buckets(fleet["latency_us"]) == summed, "whole-run buckets are not the shards' sum")
    # Intervals: one --start-at, so the shards' interval 0 start within a few ms of each other
    # and fleet interval k is the sum of every shard's interval k.
    starts = [s["start_unix_ns"] for s in shards]
    check(max(starts) - min(starts) < 50e6, "the shards started %.1f ms apart" % ((max(starts) - min(starts)) / 1e6))
    check(len(fleet["intervals"]) == max(len(s["intervals"]) for s in shards) >= 2, "interval count")
    for k, iv in enumerate(fleet["intervals"]):
        parts = [s["intervals"][k] for s in shards if k < len(s["intervals"])]
        check(iv["greetings"] == sum(p["greetings"] for p in parts), "interval %d greetings" % k)
        want = collections.defaultdict(collections.Counter)
        for p in parts:
            for phase, counts in phase_buckets(p["latency_us"]).items():
                want[phase].update(counts)
        check(phase_buckets(iv["latency_us"]) == want, "interval %d buckets are not the shards' sum" % k)
    for failure in failures:
        print("fleet_netns: FAIL: " + failure)
    if not failures:
        print("fleet_netns: PASS: %d hosts; counts, histograms and intervals merge exactly" % HOSTS)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
