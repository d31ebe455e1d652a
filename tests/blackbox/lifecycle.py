#!/usr/bin/env python3
"""tests/blackbox/lifecycle.py: the life of one FastCGI process under real lighttpd.

- many requests through one process leave its descriptors and memory as they were;
- SIGTERM while a part streams: the part is stored whole and answered, then
  the process exits 0;
- SIGTERM while idle: the process exits at once.
"""

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import shutil
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import RESULTS, Lighttpd, check, Nginx, sanitizer_reports  # noqa: E402
import cases  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("R2MPU_TEST_BIN") or os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")
SANITIZED = bool(os.environ.get("R2MPU_TEST_BIN"))   # make asan


def r2mpu_pids():
    out = subprocess.run(["pgrep", "-f", "-x", BIN], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def one_pid(timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = r2mpu_pids()
        if len(pids) == 1:
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("expected one r2mpu process, have %r" % r2mpu_pids())


def fds(pid, settle=None):
    """The process's open descriptors. The client may read an answer before
    the process has closed that request's connection, so with `settle`, wait
    (up to a second) for the count to come back to it."""
    for _ in range(20):
        names = sorted(os.listdir("/proc/%d/fd" % pid))
        if settle is None or len(names) <= settle:
            break
        time.sleep(0.05)
    return len(names)


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def exited(pid, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split()[2] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


def slow_put(port, target, body, result):
    """PUT body in 256 KiB steps, slowly, so a signal lands mid-part; the raw answer goes in result."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               "Content-Length: %d\r\n\r\n" % (target, len(body))).encode())
    for off in range(0, len(body), 256 * 1024):
        s.sendall(body[off:off + 256 * 1024])
        time.sleep(0.05)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    result["answer"] = data


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def standalone(sandbox):
    """--listen/--workers behind nginx: a dead worker is replaced; SIGTERM drains."""
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-standalone"),
                "R2MPU_OPEN_ACCESS": "yes"}
    ngx = Nginx(TOP, settings, os.path.join(sandbox, "server.log"), sandbox)
    with ngx as c:
        parent = ngx.procs[0].pid
        workers = children(parent)
        check("standalone: 8 workers", len(workers) == 8, repr(workers))
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.time() + 5
        while time.time() < deadline and (len(children(parent)) != 8 or
                                          workers[0] in children(parent)):
            time.sleep(0.1)
        check("standalone: a killed worker is replaced",
              len(children(parent)) == 8 and workers[0] not in children(parent),
              repr(children(parent)))
        key = "life/standalone"
        uid = cases.create(c, key)
        body = cases.data(6 * 1024 * 1024, 78)
        result = {}

        t = threading.Thread(target=slow_put,
                             args=(c.port, "/r2mpu" + cases.part_target(key, uid, 1), body, result))
        t.start()
        time.sleep(0.4)
        os.kill(parent, signal.SIGTERM)
        t.join(60)
        answer = result.get("answer", b"")
        check("standalone: SIGTERM lets the part in flight finish",
              answer.startswith(b"HTTP/1.1 200") and
              hashlib.md5(body).hexdigest().encode() in answer, repr(answer[:200]))
        check("standalone: then every process exits", exited(parent, 10) and
              not children(parent))


def main():
    if r2mpu_pids():
        print("lifecycle: skipped: other r2mpu processes from this tree are running")
        print("lifecycle: 0 passed, 0 failed, 1 skipped")
        return 0
    sandbox = tempfile.mkdtemp(prefix="r2mpu-life-")
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store"), "R2MPU_PROCS": "1",
                "R2MPU_OPEN_ACCESS": "yes"}
    try:
        with Lighttpd(TOP, settings, os.path.join(sandbox, "server.log")) as c:
            # Warm up every code path once, then measure.
            def round_(i):
                key = "life/k%d" % i
                uid = cases.create(c, key)
                p = cases.put_part(c, key, uid, 1, cases.data(300 * 1024, i))
                cases.expect(cases.complete(c, key, uid, [p]), 200)
                cases.expect(cases.get(c, key), 200)
                cases.expect(cases.get(c, key, {"Range": "bytes=0-9"}), 206)
                cases.expect(c.request("PUT", cases.part_target(key, "0" * 32, 1), body=b"x"), 404)
                cases.expect(c.request("POST", cases.complete_target(key, uid), body=b"{"), 400)
                cases.expect(c.request("DELETE", cases.path(key) + "?action=delete"), 204)
            for i in range(20):
                round_(i)
            pid = one_pid()
            time.sleep(0.2)
            fd0, rss0 = fds(pid), rss_kib(pid)
            for i in range(200):
                round_(i)
            fd1, rss1 = fds(pid, settle=fd0), rss_kib(pid)
            if SANITIZED:
                # ASan holds freed memory in quarantine and opens files of its
                # own; its LeakSanitizer report at exit is checked below instead.
                print("skip descriptor and RSS growth checks under a sanitizer build")
            else:
                check("no descriptor leak over 200 rounds", fd1 == fd0, "%d -> %d" % (fd0, fd1))
                check("no memory growth over 200 rounds", rss1 - rss0 < 512,
                      "VmRSS %d -> %d KiB" % (rss0, rss1))

            # SIGTERM mid-part: the request finishes, then the process leaves.
            key = "life/sigterm"
            uid = cases.create(c, key)
            body = cases.data(8 * 1024 * 1024, 77)
            result = {}

            pid = one_pid()
            t = threading.Thread(target=slow_put,
                                 args=(c.port, cases.part_target(key, uid, 1), body, result))
            t.start()
            time.sleep(0.5)
            os.kill(pid, signal.SIGTERM)
            t.join(60)
            answer = result.get("answer", b"")
            check("SIGTERM mid-part: the part is answered 200",
                  answer.startswith(b"HTTP/1.1 200") and hashlib.md5(body).hexdigest().encode() in answer,
                  repr(answer[:300]))
            check("SIGTERM mid-part: then the process exits", exited(pid, 5))
            p = {"partNumber": 1, "etag": hashlib.md5(body).hexdigest()}
            cases.expect(cases.complete(c, key, uid, [p]), 200)
            check("SIGTERM mid-part: the stored part is whole", cases.get(c, key).body == body)

            pid = one_pid()
            os.kill(pid, signal.SIGTERM)
            check("SIGTERM while idle: the process exits at once", exited(pid, 2))
        standalone(sandbox)
        reports = sanitizer_reports(os.path.join(sandbox, "server.log"))
        check("no sanitizer reports in the server log", not reports, "\n".join(reports))
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    print("lifecycle: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
