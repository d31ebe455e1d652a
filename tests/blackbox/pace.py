#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/pace.py: hostile clients that are slow on purpose cannot take the gateway offline.

With as many hostile clients as r2mpu has processes (2 here), through the
shipped configs of lighttpd, nginx and Apache mod_proxy_fcgi:

  drain     refused part uploads (no credentials) that then trickle their
            60 MB bodies a byte at a time: each gets its 401 at once, and a
            normal request is served within a second or two;
  slow-part parts (valid token) that trickle below R2MPU_MIN_RATE: ended
            after R2MPU_IO_TIMEOUT of grace (408 where the answer still
            reaches the client), nothing stored, normal requests served;
  slow-get  GETs of a large object read 1 KiB at a time: normal requests served;
  idle      (standalone r2mpu) FastCGI connections that send nothing, or
            their parameters a byte at a time: dropped after R2MPU_IO_TIMEOUT;
  proxy     (standalone r2mpu, S3 store on moto) FastCGI parameters named
            http_proxy, ALL_PROXY...: the store's requests never go there.

"Served within the limit" is timed from the moment every hostile client
holds its process: R2MPU_IO_TIMEOUT (2 s here) plus a margin.
"""

import argparse
import http.client
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

from lib import BIN, api, fastcgi, servers
from lib.checks import Logs, check, sanitizer_reports, summary
from lib.clients import Response, request_head

PROCS = 2
IO_TIMEOUT = 2                   # R2MPU_IO_TIMEOUT
LIMIT = IO_TIMEOUT + 3.0         # a normal request's answer, at the latest (s)
# A reader at a quarter of R2MPU_MIN_RATE, holding a full bucket (two io_timeouts of
# credit) after its fast start, runs out in 2 * IO_TIMEOUT / (1 - 1/4) s.
LIMIT_SLOW_READER = 2 * IO_TIMEOUT / 0.75 + 3.0
TOKEN = "tok-pace-admin-5b1e0c7d9a3f4e26"


def settings_for(sandbox, mode):
    tokens = servers.write_tokens(os.path.join(sandbox, "tokens-" + mode), "%s rwd *\n" % TOKEN,
                                  mode)
    return {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-" + mode),
            "R2MPU_MAX_PART_SIZE": "64M", "R2MPU_TOKENS_FILE": tokens,
            "R2MPU_PROCS": str(PROCS), "R2MPU_IO_TIMEOUT": str(IO_TIMEOUT),
            "R2MPU_MIN_RATE": "1K"}


AUTH = {"Authorization": "Bearer " + TOKEN}


class Hostile(threading.Thread):
    """A client that sends `head` (and `first` body bytes), then one byte
    every `every` seconds (or, for a GET, reads `chunk` bytes that often),
    until stopped or the server hangs up; it keeps what came back."""

    def __init__(self, port, head, every=0.5, read_chunk=None):
        super().__init__(daemon=True)
        self.port, self.head, self.every, self.read_chunk = port, head, every, read_chunk
        self.answer = b""
        self.first_byte_at = self.closed_at = None
        self.stop = threading.Event()
        self.started_at = time.time()

    def run(self):
        s = socket.socket()
        if self.read_chunk:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.port))
        s.settimeout(0.05)
        s.sendall(self.head)
        due = time.time() + self.every
        try:
            while not self.stop.is_set():
                if self.read_chunk is None or time.time() >= due:
                    try:
                        d = s.recv(self.read_chunk or 65536)
                    except socket.timeout:
                        d = None
                    if d == b"":
                        self.closed_at = time.time()
                        break
                    if d:
                        self.first_byte_at = self.first_byte_at or time.time()
                        self.answer += d
                if self.read_chunk is None and time.time() >= due:
                    s.send(b"x")
                if time.time() >= due:
                    due += self.every
                if self.read_chunk is not None:
                    time.sleep(0.01)
        except OSError:
            self.closed_at = self.closed_at or time.time()
        finally:
            s.close()

    def status(self):
        line = self.answer.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 and line[1].isdigit() else None


def hostile_head(c, method, key, query, headers):
    """The head of a hostile client's request for key?query through c's server."""
    return request_head(method, "%s/%s?%s" % (c.prefix, key, query), headers)


def timed_request(c, method, target, headers=None, body=None, timeout=None):
    """A normal client's request, with its time; one that gets no answer within
    `timeout` (LIMIT_SLOW_READER + 5 s) is an answer of status 0."""
    t = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", c.port,
                                      timeout=timeout or LIMIT_SLOW_READER + 5)
    try:
        conn.request(method, c.prefix + target, body=body,
                     headers=dict(headers or {}, **({"Content-Length": str(len(body))}
                                                      if body is not None else {})))
        resp = conn.getresponse()
        r = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    except OSError as e:
        r = Response(0, {}, ("no answer: %r" % e).encode())
    finally:
        conn.close()
    return r, time.time() - t


def stop_all(hostiles):
    for h in hostiles:
        h.stop.set()
    for h in hostiles:
        h.join(10)


def case_drain(mode, c):
    """Refused parts that trickle their bodies: 401 at once, nobody waits."""
    hostiles = []
    for i in range(PROCS):
        head = hostile_head(c, "PUT", "drain/x%d" % i, "action=mpu-uploadpart&uploadId=u&partNumber=1",
                            {"Content-Length": 60000000})
        hostiles.append(Hostile(c.port, head + b"y" * 1000))
    for h in hostiles:
        h.start()
    time.sleep(0.5)
    r, took = timed_request(c, "POST", api.path("drain/ok") + "?action=mpu-create",
                            headers=AUTH, body=b"")
    time.sleep(1.5)
    got = [h.status() for h in hostiles]
    stop_all(hostiles)
    # lighttpd and nginx pass the 401 on; Apache's modules cannot write the
    # rest of the body once r2mpu stops reading, and answer 500/503 themselves.
    check("%s: drain: each trickling refused part is answered at once" % mode,
          all(s == 401 or (mode.startswith("apache") and s in (500, 503)) for s in got), got)
    check("%s: drain: a normal request is served (%.2f s) while they trickle" % (mode, took),
          r.status == 200 and took < LIMIT, r)
    # A refused part whose body comes at full speed gets its 401 from every server.
    big = api.data(20 * 1024 * 1024, 9)
    r, took = timed_request(c, "PUT", api.part_target("drain/fast", "u", 1), body=big)
    check("%s: drain: a refused 20 MiB part sent at full speed gets its 401 (%.2f s)"
          % (mode, took), r.status == 401, r)


def case_slow_part(mode, c):
    """Parts below R2MPU_MIN_RATE are ended after the grace; nothing stored."""
    uid = api.create(c, "slow/part", headers=AUTH)
    hostiles = []
    for i in range(PROCS):
        head = hostile_head(c, "PUT", "slow/part", "action=mpu-uploadpart&uploadId=%s&partNumber=%d"
                            % (uid, i + 1), dict(AUTH, **{"Content-Length": 100000}))
        hostiles.append(Hostile(c.port, head + b"y" * 100))
    for h in hostiles:
        h.start()
    time.sleep(0.5)
    r, took = timed_request(c, "POST", api.path("slow/ok") + "?action=mpu-create",
                            headers=AUTH, body=b"")
    deadline = time.time() + IO_TIMEOUT + 6
    while time.time() < deadline and not all(h.answer or h.closed_at for h in hostiles):
        time.sleep(0.1)
    got = [h.status() for h in hostiles]
    ended = all(h.answer or h.closed_at for h in hostiles)
    stop_all(hostiles)
    check("%s: slow part: a normal request is served (%.2f s) while they trickle" % (mode, took),
          r.status == 200 and took < LIMIT, r)
    # The answer reaches the client where the server still passes it on; some
    # servers close the connection of a client whose upstream gave up.
    check("%s: slow part: each is ended (408, the server's 5xx, or closed) soon after the grace"
          % mode, ended and all(s in (408, 500, 502, 503, None) for s in got), got)
    parts = api.expect(c.request("GET", api.path("slow/part") + "?action=mpu-listparts&uploadId="
                                   + uid, headers=AUTH), 200).json()["parts"]
    check("%s: slow part: nothing of them was stored" % mode, parts == [], parts)


def case_slow_get(mode, c):
    """GETs read 1 KiB at a time do not keep others waiting beyond the limit."""
    body = api.data(8 * 1024 * 1024, 5)
    uid = api.create(c, "slow/get", headers=AUTH)
    p = api.expect(c.request("PUT", api.part_target("slow/get", uid, 1), body=body,
                               headers=AUTH), 200).json()
    api.expect(c.request("POST", api.complete_target("slow/get", uid), headers=AUTH,
                           body=('{"parts":[{"partNumber":1,"etag":"%s"}]}' % p["etag"]).encode()),
                 200)
    hostiles = []
    for i in range(PROCS):
        head = hostile_head(c, "GET", "slow/get", "action=get", AUTH)
        hostiles.append(Hostile(c.port, head, every=0.5, read_chunk=128))
    for h in hostiles:
        h.start()
    time.sleep(1.0)
    r, took = timed_request(c, "POST", api.path("slow/ok2") + "?action=mpu-create",
                            headers=AUTH, body=b"")
    stop_all(hostiles)
    check("%s: slow GETs (256 B/s): a normal request is served (%.2f s) while they read"
          % (mode, took), r.status == 200 and took < LIMIT_SLOW_READER, r)


# ---- raw FastCGI, to a standalone r2mpu's port ----------------------------------

def base_params(method, key, query):
    return {"REQUEST_METHOD": method, "REQUEST_URI": "/r2mpu/%s?%s" % (key, query),
            "QUERY_STRING": query, "SCRIPT_NAME": "/r2mpu/" + key, "SERVER_SOFTWARE": "pace.py",
            "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": "Bearer " + TOKEN, "CONTENT_LENGTH": "0"}


def case_idle(mode, c, server):
    """Connections to the FastCGI port that send nothing, or their parameters a byte at a time."""
    port = server.fcgi_port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(PROCS)]
    trickle_req = fastcgi.request(base_params("POST", "idle/x", "action=mpu-create"))
    trickled = [Hostile(port, trickle_req[:10], every=0.5) for _ in range(PROCS)]
    for h in trickled:
        h.start()
    time.sleep(0.5)
    r, took = timed_request(c, "POST", api.path("idle/ok") + "?action=mpu-create",
                            headers=AUTH, body=b"")
    time.sleep(IO_TIMEOUT + 1)
    closed = []
    for s in idle:
        s.settimeout(2)
        try:
            closed.append(s.recv(1) == b"")
        except OSError:
            closed.append(True)
        s.close()
    stop_all(trickled)
    check("%s: idle FastCGI connections: a normal request is served (%.2f s)" % (mode, took),
          r.status == 200 and took < LIMIT, r)
    check("%s: idle FastCGI connections are closed after R2MPU_IO_TIMEOUT" % mode,
          all(closed), closed)
    check("%s: parameters sent a byte at a time: dropped" % mode,
          all(h.closed_at is not None for h in trickled),
          [h.closed_at for h in trickled])


def case_proxy_parameters(sandbox):
    """A FastCGI parameter named like a proxy variable is not the S3 store's proxy."""
    try:
        stack = servers.S3Server("moto", sandbox)
        s3 = stack.__enter__()
    except servers.S3Server.Unavailable as e:
        print("skip proxy parameters: %s" % e)
        return
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.settimeout(0.2)
    trap_url = "http://127.0.0.1:%d" % trap.getsockname()[1]
    port = servers.free_port()
    settings = dict(settings_for(sandbox, "proxy"), R2MPU_MOUNT="/r2mpu", **s3)
    log = os.path.join(sandbox, "proxy.log")
    errf = open(log, "ab")
    Logs.watch(log)
    env = dict((k, v) for k, v in os.environ.items() if "proxy" not in k.lower())
    env.update(settings)
    proc = servers.standalone(BIN, port, 1, env, errf)
    try:
        servers.wait_for_port(port, proc)
        params = base_params("GET", "no/such", "action=get")
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                     "all_proxy"):
            params[name] = trap_url
        params["NO_PROXY"] = params["no_proxy"] = ""
        out = fastcgi.exchange(port, fastcgi.request(params))
        caught = 0
        try:
            while True:
                conn, _ = trap.accept()
                caught += 1
                conn.close()
        except socket.timeout:
            pass
        check("proxy parameters: the store answered (404) straight, not through them",
              out.startswith(b"Status: 404"), out[:200])
        check("proxy parameters: nothing connected to the would-be proxy", caught == 0, caught)
    finally:
        proc.terminate()
        proc.wait(20)
        errf.close()
        trap.close()
        stack.__exit__()
        for r in sanitizer_reports(log):
            check("proxy: sanitizer report", False, r)


SERVERS = ("lighttpd", "nginx", "apache-proxy-fcgi")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default=",".join(SERVERS), help="servers: " + ", ".join(SERVERS))
    ap.add_argument("--no-proxy-case", action="store_true")
    args = ap.parse_args()
    sandbox = tempfile.mkdtemp(prefix="r2mpu-pace-")
    os.chmod(sandbox, 0o755)
    try:
        for mode in args.mode.split(","):
            settings = settings_for(sandbox, mode)
            log = os.path.join(sandbox, "server-%s.log" % mode)
            server = servers.web_server(mode, settings, log, sandbox)
            with server as c:
                Logs.mark()
                case_drain(mode, c)
                case_slow_part(mode, c)
                case_slow_get(mode, c)
                if hasattr(server, "fcgi_port") and mode != "lighttpd":
                    case_idle(mode, c, server)
            for r in sanitizer_reports(log):
                check("%s: sanitizer report" % mode, False, r)
        if not args.no_proxy_case:
            case_proxy_parameters(sandbox)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("pace")


if __name__ == "__main__":
    sys.exit(main())
