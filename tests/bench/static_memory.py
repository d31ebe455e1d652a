#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/static_memory.py: the static and the dynamic build side by side, as CGI.

    static_memory.py [--runs 3] [--size-mib 1024]

For each build (cgi-bin/r2mpu.fcgi and cgi-bin/r2mpu-static.fcgi, `make static`),
alternating, in one run: one part of --size-mib streamed into the file store
through plain CGI (what a shared host runs), its pipe fed from a fixed 1 MiB
buffer. Read from /proc while it streams: the peak RSS (VmHWM) and its anonymous
part (RssAnon); and the RSS of an idle FastCGI process of the same build,
waiting on its socket. Prints medians; the goal for the static build is a peak
of at most 8 MiB RSS.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from lib import TOP, procs, scratch_metrics_file
from lib.clients import CgiClient

MiB = 1024 * 1024
BUILDS = [("dynamic", os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")),
          ("static", os.path.join(TOP, "cgi-bin", "r2mpu-static.fcgi"))]
STATIC_GOAL_MIB = 8


class Sampler(threading.Thread):
    """The largest VmHWM and RssAnon of a process, read every 20 ms until it exits."""

    def __init__(self, pid):
        super().__init__()
        self.pid = pid
        self.hwm = self.anon = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                self.hwm = max(self.hwm, procs.status_kib(self.pid, "VmHWM"))
                self.anon = max(self.anon, procs.status_kib(self.pid, "RssAnon"))
            except (OSError, ValueError, TypeError):
                pass
            time.sleep(0.02)


def one_part(binary, settings, size):
    """One part of `size` bytes as CGI; (seconds, VmHWM KiB, RssAnon KiB)."""
    c = CgiClient(binary, dict(settings, HTTP_HOST="127.0.0.1"))
    r = c.request("POST", "/bench/one?action=mpu-create", body=b"")
    uid = r.json()["uploadId"]
    target = "/bench/one?action=mpu-uploadpart&uploadId=%s&partNumber=1" % uid
    chunk = os.urandom(MiB)
    t0 = time.monotonic()
    p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         env=c.environ("PUT", target, content_length=size))
    s = Sampler(p.pid)
    s.start()
    left = size
    while left > 0:
        n = min(left, MiB)
        p.stdin.write(chunk[:n])
        left -= n
    p.stdin.close()
    out = p.stdout.read()
    # The last sample before it exits: its status stays readable until it is reaped.
    time.sleep(0.05)
    s.done.set()
    s.join()
    p.wait()
    elapsed = time.monotonic() - t0
    answer = CgiClient.parse(out)
    if answer.status != 200:
        raise RuntimeError("the part failed: %r" % answer)
    c.request("DELETE", "/bench/one?action=mpu-abort&uploadId=%s" % uid)
    return elapsed, s.hwm, s.anon


def idle_rss(binary, settings):
    """VmRSS (KiB) of a FastCGI process of this build waiting on its socket."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    d = tempfile.mkdtemp(prefix="r2mpu-idle-")
    try:
        listener.bind(os.path.join(d, "sock"))
        listener.listen(1)
        p = subprocess.Popen([binary], stdin=listener.fileno(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=dict(settings))
        time.sleep(0.5)
        rss = procs.status_kib(p.pid, "VmRSS")
        p.kill()
        p.wait()
        return rss
    finally:
        listener.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=1024)
    args = ap.parse_args()
    for name, binary in BUILDS:
        if not os.path.exists(binary):
            print("static_memory.py: %s is missing (make; make static)" % binary)
            return 1
    sandbox = tempfile.mkdtemp(prefix="r2mpu-static-mem-")
    try:
        settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store"), "R2MPU_OPEN_ACCESS": "yes",
                    "R2MPU_METRICS_FILE": scratch_metrics_file(sandbox),
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        size = args.size_mib * MiB
        results = {name: [] for name, _ in BUILDS}
        for run in range(args.runs):
            for name, binary in BUILDS:   # alternating: each sees the same machine
                results[name].append(one_part(binary, settings, size))
        print("\nOne %d MiB part as CGI into the file store, %d runs each, alternating; medians"
              % (args.size_mib, args.runs))
        print("%-8s %10s %9s %14s %14s %9s" % ("build", "size", "idle RSS", "peak RSS", "peak anon",
                                              "MB/s"))
        goal_met = True
        for name, binary in BUILDS:
            rows = results[name]
            secs = statistics.median(r[0] for r in rows)
            hwm = statistics.median(r[1] for r in rows) / 1024
            anon = statistics.median(r[2] for r in rows) / 1024
            idle = idle_rss(binary, settings) / 1024
            print("%-8s %8.1fMB %7.1fMiB %12.1fMiB %12.1fMiB %9.0f" % (
                name, os.path.getsize(binary) / 1e6, idle, hwm, anon, size / secs / 1e6))
            if name == "static":
                goal_met = 0 < hwm <= STATIC_GOAL_MIB   # 0: never sampled, nothing measured
        print("static build's peak RSS <= %d MiB: %s" % (STATIC_GOAL_MIB,
                                                         "met" if goal_met else "NOT met"))
        return 0 if goal_met else 1
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
