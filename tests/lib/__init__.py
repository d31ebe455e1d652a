# SPDX-License-Identifier: MIT
"""tests/lib: what r2mpu's Python suites share, one module per concern.

    api       r2mpu's HTTP API in a few calls (create, put_part, complete, get,
              upload, abort), request targets, test data, expect()
    clients   one request interface, two ways to reach r2mpu: CgiClient (no
              server) and HttpClient (a real one); raw HTTP exchanges
    servers   lighttpd, Apache, nginx and the S3 servers, each started from the
              shipped config on a free port; tokens files they can read
    procs     r2mpu's processes (below a web server we started) and their
              descriptors, memory and exit, read from /proc
    checks    check() and RESULTS, Skip, run_cases(), the server logs shown on a
              failure, sanitizer reports, fs store leftovers
    fastcgi   a raw FastCGI exchange with a standalone r2mpu (--listen)
    memcheck  r2mpu under valgrind: behind a web server, or a request at a time
    chromium  headless Chromium for the browser suites (needs selenium)

The suites import it as `lib` and the black-box case list as `blackbox.cases`,
with tests/ on the module path: the Makefile exports PYTHONPATH for them, and
by hand it is `PYTHONPATH=tests tests/blackbox/run.py --mode cgi`.
"""

import os

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The r2mpu under test (`make asan` points the suites at a sanitizer build),
# absolute: hostile.py runs it from another working directory.
BIN = os.path.abspath(os.environ.get("R2MPU_TEST_BIN") or
                      os.path.join(TOP, "cgi-bin", "r2mpu.fcgi"))


def scratch_metrics_file(directory=None):
    """Where an r2mpu under test keeps its metrics (R2MPU_METRICS_FILE): in
    `directory`, or in one directory of this process's that goes when it
    exits; never r2mpu's default in /dev/shm, which a test run would fill
    with a file for every store it makes (operations.py tests the default)."""
    global _scratch
    if directory is None:
        if _scratch is None:
            import atexit
            import shutil
            import tempfile
            _scratch = tempfile.mkdtemp(prefix="r2mpu-test-metrics-")
            atexit.register(shutil.rmtree, _scratch, True)
        directory = _scratch
    return os.path.join(directory, "r2mpu.metrics")


_scratch = None

# Every r2mpu a suite starts, by whatever way, inherits it (a suite that tests
# the default sets R2MPU_METRICS_FILE="" itself).
os.environ.setdefault("R2MPU_METRICS_FILE", scratch_metrics_file())
