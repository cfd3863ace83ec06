#!/usr/bin/env python3
"""tests/plot_svg.py -- `loadgen plot` on a real run: the SVG parses as XML and holds every
series (greetings/s, errors/s, in flight, p50/p99/p99.9 of every phase, the spectrum of every
phase), with titles, axis labels and the warm-up marked; the HTML page holds the same picture and
fetches nothing; bad usage exits 2 and a truncated result exits 1 naming the file.
Usage: tests/plot_svg.py BUILD_DIR      Exit 0 pass, 1 fail.
"""
import html.parser
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def run_load(build, out_json):
    """A greeter-server on port 0 and 2 s of loadgen after a 1 s warm-up, JSON kept."""
    server = subprocess.Popen([os.path.join(build, "server", "greeter-server"), "-H", "127.0.0.1",
                               "-p", "0", "--quiet"], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        check(line.startswith("listening on "), "the server did not start: %r" % line)
        address = line.split()[-1]
        subprocess.run([os.path.join(build, "loadgen", "loadgen"), "-q", "-c", "20", "-d", "2s",
                        "--warmup", "1s", "--json", out_json, address],
                       stdout=subprocess.DEVNULL, check=True, timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)


class PageScan(html.parser.HTMLParser):
    """Counts the svg elements and anything that would fetch from elsewhere."""

    def __init__(self):
        super().__init__()
        self.svgs = 0
        self.fetches = []

    def handle_starttag(self, tag, attrs):
        self.svgs += tag == "svg"
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") or tag in ("script", "link", "iframe", "img"):
                self.fetches.append("%s %s=%s" % (tag, name, value))


def check_svg(path, result):
    root = ET.parse(path).getroot()
    check(root.tag == SVG + "svg", "the root element is not <svg>")
    series = {}
    for line in root.iter(SVG + "polyline"):
        series[line.get("data-series")] = series.get(line.get("data-series"), 0) + 1
    texts = [t.text or "" for t in root.iter(SVG + "text")]
    phases = list(result["latency_us"].keys())
    for name in ["greetings/s", "errors/s", "in flight (interval end)"]:
        check(name in series, "no series %r" % name)
    for name in ["p50", "p99", "p99.9"]:
        # One line per phase (a phase with no sample in any interval has no line).
        check(series.get(name, 0) >= len(phases), "series %s drawn %d times for %d phases" %
              (name, series.get(name, 0), len(phases)))
    for phase in phases:
        check(phase in series, "the spectrum lacks phase %s" % phase)
        check("Latency: " + phase in texts, "no latency chart titled for %s" % phase)
    for text in ["Throughput", "Connections in flight", "per second", "percentile (log scale of 1/(1-p))",
                 "time since the warm-up ended (s)", "warm-up (not measured)"]:
        check(text in texts, "no text %r" % text)
    check(any(result["target"] in t for t in texts), "the heading does not name the target")
    check(any("99.9%" == t for t in texts), "the spectrum's axis has no 99.9% tick")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = sys.argv[1]
    loadgen = os.path.join(build, "loadgen", "loadgen")
    with tempfile.TemporaryDirectory() as work:
        result_path = os.path.join(work, "run.json")
        run_load(build, result_path)
        with open(result_path) as f:
            result = json.load(f)
        svg, page = os.path.join(work, "run.svg"), os.path.join(work, "run.html")
        for out in (svg, page):
            done = subprocess.run([loadgen, "plot", result_path, "-o", out], stderr=subprocess.PIPE, text=True)
            check(done.returncode == 0, "plot -o %s exited %d: %s" % (out, done.returncode, done.stderr))
        if not failures:
            check_svg(svg, result)
            scan = PageScan()
            with open(page) as f:
                scan.feed(f.read())
            check(scan.svgs >= 1, "the HTML page holds no <svg>")
            check(not scan.fetches, "the HTML page fetches: %s" % scan.fetches[:3])
        truncated = os.path.join(work, "cut.json")
        with open(result_path) as f, open(truncated, "w") as g:
            g.write(f.read()[:500])
        done = subprocess.run([loadgen, "plot", truncated, "-o", svg], stderr=subprocess.PIPE, text=True)
        check(done.returncode == 1 and truncated in done.stderr, "a truncated result: exit %d, %r" %
              (done.returncode, done.stderr))
        for args in (["plot"], ["plot", result_path], ["plot", result_path, "-o", "x.png"]):
            done = subprocess.run([loadgen] + args, stderr=subprocess.PIPE, text=True)
            check(done.returncode == 2 and "usage" in done.stderr, "%s: exit %d" % (args, done.returncode))
    for failure in failures:
        print("plot_svg: FAIL: " + failure)
    if not failures:
        print("plot_svg: PASS: the SVG and HTML hold every series")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
