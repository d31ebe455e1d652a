#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/metrics_cost.py: what counting metrics costs a request, side by side.

    metrics_cost.py [--blocks 6] [--per-block 200]

Two lighttpd servers from the shipped config, each with one r2mpu process on
its own file store, the same but for R2MPU_METRICS (1: the shared counters,
each store call timed; 0: none). Blocks of --per-block sequential mpu-create
requests over one keep-alive connection (curl's time_total each), then the
uploads aborted, alternating between the two servers; the same for a GET of a
missing key (a request that writes nothing). Prints the p50 and p90 of each,
with the store's fsync on (the default) and off (so that the gateway's own
work is what is measured).
"""

import argparse
import os
import shutil
import sys
import tempfile

from bench import curl_batch, expect, percentile
from lib.servers import Lighttpd


def serve(work, name, metrics, fsync):
    settings = {"R2MPU_FS_ROOT": os.path.join(work, "store-" + name), "R2MPU_OPEN_ACCESS": "yes",
                "R2MPU_CONFIG": "", "R2MPU_PROCS": "1", "R2MPU_METRICS": metrics,
                "R2MPU_METRICS_FILE": os.path.join(work, name + ".metrics"),
                "R2MPU_FS_FSYNC": fsync, "R2MPU_MAX_PENDING_UPLOADS": "0"}
    return Lighttpd(settings, os.path.join(work, name + ".log"))


def block(port, n, work):
    base = "http://127.0.0.1:%d/bench/key" % port
    create = expect(curl_batch(["-X", "POST", "-H", "Content-Length: 0"],
                               [(base + "?action=mpu-create", None)] * n, work), (200,), "create")
    ids = [b.split('"uploadId":"')[1].split('"')[0] for _, _, b in create]
    expect(curl_batch(["-X", "DELETE"], [(base + "?action=mpu-abort&uploadId=" + u, None)
                                         for u in ids], work), (204,), "abort")
    miss = expect(curl_batch([], [("http://127.0.0.1:%d/bench/none?action=get" % port, None)] * n,
                             work), (404,), "get")
    return [t for _, t, _ in create], [t for _, t, _ in miss]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--per-block", type=int, default=200)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="r2mpu-bench-metrics-")
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    print("%-6s %-8s %-10s %9s %9s %9s %9s" % ("fsync", "metrics", "request", "p50 ms",
                                               "p90 ms", "p50 ratio", "samples"))
    try:
        for fsync in ("1", "0"):
            on, off = serve(work, "on" + fsync, "1", fsync), serve(work, "off" + fsync, "0", fsync)
            with on, off:
                samples = {"1": ([], []), "0": ([], [])}
                for b in range(args.blocks):
                    for name, srv in ((("1", on), ("0", off)) if b % 2 == 0 else
                                      (("0", off), ("1", on))):
                        c, g = block(srv.port, args.per_block, work)
                        samples[name][0].extend(c)
                        samples[name][1].extend(g)
            for i, what in enumerate(("mpu-create", "get 404")):
                base = percentile(samples["0"][i], 50)
                for name in ("0", "1"):
                    s = samples[name][i]
                    print("%-6s %-8s %-10s %9.3f %9.3f %9.3f %9d" % (
                        fsync, "on" if name == "1" else "off", what, percentile(s, 50) * 1000,
                        percentile(s, 90) * 1000, percentile(s, 50) / base, len(s)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
