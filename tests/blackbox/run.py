#!/usr/bin/env python3
"""tests/blackbox/run.py: run the black-box case list in one setting.

    run.py --mode cgi        the binary as plain CGI, no web server
    run.py --mode lighttpd   through real lighttpd (lighttpd-conf/), as FastCGI

Each run gets a fresh store in a temporary directory. After the cases, the
store must hold no temporary files: nothing half-written was left behind.
"""

import argparse
import os
import contextlib
import shutil
import subprocess
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
    def __init__(self, root, cgi, store):
        self.root = root      # the fs store's directory; None for S3 stores
        self.cgi = cgi
        self.store = store    # "fs", "moto" or "radosgw"


class S3Server:
    """tests/s3/<name>.sh: a real S3 server on loopback that checks signatures."""

    def __init__(self, name, workdir):
        self.script = os.path.join(TOP, "tests", "s3", name + ".sh")
        self.dir = os.path.join(workdir, name)

    def __enter__(self):
        from clients import free_port
        os.makedirs(self.dir)
        subprocess.run([self.script, "start", self.dir, str(free_port())], check=True,
                       stdout=subprocess.DEVNULL)
        settings = {}
        for line in open(os.path.join(self.dir, "env")):
            name, _, value = line.strip().partition("=")
            if name:
                settings[name] = value
        return settings

    def __exit__(self, *exc):
        subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL)


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
    ap.add_argument("--store", choices=("fs", "moto", "radosgw"), default="fs",
                    help="fs: a fresh directory; moto, radosgw: started by tests/s3/")
    ap.add_argument("--only", help="run the cases whose name contains this")
    ap.add_argument("--valgrind", action="store_true",
                    help="cgi mode: run every request under valgrind memcheck; any error "
                         "or leak fails that request")
    args = ap.parse_args()

    sandbox = tempfile.mkdtemp(prefix="r2mpu-blackbox-")
    root = os.path.join(sandbox, "store")
    settings = {"R2MPU_FS_ROOT": root, "R2MPU_MAX_PART_SIZE": "16M"}
    env = Env(root if args.store == "fs" else None, args.mode == "cgi", args.store)
    label = args.mode if args.store == "fs" else "%s+%s" % (args.mode, args.store)
    log = os.path.join(sandbox, "server.log")
    try:
        with contextlib.ExitStack() as stack:
            if args.store != "fs":
                settings.update(stack.enter_context(S3Server(args.store, sandbox)))
            if args.mode == "cgi":
                wrapper = []
                if args.valgrind:
                    wrapper = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                               "--errors-for-leak-kinds=definite,indirect",
                               "--show-leak-kinds=definite,indirect", "--track-fds=no"]
                client = CgiClient(BIN, settings, wrapper)
                client.name = label + ("+valgrind" if args.valgrind else "")
                passed, failed, skipped = run_cases(client, env, args.only)
            else:
                settings["R2MPU_PROCS"] = "8"
                with Lighttpd(TOP, settings, log) as client:
                    client.name = label
                    passed, failed, skipped = run_cases(client, env, args.only)
        reports = sanitizer_reports(log)   # written as r2mpu processes exit
        if reports:
            failed += 1
            print("FAIL sanitizer reports in the server log [%s]:\n%s" % (label, "\n".join(reports)))
        left = leftovers(root) if env.root else []
        if left:
            failed += 1
            print("FAIL leftovers [%s]: %s" % (label, left))
        if failed and os.path.exists(log):
            print("---- server log ----")
            print(open(log, errors="replace").read()[-5000:])
        print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
        return 1 if failed else 0
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
