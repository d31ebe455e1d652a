# SPDX-License-Identifier: MIT
"""tests/lib/procs.py: r2mpu's processes, and what /proc says about them.

A suite counts the r2mpu processes below a web server it started (never
those of another run on this machine: descendants()), and watches each one's
descriptors, memory and exit. Linux only, like the rest of the suites.
"""

import os
import time

from lib import BIN


def parents():
    """Every process's parent: {ppid: [pid, ...]}."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def children(pid):
    """pid's own children, sorted."""
    return sorted(parents().get(pid, ()))


def descendants(pid):
    """Every process below pid: its children, theirs, and so on."""
    kids, out, todo = parents(), [], [pid]
    while todo:
        for k in kids.get(todo.pop(), ()):
            out.append(k)
            todo.append(k)
    return out


def exe(pid):
    """The program pid runs (its path even after a rebuild replaced the file), or None."""
    try:
        return os.readlink("/proc/%d/exe" % pid).removesuffix(" (deleted)")
    except OSError:
        return None


def r2mpu_pids(under=None, binary=BIN):
    """The processes that run binary, sorted: those below pid `under` (a web
    server a suite started), or, without it, every one on this machine."""
    want = os.path.realpath(binary)
    pids = descendants(under) if under is not None else \
        [int(d) for d in os.listdir("/proc") if d.isdigit()]
    return sorted(p for p in pids if exe(p) == want)


def matching(pattern):
    """The processes whose command line holds pattern (as pgrep -f, without regexes), sorted."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if pattern in cmd:
                found.append(int(d))
    return sorted(found)


def status_kib(pid, field):
    """A size from /proc/PID/status, in KiB: VmRSS (resident now), VmHWM (its peak)."""
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def fd_count(pid, settle=None, wait=2.0):
    """Open descriptors of pid. A client may have its answer before the
    process has closed that connection: with settle, wait (up to `wait`
    seconds) for the count to come down to it."""
    deadline = time.time() + wait
    while True:
        n = len(os.listdir("/proc/%d/fd" % pid))
        if settle is None or n <= settle or time.time() >= deadline:
            return n
        time.sleep(0.05)


def running(pid):
    """Does pid still run (not gone, not a zombie waiting for its parent)?"""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def exited(pids, timeout):
    """Wait up to timeout seconds for every one of pids to end; have they?"""
    deadline = time.time() + timeout
    while any(running(p) for p in pids):
        if time.time() >= deadline:
            return False
        time.sleep(0.05)
    return True
