#!/usr/bin/env python3
"""tests/blackbox/run.py: run the black-box case list in one setting.

    run.py --mode cgi        the binary as plain CGI, no web server
    run.py --mode lighttpd   through real lighttpd (lighttpd-conf/), as FastCGI

Each run gets a fresh store in a temporary directory. After the cases, the
store must hold no temporary files: nothing half-written was left behind.
"""

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as casebook  # noqa: E402
from clients import Apache, CgiClient, Lighttpd, Logs, Nginx, S3Server, sanitizer_reports  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# `make asan` points the tests at a sanitizer build.
BIN = os.environ.get("R2MPU_TEST_BIN") or os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")


class Env:
    def __init__(self, root, cgi, store):
        self.root = root      # the fs store's directory; None for S3 stores
        self.cgi = cgi
        self.store = store    # "fs", "moto" or "radosgw"
        self.buffers_bodies = False   # the server reads whole bodies first (mod_fcgid)
        self.server = "none"          # cgi, lighttpd, apache-...


def leftovers(root):
    """Files that must not outlive the requests that made them."""
    found = [os.path.join("tmp", f) for f in os.listdir(os.path.join(root, "tmp"))]
    for uid in os.listdir(os.path.join(root, "uploads")):
        d = os.path.join(root, "uploads", uid)
        if os.path.isdir(d) and not os.path.exists(os.path.join(d, "meta")):
            found.append(os.path.join("uploads", uid) + " (no meta)")
    return found


def run_cases(client, env, only):
    passed = failed = skipped = 0
    for fn in casebook.CASES:
        if only and only not in fn.__name__:
            continue
        Logs.mark()
        try:
            fn(client, env)
        except casebook.Skip as e:
            skipped += 1
            print("skip %s [%s]: %s" % (fn.__name__, client.name, e))
            continue
        except Exception:
            failed += 1
            print("FAIL %s [%s]" % (fn.__name__, client.name))
            traceback.print_exc()
            Logs.dump()
            continue
        passed += 1
        print("ok   %s [%s]" % (fn.__name__, client.name))
    return passed, failed, skipped


def run_setting(mode, store, settings, sandbox, valgrind, only):
    """One mode against one store; returns (passed, failed, skipped)."""
    root = settings.get("R2MPU_FS_ROOT")
    env = Env(root if store == "fs" else None, mode == "cgi", store)
    env.server = mode
    label = mode if store == "fs" else "%s+%s" % (mode, store)
    log = os.path.join(sandbox, "server-%s.log" % mode)
    if mode == "cgi":
        wrapper = []
        if valgrind:
            wrapper = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                       "--errors-for-leak-kinds=definite,indirect",
                       "--show-leak-kinds=definite,indirect", "--track-fds=no"]
        # What a server passes for an HTTP/1.1 request to 127.0.0.1: open
        # access refuses a request without a loopback Host.
        client = CgiClient(BIN, dict(settings, HTTP_HOST="127.0.0.1"), wrapper, logfile=log)
        client.name = label + ("+valgrind" if valgrind else "")
        passed, failed, skipped = run_cases(client, env, only)
    elif mode == "lighttpd":
        with Lighttpd(TOP, dict(settings, R2MPU_PROCS="8"), log) as client:
            client.name = label
            passed, failed, skipped = run_cases(client, env, only)
    elif mode == "nginx":
        with Nginx(TOP, settings, log, sandbox) as client:
            client.name = label
            passed, failed, skipped = run_cases(client, env, only)
    else:
        env.buffers_bodies = mode == "apache-fcgid"
        with Apache(TOP, mode[len("apache-"):], settings, log, sandbox) as client:
            client.name = label
            passed, failed, skipped = run_cases(client, env, only)
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
                    help="cgi mode: run every request under valgrind memcheck; any error "
                         "or leak fails that request")
    args = ap.parse_args()
    modes = args.mode.split(",")
    known = {"cgi", "lighttpd", "apache-fcgid", "apache-cgi", "apache-proxy-fcgi", "nginx"}
    if not set(modes) <= known:
        ap.error("--mode takes some of " + ", ".join(sorted(known)))

    sandbox = tempfile.mkdtemp(prefix="r2mpu-blackbox-")
    failed_any = False
    try:
        with contextlib.ExitStack() as stack:
            s3 = {}
            if args.store != "fs":
                try:
                    s3 = stack.enter_context(S3Server(TOP, args.store, sandbox))
                except S3Server.Unavailable as e:
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
