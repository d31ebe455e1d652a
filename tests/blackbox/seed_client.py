#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/seed_client.py: Cloudflare's own client, unchanged, against r2mpu.

Takes ../shared/seed/mpuscript.py (or $R2MPU_SEED_DIR/mpuscript.py), replaces
only its `worker_endpoint` line with r2mpu behind real lighttpd, uploads files
of several sizes and names with it, and reads each back through ?action=get,
comparing SHA-256. Skips (and says so) when the seed is not there.
"""

import argparse
import contextlib
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

from lib import TOP, servers

SEED_DIR = os.environ.get("R2MPU_SEED_DIR", os.path.join(TOP, "..", "shared", "seed"))
MiB = 1024 * 1024

FILES = [("big.bin", 27 * MiB), ("three.bin", 3 * MiB), ("empty.bin", 0),
         ("my dir/ü file.bin", 12 * MiB + 5)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=("fs", "moto", "radosgw"), default="fs")
    ap.add_argument("--server", default="lighttpd",
                    choices=servers.MODES)
    args = ap.parse_args()
    seed = os.path.join(SEED_DIR, "mpuscript.py")
    if not os.path.exists(seed):
        print("seed: skipped: %s not found" % seed)
        print("seed: 0 passed, 0 failed, 1 skipped")
        return 0
    sandbox = tempfile.mkdtemp(prefix="r2mpu-seed-")
    work = os.path.join(sandbox, "work")
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store"), "R2MPU_PROCS": "8",
                "R2MPU_OPEN_ACCESS": "yes"}
    passed = failed = 0
    try:
        with contextlib.ExitStack() as stack:
            if args.store != "fs":
                try:
                    settings.update(stack.enter_context(servers.S3Server(args.store, sandbox)))
                except servers.S3Server.Unavailable as e:
                    print("seed+%s: skipped: %s" % (args.store, e))
                    print("seed+%s: 0 passed, 0 failed, 1 skipped" % args.store)
                    return 0
            log = os.path.join(sandbox, "server.log")
            client = stack.enter_context(servers.web_server(args.server, settings, log, sandbox))
            endpoint = "http://127.0.0.1:%d%s/" % (client.port, client.prefix)
            text = open(seed, encoding="utf-8").read()
            script, n = re.subn(r'(?m)^worker_endpoint = .*$',
                                'worker_endpoint = "%s"' % endpoint, text)
            assert n == 1, "the seed has no single worker_endpoint line"
            os.makedirs(os.path.join(work, "my dir"))
            script_path = os.path.join(sandbox, "mpuscript.py")
            with open(script_path, "w", encoding="utf-8") as f:
                f.write(script)
            for name, size in FILES:
                if args.store == "moto":
                    # moto checks signatures on the decoded path: no ü there.
                    name = name.replace("ü", "u")
                body = random.Random(size).randbytes(size)
                with open(os.path.join(work, name), "wb") as f:
                    f.write(body)
                p = subprocess.run([sys.executable, script_path, name], cwd=work,
                                   capture_output=True, text=True, timeout=300)
                r = client.request("GET", "/" + urllib.parse.quote(name) + "?action=get")
                ok = (p.returncode == 0 and "successfully completed" in p.stdout
                      and r.status == 200
                      and hashlib.sha256(r.body).hexdigest() == hashlib.sha256(body).hexdigest())
                print("%s seed client: %r (%d bytes)" % ("ok  " if ok else "FAIL", name, size))
                if not ok:
                    print("  client rc=%d stdout=%r stderr=%r\n  get: %r"
                          % (p.returncode, p.stdout, p.stderr[-2000:], r))
                    failed += 1
                else:
                    passed += 1
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    label = "seed" + ("" if args.server == "lighttpd" else "+" + args.server) + \
        ("" if args.store == "fs" else "+" + args.store)
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
