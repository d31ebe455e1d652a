#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/client_bench.py: r2mpu-client against the seed's mpuscript.py, side by side.

One gateway as `make run` starts it (tests/lighttpd/serve.sh: lighttpd, the fs store),
one file of random bytes, the two clients taking turns, each turn on an empty store
with the disk synced first. For each client: throughput (file bytes over wall time),
the client's CPU seconds (user + system, from wait4) and its peak RSS. Medians of
--runs turns; the CSV goes to build/bench/client.csv.

    client_bench.py [--size-mib 256] [--runs 3]
"""

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from lib import TOP, servers

CLIENT = os.path.join(TOP, "build", "r2mpu-client")
SEED_DIR = os.environ.get("R2MPU_SEED_DIR", os.path.join(TOP, "..", "shared", "seed"))
MiB = 1024 * 1024


def measured(argv, cwd):
    """Runs argv; (wall seconds, CPU seconds, peak RSS in MiB). Fails on a non-zero exit.

    Through GNU time, not this process's own wait4: Linux counts in a child's peak RSS
    the memory of the process it was forked from (this Python, ~20 MiB) up to its exec.
    time is small, and forks the client itself."""
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "@@time %U %S %M"] + argv, cwd=cwd,
                       capture_output=True)
    wall = time.monotonic() - start
    last = p.stderr.decode(errors="replace").strip().splitlines()[-1:]
    if p.returncode != 0 or not last or not last[0].startswith("@@time "):
        raise SystemExit("client_bench: %s failed (%d): %s" % (argv[:2], p.returncode,
                                                              (p.stdout + p.stderr)[-800:]))
    user, system, rss_kib = last[0].split()[1:]
    return wall, float(user) + float(system), int(rss_kib) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    args = ap.parse_args()
    seed = os.path.join(SEED_DIR, "mpuscript.py")
    if not os.path.exists(seed):
        print("client_bench: skipped: %s not found" % seed)
        return 0
    work = tempfile.mkdtemp(prefix="r2mpu-client-bench-")
    os.chmod(work, 0o755)
    settings = {"R2MPU_FS_ROOT": os.path.join(work, "store"), "R2MPU_OPEN_ACCESS": "yes"}
    name = "bench.bin"
    with open(os.path.join(work, name), "wb") as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(MiB))
    size = args.size_mib * MiB
    results = {"seed mpuscript.py": [], "r2mpu-client": []}
    try:
        with servers.Lighttpd(settings, os.path.join(work, "server.log")) as gw:
            endpoint = "http://127.0.0.1:%d/" % gw.port
            script = re.sub(r'(?m)^worker_endpoint = .*$', 'worker_endpoint = "%s"' % endpoint,
                            open(seed, encoding="utf-8").read())
            with open(os.path.join(work, "mpuscript.py"), "w") as f:
                f.write(script)
            argv = {"seed mpuscript.py": [sys.executable, os.path.join(work, "mpuscript.py"), name],
                    "r2mpu-client": [CLIENT, "upload", "--quiet", name, endpoint + name]}
            for run in range(args.runs):
                for who in results:
                    gw.request("DELETE", "/%s?action=delete" % name)
                    subprocess.run(["sync"], check=True)
                    results[who].append(measured(argv[who], work))
                    r = gw.request("HEAD", "/%s?action=get" % name)
                    assert r.status == 200 and int(r.header("content-length")) == size, r
    finally:
        shutil.rmtree(work, ignore_errors=True)

    os.makedirs(args.out, exist_ok=True)
    rows = []
    print("client upload of %d MiB through lighttpd + r2mpu (fs store), median of %d runs"
          % (args.size_mib, args.runs))
    print("%-20s %10s %12s %12s" % ("client", "MB/s", "CPU s", "peak RSS MiB"))
    med = {}
    for who, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = statistics.median(r[2] for r in runs)
        med[who] = (size / wall / 1e6, cpu, rss)
        rows.append([who, "%.1f" % med[who][0], "%.2f" % cpu, "%.1f" % rss])
        print("%-20s %10.1f %12.2f %12.1f" % (who, med[who][0], cpu, rss))
    ours, theirs = med["r2mpu-client"], med["seed mpuscript.py"]
    print("r2mpu-client / seed: throughput %.2f (goal >= 1), CPU %.2f (goal <= 1), "
          "RSS %.3f (goal <= 0.1)" % (ours[0] / theirs[0], ours[1] / theirs[1],
                                      ours[2] / theirs[2]))
    with open(os.path.join(args.out, "client.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["client", "MB/s", "cpu_s", "peak_rss_mib"])
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
