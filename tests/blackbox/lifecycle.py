#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/lifecycle.py: the life of one FastCGI process under real lighttpd.

- many requests through one process leave its descriptors and memory as they were;
- SIGTERM while a part streams: the part is stored whole and answered, then
  the process exits 0;
- SIGTERM while idle: the process exits at once.
"""

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import shutil
import threading
import time

from lib import BIN, api, fastcgi, procs, servers
from lib.checks import RESULTS, check, sanitizer_reports
from lib.clients import request_head
from lib.servers import Lighttpd, Nginx

SANITIZED = bool(os.environ.get("R2MPU_TEST_BIN"))   # make asan


def one_pid(server, timeout=5):
    """The one r2mpu process of a Lighttpd with R2MPU_PROCS=1."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = server.r2mpu_pids()
        if len(pids) == 1:
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("expected one r2mpu process, have %r" % server.r2mpu_pids())


def slow_put(port, target, body, result):
    """PUT body in 256 KiB steps, slowly, so a signal lands mid-part; the raw answer goes in result."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(request_head("PUT", target, {"Connection": "close", "Content-Length": len(body)}))
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


def workers_of(parent, gone=None, timeout=5, want=8):
    """The workers of a standalone r2mpu once there are 8 (gone not among
    them), or as they are after timeout seconds: it forks them after its port
    listens, and a new one after one dies."""
    deadline = time.time() + timeout
    while True:
        kids = procs.children(parent)
        away = gone if isinstance(gone, list) else [gone]
        if (len(kids) == want and not set(away) & set(kids)) or time.time() >= deadline:
            return kids
        time.sleep(0.1)


def standalone(sandbox):
    """--listen/--workers behind nginx: a dead worker is replaced; SIGTERM drains."""
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-standalone"),
                "R2MPU_OPEN_ACCESS": "yes"}
    ngx = Nginx(settings, os.path.join(sandbox, "server.log"), sandbox)
    with ngx as c:
        parent = ngx.procs[0].pid
        workers = workers_of(parent)
        check("standalone: 8 workers", len(workers) == 8, repr(workers))
        os.kill(workers[0], signal.SIGKILL)
        now = workers_of(parent, gone=workers[0])
        check("standalone: a killed worker is replaced",
              len(now) == 8 and workers[0] not in now, repr(now))
        key = "life/standalone"
        uid = api.create(c, key)
        body = api.data(6 * 1024 * 1024, 78)
        result = {}

        t = threading.Thread(target=slow_put,
                             args=(c.port, "/r2mpu" + api.part_target(key, uid, 1), body, result))
        t.start()
        time.sleep(0.4)
        os.kill(parent, signal.SIGTERM)
        t.join(60)
        answer = result.get("answer", b"")
        check("standalone: SIGTERM lets the part in flight finish",
              answer.startswith(b"HTTP/1.1 200") and
              hashlib.md5(body).hexdigest().encode() in answer, repr(answer[:200]))
        # The workers by pid: once the master is gone, its children would be
        # another's, and children(parent) empty whether they live or not.
        check("standalone: then every process exits", procs.exited([parent] + now, 10),
              repr([p for p in [parent] + now if procs.running(p)]))
    # The supervisor killed outright: its workers go with it, not on as orphans.
    with open(os.path.join(sandbox, "killed.log"), "ab") as log:
        master = servers.standalone(BIN, servers.free_port(), 4,
                                    dict(os.environ, R2MPU_MOUNT="/", **settings), log)
        workers = []
        deadline = time.time() + 10
        while len(workers) < 4 and time.time() < deadline:
            time.sleep(0.1)
            workers = procs.children(master.pid)
        master.kill()
        master.wait()
        check("standalone: SIGKILL of the supervisor ends its workers",
              len(workers) == 4 and procs.exited(workers, 10),
              repr([p for p in workers if procs.running(p)]))


def listen_addresses(sandbox):
    """--listen takes an IPv6 address in brackets and a host name, and serves there."""
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-listen"),
                "R2MPU_OPEN_ACCESS": "yes", "R2MPU_MOUNT": "/"}
    log_path = os.path.join(sandbox, "listen.log")
    addresses = ["[::1]:%d", "localhost:%d"]
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError as e:
        print("skip --listen [::1]: no IPv6 loopback here (%s)" % e)
        addresses.remove("[::1]:%d")
    for address in addresses:
        port = servers.free_port()
        with open(log_path, "ab") as log:
            p = subprocess.Popen([BIN, "--listen", address % port, "--workers", "1"],
                                 env=dict(os.environ, **settings), stderr=log)
        try:
            # Where a name was bound, as the log says (localhost: ::1 or 127.0.0.1).
            deadline, answer, connect = time.time() + 10, b"", None
            while time.time() < deadline and connect is None:
                said = re.findall(r"listening on \[?([0-9a-f.:]+?)\]?:%d with" % port,
                                  open(log_path, errors="replace").read())
                connect = said[-1] if said else None
                time.sleep(0.05)
            while time.time() < deadline and not answer and connect:
                try:
                    answer = fastcgi.exchange(port, fastcgi.request({
                        "REQUEST_METHOD": "GET", "QUERY_STRING": "action=health",
                        "SCRIPT_NAME": "", "PATH_INFO": "/"}), host=connect)
                except OSError:
                    time.sleep(0.1)
            check("--listen %s: served there" % (address % port), b"ok" in answer, answer)
        finally:
            kids = procs.children(p.pid)
            # SIGUSR1, as SIGTERM: the server and its worker stop, status 0.
            p.send_signal(signal.SIGUSR1)
            p.wait(10)
        check("--listen %s: SIGUSR1 stops it all, status 0" % (address % port),
              p.returncode == 0 and procs.exited(kids, 10), (p.returncode, kids))


def refusal(argv, env):
    """Run what should refuse to start: its CompletedProcess, or, when it serves
    instead, one with returncode None, after stopping it."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=20)
        return subprocess.CompletedProcess(argv, p.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        out, err = p.communicate()
        return subprocess.CompletedProcess(argv, None, out, err + " (it started)")


def drops_privileges(sandbox):
    """--user/--group once the socket is open; a unix socket's owner and mode."""
    if os.geteuid() != 0:
        print("skip --user: needs root")
        return
    store = os.path.join(sandbox, "store-nobody")
    os.makedirs(store)
    os.chown(store, 65534, 65534)
    os.chmod(sandbox, 0o755)
    sock = os.path.join(sandbox, "r2mpu.sock")
    settings = {"R2MPU_FS_ROOT": store, "R2MPU_OPEN_ACCESS": "yes", "R2MPU_MOUNT": "/"}
    with open(os.path.join(sandbox, "users.log"), "ab") as log:
        p = subprocess.Popen([BIN, "--listen", sock, "--workers", "2", "--user", "nobody",
                              "--group", "nogroup", "--socket-owner", "nobody:nogroup",
                              "--socket-mode", "0600"], env=dict(os.environ, **settings),
                             stderr=log)
    try:
        kids = workers_of(p.pid, want=2)
        ids = []
        for pid in [p.pid] + kids:
            with open("/proc/%d/status" % pid) as f:
                ids.append([l.split()[1:] for l in f if l.startswith(("Uid:", "Gid:"))])
        check("--user nobody --group nogroup: the server and its workers run as them",
              len(kids) == 2 and all(i == [["65534"] * 4, ["65534"] * 4] for i in ids), ids)
        st = os.stat(sock)
        check("--socket-owner nobody:nogroup --socket-mode 0600: the socket's",
              (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o600),
              (st.st_uid, st.st_gid, oct(st.st_mode)))
    finally:
        p.terminate()
        p.wait(10)
    check("--user: stops cleanly", p.returncode == 0, p.returncode)
    # Without R2MPU_MOUNT a standalone r2mpu cannot tell the keys from the location.
    r = refusal([BIN, "--listen", ":%d" % servers.free_port()],
                dict(os.environ, R2MPU_FS_ROOT=store, R2MPU_OPEN_ACCESS="yes"))
    check("--listen without R2MPU_MOUNT: refuses to start, naming it", r.returncode == 1 and
          "R2MPU_MOUNT" in r.stderr and "PATH_INFO" in r.stderr, (r.returncode, r.stderr))
    # Told to become a user it cannot: refuses to start, and says why.
    r = refusal([BIN, "--listen", ":%d" % servers.free_port(), "--user", "no-such-user"],
                dict(os.environ, **settings))
    check("--user no-such-user: refuses to start", r.returncode == 1 and
          "no user" in r.stderr, (r.returncode, r.stderr))


def fcgi_part(port, size):
    """A part of `size` bytes into a new upload, straight over FastCGI: the status."""
    base = {"SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/life/reload"}
    answer = fastcgi.exchange(port, fastcgi.request(dict(
        base, REQUEST_METHOD="POST", QUERY_STRING="action=mpu-create", CONTENT_LENGTH="0")))
    uid = answer.split(b'"uploadId":"')[1].split(b'"')[0].decode()
    body = b"x" * size
    answer = fastcgi.exchange(port, fastcgi.request(dict(
        base, REQUEST_METHOD="PUT", CONTENT_LENGTH=str(size),
        QUERY_STRING="action=mpu-uploadpart&partNumber=1&uploadId=" + uid), body))
    status = answer.split(b"\r\n", 1)[0]
    return int(status.split()[1]) if status.startswith(b"Status:") else 200


def reload_on_sighup(sandbox):
    """SIGHUP reads the settings file again: new workers with the new limit, the
    old ones gone; a bad file is refused and the old workers serve on."""
    conf = os.path.join(sandbox, "reload.conf")

    def write(text):
        with open(conf, "w") as f:
            f.write("R2MPU_FS_ROOT=%s\nR2MPU_OPEN_ACCESS=yes\nR2MPU_MOUNT=/\n%s" % (
                os.path.join(sandbox, "store-reload"), text))
        os.chmod(conf, 0o600)
    write("R2MPU_MAX_PART_SIZE=1000\n")
    port = servers.free_port()
    env = dict(os.environ, R2MPU_CONFIG=conf)
    with open(os.path.join(sandbox, "reload.log"), "ab") as log:
        master = servers.standalone(BIN, port, 2, env, log)
    try:
        servers.wait_for_port(port, master)
        old = workers_of(master.pid, want=2)
        check("SIGHUP: before, a part over R2MPU_MAX_PART_SIZE=1000 is 413",
              fcgi_part(port, 1500) == 413)
        write("R2MPU_MAX_PART_SIZE=2000\n")
        os.kill(master.pid, signal.SIGHUP)
        new = workers_of(master.pid, want=2, gone=old)
        check("SIGHUP: new workers replace the old ones", len(new) == 2 and
              not set(new) & set(old) and procs.exited(old, 10), (old, new))
        check("SIGHUP: then the new limit holds: the same part is taken",
              fcgi_part(port, 1500) == 200)
        write("R2MPU_MAX_PART_SIZE=lots\n")
        os.kill(master.pid, signal.SIGHUP)
        time.sleep(0.5)
        check("SIGHUP with a bad file: refused, the workers serve on as they were",
              master.poll() is None and workers_of(master.pid, want=2) == new and
              fcgi_part(port, 1500) == 200, workers_of(master.pid, want=2))
        text = open(os.path.join(sandbox, "reload.log"), errors="replace").read()
        check("SIGHUP with a bad file: the log says why", "R2MPU_MAX_PART_SIZE" in text and
              "refused" in text, text[-400:])
        # Settings that load but access rules that do not (a bad tokens file): refused
        # as a whole, so a worker started afterwards still has the old settings.
        tokens = os.path.join(sandbox, "reload.tokens")
        with open(tokens, "w") as f:
            f.write("short w *\n")
        os.chmod(tokens, 0o600)
        write("R2MPU_MAX_PART_SIZE=2000\nR2MPU_TOKENS_FILE=%s\n" % tokens)
        os.kill(master.pid, signal.SIGHUP)
        time.sleep(0.5)
        os.kill(new[0], signal.SIGKILL)
        again = workers_of(master.pid, want=2, gone=[new[0]])
        check("SIGHUP with bad access rules: a worker started afterwards has the old settings",
              len(again) == 2 and fcgi_part(port, 1500) == 200 and fcgi_part(port, 1500) == 200,
              again)
    finally:
        master.terminate()
        master.wait(20)
    check("SIGHUP: SIGTERM afterwards stops it all", master.returncode == 0 and
          procs.exited(new, 10), master.returncode)


def main():
    if procs.r2mpu_pids():
        print("lifecycle: skipped: other r2mpu processes from this tree are running")
        print("lifecycle: 0 passed, 0 failed, 1 skipped")
        return 0
    sandbox = tempfile.mkdtemp(prefix="r2mpu-life-")
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store"), "R2MPU_PROCS": "1",
                "R2MPU_OPEN_ACCESS": "yes"}
    try:
        server = Lighttpd(settings, os.path.join(sandbox, "server.log"))
        with server as c:
            # Warm up every code path once, then measure.
            def round_(i):
                key = "life/k%d" % i
                uid = api.create(c, key)
                p = api.put_part(c, key, uid, 1, api.data(300 * 1024, i))
                api.expect(api.complete(c, key, uid, [p]), 200)
                api.expect(api.get(c, key), 200)
                api.expect(api.get(c, key, {"Range": "bytes=0-9"}), 206)
                api.expect(c.request("PUT", api.part_target(key, "0" * 32, 1), body=b"x"), 404)
                api.expect(c.request("POST", api.complete_target(key, uid), body=b"{"), 400)
                api.expect(c.request("DELETE", api.path(key) + "?action=delete"), 204)
            for i in range(20):
                round_(i)
            pid = one_pid(server)
            time.sleep(0.2)
            fd0, rss0 = procs.fd_count(pid), procs.status_kib(pid, "VmRSS")
            for i in range(200):
                round_(i)
            fd1 = procs.fd_count(pid, settle=fd0, wait=1.0)
            rss1 = procs.status_kib(pid, "VmRSS")
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
            uid = api.create(c, key)
            body = api.data(8 * 1024 * 1024, 77)
            result = {}

            pid = one_pid(server)
            t = threading.Thread(target=slow_put,
                                 args=(c.port, api.part_target(key, uid, 1), body, result))
            t.start()
            time.sleep(0.5)
            os.kill(pid, signal.SIGTERM)
            t.join(60)
            answer = result.get("answer", b"")
            check("SIGTERM mid-part: the part is answered 200",
                  answer.startswith(b"HTTP/1.1 200") and hashlib.md5(body).hexdigest().encode() in answer,
                  repr(answer[:300]))
            check("SIGTERM mid-part: then the process exits", procs.exited([pid], 5))
            p = {"partNumber": 1, "etag": hashlib.md5(body).hexdigest()}
            api.expect(api.complete(c, key, uid, [p]), 200)
            check("SIGTERM mid-part: the stored part is whole", api.get(c, key).body == body)

            pid = one_pid(server)
            os.kill(pid, signal.SIGTERM)
            check("SIGTERM while idle: the process exits at once", procs.exited([pid], 2))
        standalone(sandbox)
        reload_on_sighup(sandbox)
        listen_addresses(sandbox)
        drops_privileges(sandbox)
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
