#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/run.py: run the black-box case list in one setting.

    run.py --mode cgi        the binary as plain CGI, no web server
    run.py --mode lighttpd   through real lighttpd (lighttpd-conf/), as FastCGI
    run.py --mode nginx,apache-fcgid,...   through the other shipped configs

Each run gets a fresh store in a temporary directory. After the cases, the
store must hold no temporary files: nothing half-written was left behind.
"""

import argparse
import contextlib
import os
import shutil
import sys
import tempfile

from blackbox import cases as casebook
from lib import BIN, memcheck, servers
from lib.checks import leftovers, run_cases, sanitizer_reports
from lib.clients import CgiClient


class Env:
    def __init__(self, root, cgi, store):
        self.root = root      # the fs store's directory; None for S3 stores
        self.cgi = cgi
        self.store = store    # "fs", "moto" or "radosgw"
        self.buffers_bodies = False   # the server reads whole bodies first (mod_fcgid)
        self.server = "none"          # cgi, lighttpd, apache-...


def run_setting(mode, store, settings, sandbox, valgrind, only):
    """One mode against one store; returns (passed, failed, skipped)."""
    root = settings.get("R2MPU_FS_ROOT")
    env = Env(root if store == "fs" else None, mode == "cgi", store)
    env.server = mode
    label = mode if store == "fs" else "%s+%s" % (mode, store)
    log = os.path.join(sandbox, "server-%s.log" % mode)
    todo = [fn for fn in casebook.CASES if not only or only in fn.__name__]
    if mode == "cgi":
        wrapper = memcheck.CGI_WRAPPER if valgrind else []
        # What a server passes for an HTTP/1.1 request to 127.0.0.1: open
        # access refuses a request without a loopback Host.
        client = CgiClient(BIN, dict(settings, HTTP_HOST="127.0.0.1"), wrapper, logfile=log)
        client.name = label + ("+valgrind" if valgrind else "")
        passed, failed, skipped = run_cases(todo, client, env, client.name)
    else:
        env.buffers_bodies = mode == "apache-fcgid"
        # 8 r2mpu processes behind lighttpd (its config's default is 4); the
        # others start 8 unless told (mod_fcgid and mod_cgid: their own limits).
        procs = {"R2MPU_PROCS": "8"} if mode == "lighttpd" else {}
        vglogs = None
        if valgrind:
            vglogs = os.path.join(sandbox, "valgrind-" + mode)
            procs.update(memcheck.fcgi_settings(vglogs))
            label += "+valgrind"
        with servers.web_server(mode, dict(settings, **procs), log, sandbox) as client:
            client.name = label
            passed, failed, skipped = run_cases(todo, client, env, label)
        if vglogs is not None:
            reports = memcheck.reports(vglogs)
            if reports:
                failed += 1
                print("FAIL valgrind [%s]:\n%s" % (label, reports))
    reports = sanitizer_reports(log)   # written as r2mpu processes exit
    if reports:
        failed += 1
        print("FAIL sanitizer reports in the server log [%s]:\n%s" % (label, "\n".join(reports)))
    left = leftovers(root) if env.root else []
    if left:
        failed += 1
        print("FAIL leftovers [%s]: %s" % (label, left))
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="cgi",
                    help="comma-separated settings: cgi (no server), lighttpd (real lighttpd)")
    ap.add_argument("--store", choices=("fs", "moto", "radosgw"), default="fs",
                    help="fs: a fresh directory; moto, radosgw: started by tests/s3/ "
                         "(once for all modes)")
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--valgrind", action="store_true",
                    help="run r2mpu under valgrind memcheck: in cgi mode every request, "
                         "any error or leak failing it; behind a server every FastCGI "
                         "process, whose report when it exits fails the run")
    args = ap.parse_args()
    modes = args.mode.split(",")
    known = {"cgi"} | set(servers.MODES)
    if not set(modes) <= known:
        ap.error("--mode takes some of " + ", ".join(sorted(known)))

    sandbox = tempfile.mkdtemp(prefix="r2mpu-blackbox-")
    failed_any = False
    try:
        with contextlib.ExitStack() as stack:
            s3 = {}
            if args.store != "fs":
                try:
                    s3 = stack.enter_context(servers.S3Server(args.store, sandbox))
                except servers.S3Server.Unavailable as e:
                    print("%s: skipped: %s" % (args.store, e))
                    print("%s: 0 passed, 0 failed, 1 skipped" % args.store)
                    return 0
            for mode in modes:
                # A fresh fs store per setting, so leftovers are each setting's own.
                root = os.path.join(sandbox, "store-" + mode)
                settings = {"R2MPU_FS_ROOT": root, "R2MPU_MAX_PART_SIZE": "16M",
                            "R2MPU_OPEN_ACCESS": "yes"}   # access.py tests the rules
                settings.update(s3)
                _, failed, _ = run_setting(mode, args.store, settings, sandbox,
                                           args.valgrind, args.only)
                failed_any = failed_any or failed > 0
        return 1 if failed_any else 0
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
