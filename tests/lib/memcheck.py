# SPDX-License-Identifier: MIT
"""tests/lib/memcheck.py: r2mpu under valgrind memcheck, for the suites' --valgrind.

Behind a web server, each FastCGI process runs under tests/ci/valgrind-fcgi.sh:
valgrind starts once a process, not once a request, and leaves one log per
process that stays empty unless it finds an error or a definite leak. In CGI
mode the client wraps every request in CGI_WRAPPER instead.
"""

import os
import signal

from lib import BIN, TOP, procs

OPTIONS = ["--quiet", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
           "--show-leak-kinds=definite,indirect", "--track-fds=no"]
# CGI mode: the request's exit status says what valgrind found.
CGI_WRAPPER = ["valgrind", "--error-exitcode=99"] + OPTIONS

FCGI_WRAPPER = os.path.join(TOP, "tests", "ci", "valgrind-fcgi.sh")


def fcgi_settings(logdir):
    """Settings that make a web server's r2mpu processes run under valgrind,
    each leaving logdir/vg.PID.log (logdir is made here)."""
    os.makedirs(logdir)
    return {"R2MPU_TEST_BIN": FCGI_WRAPPER, "R2MPU_VALGRIND_BIN": BIN,
            "R2MPU_VALGRIND_LOGS": logdir}


def reports(logdir):
    """What valgrind said of the processes that ran with fcgi_settings(logdir),
    once each has exited ("" when nothing). Call it after the server stopped."""
    logs = sorted(os.listdir(logdir))
    if not logs:
        return "no r2mpu process ran under valgrind (%s is empty)" % logdir
    pids = [int(name.split(".")[1]) for name in logs]
    # The server's stop ends them; a straggler gets the SIGTERM r2mpu leaves on.
    if not procs.exited(pids, 10):
        for p in pids:
            if procs.running(p):
                os.kill(p, signal.SIGTERM)
    if not procs.exited(pids, 120):
        return "r2mpu under valgrind did not exit: %s" % [p for p in pids if procs.running(p)]
    said = []
    for name in logs:
        text = open(os.path.join(logdir, name), errors="replace").read().strip()
        if text:
            said.append("%s:\n%s" % (name, text[:4000]))
    return "\n".join(said)
