#!/usr/bin/env python3
"""tests/blackbox/run.py: run the black-box case list in one setting.

    run.py --mode cgi        the binary as plain CGI, no web server
    run.py --mode lighttpd   through real lighttpd (lighttpd-conf/), as FastCGI

Each run gets a fresh store in a temporary directory. After the cases, the
store must hold no temporary files: nothing half-written was left behind.
"""

import argparse
import os
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as casebook  # noqa: E402
from clients import CgiClient, Lighttpd, sanitizer_reports  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# `make asan` points the tests at a sanitizer build.
BIN = os.environ.get("R2MPU_TEST_BIN") or os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")


class Env:
    def __init__(self, root, cgi):
        self.root = root
        self.cgi = cgi


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
            continue
        passed += 1
        print("ok   %s [%s]" % (fn.__name__, client.name))
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("cgi", "lighttpd"), required=True)
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--valgrind", action="store_true",
                    help="cgi mode: run every request under valgrind memcheck; any error "
                         "or leak fails that request")
    args = ap.parse_args()

    sandbox = tempfile.mkdtemp(prefix="r2mpu-blackbox-")
    root = os.path.join(sandbox, "store")
    settings = {"R2MPU_FS_ROOT": root, "R2MPU_MAX_PART_SIZE": "16M"}
    env = Env(root, args.mode == "cgi")
    log = os.path.join(sandbox, "server.log")
    try:
        if args.mode == "cgi":
            wrapper = []
            if args.valgrind:
                wrapper = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                           "--errors-for-leak-kinds=definite,indirect",
                           "--show-leak-kinds=definite,indirect", "--track-fds=no"]
            client = CgiClient(BIN, settings, wrapper)
            client.name = "cgi+valgrind" if args.valgrind else "cgi"
            passed, failed, skipped = run_cases(client, env, args.only)
        else:
            settings["R2MPU_PROCS"] = "8"
            with Lighttpd(TOP, settings, log) as client:
                passed, failed, skipped = run_cases(client, env, args.only)
        reports = sanitizer_reports(log)   # written as r2mpu processes exit
        if reports:
            failed += 1
            print("FAIL sanitizer reports in the server log [%s]:\n%s" % (args.mode, "\n".join(reports)))
        left = leftovers(root)
        if left:
            failed += 1
            print("FAIL leftovers [%s]: %s" % (args.mode, left))
        if failed and os.path.exists(log):
            print("---- server log ----")
            print(open(log, errors="replace").read()[-5000:])
        print("%s: %d passed, %d failed, %d skipped" % (args.mode, passed, failed, skipped))
        return 1 if failed else 0
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
