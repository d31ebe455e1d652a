# SPDX-License-Identifier: MIT
"""tests/lib/checks.py: how a suite says what passed, and what it looks at afterwards.

Two styles, both printing `ok`/`FAIL` lines: check(name, ok) for a suite of
named assertions that goes on after a failure (its outcomes in RESULTS), and
run_cases() for a list of case functions that raise AssertionError (or Skip).
Either way a failure is followed by what each server and store log gained
since the last success (Logs), so CI's output tells the server's side too.
"""

import hashlib
import json
import os
import traceback


class Logs:
    """The server and store logs of a test run, for the failing case's story.

    Every web server, S3 server and CGI client a test starts registers its
    log here. A runner calls mark() before a case; when the case fails,
    dump() prints what each log gained since, so CI's output shows the
    server's and the store's side of the failure, not just the assertion."""

    offsets = {}   # path -> size at the last mark

    @classmethod
    def watch(cls, path):
        cls.offsets.setdefault(path, cls._size(path))

    @staticmethod
    def _size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    @classmethod
    def mark(cls):
        for path in cls.offsets:
            cls.offsets[path] = cls._size(path)

    @classmethod
    def dump(cls, limit=6000):
        for path, start in cls.offsets.items():
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            if not text.strip():
                continue
            cut = text[-limit:]
            print("---- %s (%d bytes since the case began%s) ----" % (
                path, len(text), ", the last %d" % limit if len(text) > limit else ""))
            print(cut.rstrip("\n"))
        print("---- end of logs ----", flush=True)
        cls.mark()


RESULTS = []   # every check()'s outcome, in order: a suite passes when all are true


def check(name, ok, detail=""):
    """One named assertion of a suite that goes on after a failure: prints
    ok/FAIL (and, on a failure, the detail and the logs since the last check)."""
    RESULTS.append(bool(ok))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)) if detail and not ok else ""),
          flush=True)
    if ok:
        Logs.mark()
    else:
        Logs.dump()
    return ok


def summary(suite):
    """The suite's last line, "NAME: N passed, M failed", and its exit status:
    0 when at least one check ran and none failed."""
    failed = RESULTS.count(False)
    print("%s: %d passed, %d failed" % (suite, len(RESULTS) - failed, failed))
    return 0 if RESULTS and not failed else 1


class Skip(Exception):
    """A case that its setting cannot express (raised by skip())."""


def skip(why):
    raise Skip(why)


def run_cases(fns, client, env, label):
    """Each case fn(client, env) in turn, a line each: ok, skip (with why), or
    FAIL with its traceback and the logs since it began. Returns (passed,
    failed, skipped)."""
    passed = failed = skipped = 0
    for fn in fns:
        Logs.mark()
        try:
            fn(client, env)
        except Skip as e:
            skipped += 1
            print("skip %s [%s]: %s" % (fn.__name__, label, e))
            continue
        except Exception:
            failed += 1
            print("FAIL %s [%s]" % (fn.__name__, label))
            traceback.print_exc()
            Logs.dump()
            continue
        passed += 1
        print("ok   %s [%s]" % (fn.__name__, label))
    return passed, failed, skipped


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "Sanitizer CHECK failed")


def sanitizer_reports(logfile):
    """Lines of a server log where a sanitizer build of r2mpu reported a fault."""
    try:
        text = open(logfile, errors="replace").read()
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKS)]


def fs_object(root, key):
    """The fs store's object file of key, as (magic, header) -- b"R2MPUOB2" for a
    manifest whose header names its data directory, b"R2MPUOB1" for header + data --
    or None when there is none."""
    h = hashlib.sha256(key.encode()).hexdigest()
    return fs_object_file(os.path.join(root, "objects", h[:2], h))


def fs_object_file(path):
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            return head[:8], json.loads(f.read(int.from_bytes(head[8:12], "big")))
    except FileNotFoundError:
        return None


def fs_data_dirs(root):
    """Every data directory of the fs store, as "data/ab/<hash>.<id>"."""
    top = os.path.join(root, "data")
    return sorted(os.path.join("data", b, d) for b in os.listdir(top)
                  for d in os.listdir(os.path.join(top, b))) if os.path.isdir(top) else []


def leftovers(root):
    """What the fs store at root holds that must not outlive the requests that
    made it: files in tmp/, upload directories without their meta, data
    directories no object's manifest names."""
    found = [os.path.join("tmp", f) for f in os.listdir(os.path.join(root, "tmp"))]
    for uid in os.listdir(os.path.join(root, "uploads")):
        d = os.path.join(root, "uploads", uid)
        if os.path.isdir(d) and not os.path.exists(os.path.join(d, "meta")):
            found.append(os.path.join("uploads", uid) + " (no meta)")
    for d in fs_data_dirs(root):
        h, _, data_id = os.path.basename(d).partition(".")
        obj = fs_object_file(os.path.join(root, "objects", h[:2], h))
        if obj is None or obj[0] != b"R2MPUOB2" or obj[1].get("data") != data_id:
            found.append(d + " (named by no manifest)")
    return found
