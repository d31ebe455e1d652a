#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/server_bench.py: a 1 GiB upload to the file store through each web server.

    server_bench.py [--runs 3] [--servers lighttpd,apache-cgi,...]

16 parts of 64 MiB, 4 at a time, with curl, through each shipped config in
turn (alternating, so every server sees the same machine state). Prints the
median MB/s per server and the peak RSS of the web server's processes
(VmHWM, summed over them) and of the r2mpu processes (largest one).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from bench import Gateway, curl   # its neighbour here: the uploads, with curl
from lib import procs, servers

MiB = 1024 * 1024


def hwm(pattern, total):
    """Peak RSS (VmHWM, MiB) of the processes whose command line has pattern:
    summed over them, or the largest."""
    values = []
    for pid in procs.matching(pattern):
        try:
            values.append(procs.status_kib(pid, "VmHWM"))
        except OSError:
            pass
    return (sum(values) if total else max(values, default=0)) // 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--servers", default=",".join(servers.MODES))
    args = ap.parse_args()
    modes = args.servers.split(",")
    work = tempfile.mkdtemp(prefix="r2mpu-server-bench-")
    os.chmod(work, 0o755)
    try:
        parts = []
        for i in range(16):
            p = os.path.join(work, "part%02d" % i)
            with open(p, "wb") as f:
                f.write(os.urandom(64 * MiB))
            os.chmod(p, 0o644)
            parts.append(p)
        times = {s: [] for s in modes}
        rss = {}
        for run in range(args.runs):
            for server in modes:
                store = os.path.join(work, "store-%s-%d" % (server, run))
                settings = {"R2MPU_FS_ROOT": store, "R2MPU_MAX_PART_SIZE": "64M"}
                if server == "lighttpd":
                    settings["R2MPU_PROCS"] = "4"    # the others: 8, or their own limits
                state = os.path.join(work, "%s-%d" % (server, run))
                ctx = servers.web_server(server, settings, os.path.join(state, server + ".log"),
                                         state)
                os.makedirs(state, exist_ok=True)
                with ctx as client:
                    gw = Gateway(client.port)
                    gw.base = "http://127.0.0.1:%d%s/" % (client.port, client.prefix)
                    t = time.monotonic()
                    gw.upload("bench/one.bin", parts, 4)
                    times[server].append(time.monotonic() - t)
                    pattern = {"lighttpd": "lighttpd -D", "nginx": "nginx -c"}.get(server, "apache2 -f")
                    rss[server] = (hwm(pattern, True), hwm("r2mpu.fcgi", False))
                    curl("-X", "DELETE", gw.base + "bench/one.bin?action=delete")
                shutil.rmtree(store, ignore_errors=True)
        print("1024 MiB to the file store in 16 parts of 64 MiB, 4 at a time; %d runs, alternating"
              % args.runs)
        print("  %-18s %9s %12s %14s" % ("server", "MB/s", "server RSS", "r2mpu RSS"))
        for s in modes:
            med = statistics.median(times[s])
            print("  %-18s %9.1f %9d MiB %11d MiB   runs: %s" % (
                s, 1024 * MiB / med / 1e6, rss[s][0], rss[s][1],
                ", ".join("%.2f s" % t for t in times[s])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
