#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/operations.py: what an operator watches and plugs in -- metrics and hooks.

Metrics (?action=metrics): a known sequence of requests through real lighttpd
with its pool of 4 r2mpu processes, and every counter of the scrape checked
against what the client did; parts in flight while parts stream, and after a
process dies mid-part; who may read them (the m right); the counts of CGI
processes, one per request, adding up in one file; a standalone master's 8
workers counting together; R2MPU_METRICS=0.

Hooks, through lighttpd with 2 processes: a create hook that allows, refuses
(its first line the 403's message, control bytes replaced) and hangs (503 at
the timeout, the hook and what it started killed, the other process serving
meanwhile); what it is told (hostile key and metadata percent-encoded, no
variable of r2mpu's but its own); a complete hook told the size, ETag and
credential, one that fails (logged, the object kept) and one that hangs (the
complete answered at once); a hook that cannot run refuses the start.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from lib import BIN, api, servers
from lib.checks import check, sanitizer_reports, summary
from lib.clients import CgiClient, request_head
from lib.servers import Apache, Lighttpd, Nginx

WRITER = "writer-0123456789abcdef"
MONITOR = "monitor-0123456789abcde"     # m only, and scoped: metrics are the pool's anyway
READER = "reader-0123456789abcdef"
SAMPLE = re.compile(r'^(r2mpu_[a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$')


def parse_metrics(text):
    """Prometheus text -> {(name, ((label, value), ...)): float}; every line must parse."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP r2mpu_") or line.startswith("# TYPE r2mpu_"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        labels = tuple(tuple(kv.split("=", 1)) for kv in m.group(2).split(",")) if m.group(2) else ()
        labels = tuple((k, v.strip('"')) for k, v in labels)
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def series(metrics, name):
    """{labels as a dict's sorted items: value} of one metric."""
    return {labels: v for (n, labels), v in metrics.items() if n == name}


class Tally:
    """A client with the writer's token that notes what it did: requests by
    (action, status), body bytes each way."""

    def __init__(self, client):
        self.c = client
        self.requests = {}
        self.bytes_in = 0
        self.bytes_out = 0
        self.lock = threading.Lock()

    def request(self, method, target, headers=None, body=None, action=None, token=WRITER,
                read=True):
        """read=False: r2mpu refuses before it reads the body (not "received")."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        r = self.c.request(method, target, headers=h, body=body)
        act = action or re.search(r"[?&]action=([^&]*)", target).group(1)
        with self.lock:
            key = (act, str(r.status))
            self.requests[key] = self.requests.get(key, 0) + 1
            self.bytes_in += len(body or b"") if read else 0
            self.bytes_out += len(r.body)
        return r


def upload_one(t, i, results):
    key = "ops/obj%d" % i
    body = api.data(100 * 1024 + i, i)
    r = api.expect(t.request("POST", api.path(key) + "?action=mpu-create", body=b""), 200)
    uid = r.json()["uploadId"]
    p = api.expect(t.request("PUT", api.part_target(key, uid, 1), body=body), 200).json()
    api.expect(t.request("POST", api.complete_target(key, uid),
                         headers={"Content-Type": "application/json"},
                         body=('{"parts":[{"partNumber":1,"etag":"%s"}]}' % p["etag"]).encode()),
               200)
    results[i] = key


def known_sequence(t):
    """The requests whose counts the scrape must show; returns the store calls made."""
    results = {}
    threads = [threading.Thread(target=upload_one, args=(t, i, results)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 8, results
    for key in results.values():
        api.expect(t.request("GET", api.path(key) + "?action=get"), 200)
    api.expect(t.request("HEAD", api.path("ops/obj0") + "?action=get"), 200)
    api.expect(t.request("GET", api.path("ops/missing") + "?action=get"), 404, code="NoSuchKey")
    api.expect(t.request("PUT", api.part_target("ops/x", "0" * 32, 1), body=b"abc", read=False),
               404, code="NoSuchUpload")
    uid = api.expect(t.request("POST", api.path("ops/gone") + "?action=mpu-create", body=b""),
                     200).json()["uploadId"]
    api.expect(t.request("GET", api.path("ops/gone") + "?action=mpu-listparts&uploadId=" + uid), 200)
    api.expect(t.request("GET", "/?action=mpu-list"), 200)
    api.expect(t.request("DELETE", api.path("ops/gone") + "?action=mpu-abort&uploadId=" + uid), 204)
    api.expect(t.request("DELETE", api.path("ops/obj7") + "?action=delete"), 204)
    api.expect(t.request("GET", "/?action=nosuchaction", action="other"), 400,
               code="UnknownAction")
    # Who may read the metrics: nobody without credentials, not a reader.
    api.expect(t.request("GET", "/?action=metrics", token=None), 401)
    api.expect(t.request("GET", "/any/path?action=metrics", token=READER), 403)
    # Each create counts the uploads in progress under its scope (R2MPU_MAX_PENDING_UPLOADS).
    return {"create": 9, "upload_part": 9, "complete": 8, "abort": 1, "get": 10, "delete": 1,
            "list_parts": 1, "list_uploads": 10, "probe": 0}


def check_scrape(t, store_calls, pids_seen):
    r = t.c.request("GET", "/somewhere/else?action=metrics",
                    headers={"Authorization": "Bearer " + MONITOR})
    check("metrics: 200 for a token with the m right (scoped elsewhere), Prometheus' type",
          r.status == 200 and r.header("content-type").startswith("text/plain; version=0.0.4"), r)
    m = parse_metrics(r.body.decode())
    got = {(dict(l)["action"], dict(l)["status"]): int(v)
           for l, v in series(m, "r2mpu_requests_total").items()}
    check("metrics: requests by action and status, exactly as sent", got == t.requests,
          "got %r, sent %r" % (got, t.requests))
    check("metrics: body bytes in and out, exactly as sent",
          m[("r2mpu_received_bytes_total", ())] == t.bytes_in and
          m[("r2mpu_sent_bytes_total", ())] == t.bytes_out,
          "in %r/%d out %r/%d" % (m[("r2mpu_received_bytes_total", ())], t.bytes_in,
                                  m[("r2mpu_sent_bytes_total", ())], t.bytes_out))
    errors = {(dict(l)["operation"], dict(l)["code"]): int(v)
              for l, v in series(m, "r2mpu_store_errors_total").items()}
    check("metrics: store errors by operation and code",
          errors == {("get", "NoSuchKey"): 1, ("upload_part", "NoSuchUpload"): 1}, errors)
    counts = {dict(l)["operation"]: int(v)
              for l, v in series(m, "r2mpu_store_latency_seconds_count").items()}
    check("metrics: store calls timed, each operation's count", counts == store_calls,
          "got %r, made %r" % (counts, store_calls))
    buckets = series(m, "r2mpu_store_latency_seconds_bucket")
    sums = {dict(l)["operation"]: v for l, v in series(m, "r2mpu_store_latency_seconds_sum").items()}
    ok, why = True, ""
    for op, n in counts.items():
        les = sorted(((float(dict(l)["le"]), v) for l, v in buckets.items()
                      if dict(l)["operation"] == op), key=lambda x: x[0])
        values = [v for _, v in les]
        if values != sorted(values) or les[-1] != (float("inf"), n) or (n > 0) != (sums[op] > 0):
            ok, why = False, "%s: %r sum %r" % (op, les, sums[op])
    check("metrics: latency histograms cumulative, +Inf the count, a sum when counted", ok, why)
    check("metrics: nothing in flight after the sequence; counts shared by the pool",
          m[("r2mpu_parts_in_flight", ())] == 0 and m[("r2mpu_metrics_shared", ())] == 1, m)
    check("metrics: the sequence was served by more than one of the 4 processes",
          len(pids_seen()) >= 2, pids_seen())
    return m


class SlowPart:
    """A part sent in two halves: the first now, the second on release()."""

    def __init__(self, port, key, uid, n, size):
        self.body = api.data(size, n)
        self.answer = b""
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.sendall(request_head("PUT", api.part_target(key, uid, n),
                                    {"Connection": "close", "Content-Length": len(self.body),
                                     "Authorization": "Bearer " + WRITER}))
        self.s.sendall(self.body[:size // 2])

    def release(self):
        try:
            self.s.sendall(self.body[len(self.body) // 2:])
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    break
                self.answer += chunk
        except OSError:
            pass
        self.s.close()


def gauge(c, name):
    r = c.request("GET", "/?action=metrics", headers={"Authorization": "Bearer " + MONITOR})
    return parse_metrics(r.body.decode())[(name, ())]


def wait_gauge(c, want, timeout=10):
    deadline = time.time() + timeout
    while True:
        v = gauge(c, "r2mpu_parts_in_flight")
        if v == want or time.time() > deadline:
            return v
        time.sleep(0.1)


def busy_with_a_part(pids, root):
    """The r2mpu processes holding a file of the store open: writing a part."""
    busy = []
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(root + "/"):
                    busy.append(pid)
                    break
            except OSError:
                pass
    return busy


def in_flight(server, t, root):
    """Three parts streaming: 3 in flight; one process killed mid-part: 2; all done: 0."""
    c = t.c
    uid = api.expect(t.request("POST", "/ops/flight?action=mpu-create", body=b""),
                     200).json()["uploadId"]
    # lighttpd gives each of the 4 processes one request: 3 stream, one answers the scrapes.
    parts = [SlowPart(server.port, "ops/flight", uid, n, 4 * api.MiB) for n in (1, 2, 3)]
    try:
        check("parts in flight: 3 while 3 parts stream", wait_gauge(c, 3) == 3)
        busy = []
        deadline = time.time() + 10
        while len(busy) < 3 and time.time() < deadline:
            busy = busy_with_a_part(server.r2mpu_pids(), root)
            time.sleep(0.05)
        check("parts in flight: 3 processes hold a part's file", len(busy) == 3, busy)
        if busy:
            os.kill(busy[0], signal.SIGKILL)
        check("parts in flight: a process killed mid-part no longer counts (2)",
              wait_gauge(c, 2) == 2)
    finally:
        for p in parts:
            p.release()
    check("parts in flight: 0 once the parts are answered", wait_gauge(c, 0) == 0)
    answered = sorted(p.answer.split(b" ", 2)[1] if p.answer else b"-" for p in parts)
    check("parts in flight: the two parts not killed were stored", answered.count(b"200") == 2,
          answered)


def default_metrics_file(env):
    """Where r2mpu keeps the counts for these settings: `check` says."""
    out = subprocess.run([BIN, "check"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    m = re.search(r"^metrics: kept in (\S+)$", out.stdout, re.M)
    assert m, out
    return m.group(1)


def metrics_pool(sandbox):
    root = os.path.join(sandbox, "store-pool")
    tokens = servers.write_tokens(os.path.join(sandbox, "tokens"),
                                  "%s rwd *\n%s m docs/\n%s r *\n" % (WRITER, MONITOR, READER),
                                  "lighttpd")
    settings = {"R2MPU_FS_ROOT": root, "R2MPU_TOKENS_FILE": tokens, "R2MPU_PROCS": "4"}
    os.makedirs(root)
    shm = default_metrics_file(dict(os.environ, **settings, R2MPU_CONFIG="",
                                    R2MPU_METRICS_FILE=""))
    check("metrics: by default in /dev/shm, named for this user, store and mount",
          re.fullmatch(r"/dev/shm/r2mpu-metrics-v1-%d-[0-9a-f]{16}" % os.geteuid(), shm), shm)
    log = os.path.join(sandbox, "pool.log")
    # "": r2mpu's own default (the suites' servers get a scratch file otherwise)
    server = Lighttpd(dict(settings, R2MPU_CONFIG="", R2MPU_METRICS_FILE=""), log)
    try:
        with server as c:
            t = Tally(c)

            def pids_seen():
                return set(re.findall(r" r2mpu\[(\d+)\] [0-9a-f]{16}: request ", open(log).read()))
            calls = known_sequence(t)
            check_scrape(t, calls, pids_seen)
            check("metrics: the shared file exists, only its user may read it",
                  os.stat(shm).st_mode & 0o077 == 0, oct(os.stat(shm).st_mode))
            in_flight(server, t, root)
    finally:
        if os.path.exists(shm):
            os.unlink(shm)
    check("metrics: no sanitizer report", not sanitizer_reports(log), sanitizer_reports(log))


def metrics_cgi(sandbox):
    """CGI: a process per request, all counting into one file; and metrics off."""
    root = os.path.join(sandbox, "store-cgi")
    os.makedirs(root)
    env = {"R2MPU_CONFIG": "", "R2MPU_FS_ROOT": root, "R2MPU_OPEN_ACCESS": "yes",
           "HTTP_HOST": "127.0.0.1", "R2MPU_METRICS_FILE": os.path.join(sandbox, "cgi.metrics")}
    c = CgiClient(BIN, env)
    for i in range(3):
        api.expect(api.get(c, "cgi/none%d" % i), 404)
    r = api.expect(c.request("GET", "/?action=metrics"), 200)
    m = parse_metrics(r.body.decode())
    check("metrics, CGI: three processes' requests in one file",
          m.get(("r2mpu_requests_total", (("action", "get"), ("status", "404")))) == 3 and
          m.get(("r2mpu_metrics_shared", ())) == 1, r.body[:300])
    off = CgiClient(BIN, dict(env, R2MPU_METRICS="0"))
    r = off.request("GET", "/?action=metrics")
    check("metrics off: 404 MetricsOff", r.status == 404 and r.header("x-r2mpu-error") == "MetricsOff", r)
    # A file someone else could read is not used: the counts are the process's own, and it says so.
    bad = os.path.join(sandbox, "readable.metrics")
    open(bad, "w").close()
    os.chmod(bad, 0o644)
    r = CgiClient(BIN, dict(env, R2MPU_METRICS_FILE=bad)).request("GET", "/?action=metrics")
    m = parse_metrics(r.body.decode())
    check("metrics: a file others may read is refused (counts this process's own)",
          r.status == 200 and m[("r2mpu_metrics_shared", ())] == 0 and os.path.getsize(bad) == 0, r)


def metrics_standalone(sandbox):
    """Standalone behind nginx: 8 workers, forked by the master after it mapped the counts."""
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-standalone"),
                "R2MPU_OPEN_ACCESS": "yes", "R2MPU_CONFIG": "",
                "R2MPU_METRICS_FILE": os.path.join(sandbox, "standalone.metrics")}
    log = os.path.join(sandbox, "standalone.log")
    with Nginx(settings, log, sandbox) as c:
        def misses(i):
            for j in range(4):
                api.expect(api.get(c, "st/none%d-%d" % (i, j)), 404)
        threads = [threading.Thread(target=misses, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        m = parse_metrics(api.expect(c.request("GET", "/?action=metrics"), 200).body.decode())
    pids = set(re.findall(r" r2mpu\[(\d+)\] [0-9a-f]{16}: request ", open(log).read()))
    check("metrics, standalone: 32 requests of %d workers counted together" % len(pids),
          m.get(("r2mpu_requests_total", (("action", "get"), ("status", "404")))) == 32 and
          m.get(("r2mpu_metrics_shared", ())) == 1 and len(pids) >= 2, (pids, m))


CREATE_HOOK = r"""#!/bin/sh
env > "$HOOK_DIR/create.$R2MPU_REQUEST_ID"
echo "$*" >> "$HOOK_DIR/create.$R2MPU_REQUEST_ID"
case "$R2MPU_KEY" in
quota/*) printf 'quota exceeded for \033[31malice\nsecond line\n'; exit 3;;
hang/*) sleep 60 & echo $! > "$HOOK_DIR/hang.pid"; sleep 60;;
esac
exit 0
"""
COMPLETE_HOOK = r"""#!/bin/sh
env > "$HOOK_DIR/complete.$R2MPU_REQUEST_ID.tmp"
mv "$HOOK_DIR/complete.$R2MPU_REQUEST_ID.tmp" "$HOOK_DIR/complete.$R2MPU_REQUEST_ID"
case "$R2MPU_KEY" in
fail/*) echo "no room for $R2MPU_KEY"; exit 4;;
slow/*) echo $$ > "$HOOK_DIR/complete-hang.pid"; sleep 60;;
esac
"""


def env_of(path):
    """A hook's `env` output: {name: value}."""
    out = {}
    for line in open(path).read().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            out[name] = value
    return out


def wait_file(path, timeout=10):
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    return os.path.exists(path)


def running(pid):
    """Alive, and not a zombie waiting for init to reap it."""
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (OSError, IndexError):
        return False


def upload_small(c, key):
    uid = api.create(c, key)
    p = api.put_part(c, key, uid, 1, api.data(1000, 5))
    t0 = time.time()
    r = api.expect(api.complete(c, key, uid, [p]), 200)
    return r, time.time() - t0, uid


def hooks(sandbox):
    hook_dir = os.path.join(sandbox, "hooks")
    os.makedirs(hook_dir)
    os.chmod(hook_dir, 0o777)
    paths = {}
    for name, text in (("create", CREATE_HOOK), ("complete", COMPLETE_HOOK)):
        paths[name] = os.path.join(hook_dir, name + ".sh")
        with open(paths[name], "w") as f:
            f.write(text.replace("$HOOK_DIR", hook_dir))   # its environment is r2mpu's
        os.chmod(paths[name], 0o755)
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-hooks"), "R2MPU_OPEN_ACCESS": "yes",
                "R2MPU_CONFIG": "", "R2MPU_PROCS": "2", "R2MPU_HOOK_CREATE": paths["create"],
                "R2MPU_HOOK_COMPLETE": paths["complete"], "R2MPU_HOOK_TIMEOUT": "5",
                "HOOK_DIR": hook_dir}
    log = os.path.join(sandbox, "hooks.log")
    with Lighttpd(settings, log) as c:
        # Allowed, and told who and what, every client byte percent-encoded.
        key = 'ok/a b$(touch PWNED)"\';`x`'
        r = c.request("POST", api.path(key) + "?action=mpu-create",
                      headers={"Content-Type": 'text/plain; name="$(id)"', "X-Request-Id": "hook-1"},
                      body=b"")
        check("create hook: exit 0 lets the create through", r.status == 200, r)
        e = env_of(os.path.join(hook_dir, "create.hook-1"))
        check("create hook: the key and metadata percent-encoded, the credential named",
              e.get("R2MPU_KEY") == "ok/a%20b%24%28touch%20PWNED%29%22%27%3B%60x%60" and
              e.get("R2MPU_META_CONTENT_TYPE") == "text/plain%3B%20name%3D%22%24%28id%29%22" and
              e.get("R2MPU_CREDENTIAL") == "open" and e.get("R2MPU_HOOK") == "create", e)
        check("create hook: run as `PATH create`, with PATH and R2MPU_ variables only",
              open(os.path.join(hook_dir, "create.hook-1")).read().splitlines()[-1] == "create" and
              set(k for k in e if not k.startswith("R2MPU_")) <= {"PATH", "PWD", "SHLVL", "_"} and
              "HOOK_DIR" not in e and "R2MPU_FS_ROOT" not in e, sorted(e))
        # Refused: 403 with the first line, made safe.
        r = c.request("POST", "/quota/x?action=mpu-create", body=b"")
        check("create hook: a non-zero exit is 403 HookRefused with its first line, made safe",
              r.status == 403 and r.header("x-r2mpu-error") == "HookRefused" and
              r.body == b"quota exceeded for ?[31malice", r)
        check("create hook: a refused create stores nothing",
              api.get(c, "quota/x").status == 404 and
              b'"quota/x"' not in c.request("GET", "/?action=mpu-list").body)
        # Hangs: the other process serves meanwhile; 503 at the timeout; all of it killed.
        result = {}

        def hanging():
            t0 = time.time()
            result["r"] = c.request("POST", "/hang/x?action=mpu-create", body=b"")
            result["s"] = time.time() - t0
        th = threading.Thread(target=hanging)
        th.start()
        wait_file(os.path.join(hook_dir, "hang.pid"))
        t0 = time.time()
        other = api.get(c, "nothing/here")
        served = time.time() - t0
        th.join(30)
        r = result.get("r")
        check("create hook: a hanging hook does not hold up the other process (%.2f s)" % served,
              other.status == 404 and served < 3, served)
        check("create hook: a hanging hook is 503 HookFailed after the timeout (%.1f s)"
              % result.get("s", -1),
              r is not None and r.status == 503 and r.header("x-r2mpu-error") == "HookFailed" and
              4.8 <= result["s"] < 12, r)
        bg = int(open(os.path.join(hook_dir, "hang.pid")).read())
        deadline = time.time() + 10      # SIGKILL is sent; its death comes a moment later
        while running(bg) and time.time() < deadline:
            time.sleep(0.05)
        check("create hook: what the hanging hook started is killed too", not running(bg), bg)
        check("create hook: the timeout is logged", "the create hook did not finish within 5 s"
              in open(log).read())
        # Complete: told the object's size and ETag; failing or hanging changes nothing.
        r, took, uid = upload_small(c, "done/obj")
        rid = r.header("x-request-id")
        ok = wait_file(os.path.join(hook_dir, "complete." + rid))
        e = env_of(os.path.join(hook_dir, "complete." + rid)) if ok else {}
        check("complete hook: told key, size, ETag, upload id and credential",
              e.get("R2MPU_KEY") == "done/obj" and e.get("R2MPU_SIZE") == "1000" and
              '"%s"' % e.get("R2MPU_ETAG") == r.header("etag") and
              e.get("R2MPU_UPLOAD_ID") == uid and e.get("R2MPU_CREDENTIAL") == "open", e)
        r, took, _ = upload_small(c, "fail/obj")
        rid = r.header("x-request-id")
        deadline = time.time() + 10
        while "the complete hook exited non-zero" not in open(log).read() and \
                time.time() < deadline:
            time.sleep(0.05)
        check("complete hook: a failure is logged with the request's id and its line, the "
              "object kept", re.search(r" %s: the complete hook exited non-zero: no room for "
                                       r"fail/obj" % rid, open(log).read()) and
              api.get(c, "fail/obj").status == 200)
        r, took, _ = upload_small(c, "slow/obj")
        check("complete hook: the complete does not wait for a hanging hook (%.2f s)" % took,
              r.status == 200 and took < 3, took)
        r, took, _ = upload_small(c, "slow/obj2")   # a second one, likely on the same process
        # Both processes look idle to lighttpd now: neither may hold a request back.
        t0 = time.time()
        statuses = [api.get(c, "nothing/%d" % i).status for i in range(6)]
        after = time.time() - t0
        check("complete hook: requests right after it are not held up (%.2f s for 6)" % after,
              statuses == [404] * 6 and after < 3, (statuses, after))
        ok = wait_file(os.path.join(hook_dir, "complete-hang.pid"))
        pid = int(open(os.path.join(hook_dir, "complete-hang.pid")).read()) if ok else 0
        deadline = time.time() + 10
        # Gone first, then its watcher reaps it and logs: wait for both.
        while pid and (running(pid) or "the complete hook did not finish within 5 s"
                       not in open(log).read()) and time.time() < deadline:
            time.sleep(0.1)
        check("complete hook: a hanging one is killed after the timeout, and logged",
              pid and not running(pid) and
              "the complete hook did not finish within 5 s" in open(log).read(), pid)
    # A hook that cannot run: r2mpu refuses to start, saying which.
    p = subprocess.run([BIN, "check"], env=dict(settings, R2MPU_HOOK_CREATE=hook_dir + "/none"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("hooks: one that cannot run fails the check, named",
          p.returncode == 1 and "R2MPU_HOOK_CREATE" in p.stderr, p.stderr)
    check("hooks: no sanitizer report", not sanitizer_reports(log), sanitizer_reports(log))


def hooks_cgi(sandbox):
    """Plain CGI: the answer ends (stdout and stderr closed) without waiting for the
    complete hook; a create hook's refusal holds when SIGCHLD came ignored."""
    hooks = {}
    for name, text in (("complete", "#!/bin/sh\nsleep 5\n"), ("create", "#!/bin/sh\nexit 1\n")):
        hooks[name] = os.path.join(sandbox, "cgi-%s.sh" % name)
        with open(hooks[name], "w") as f:
            f.write(text)
        os.chmod(hooks[name], 0o755)
    root = os.path.join(sandbox, "store-cgi-hooks")
    os.makedirs(root)
    env = dict(os.environ, R2MPU_CONFIG="", R2MPU_FS_ROOT=root, R2MPU_OPEN_ACCESS="yes",
               HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1", GATEWAY_INTERFACE="CGI/1.1",
               SCRIPT_NAME="", R2MPU_HOOK_COMPLETE=hooks["complete"], R2MPU_METRICS="0")
    c = CgiClient(BIN, env)
    uid = api.create(c, "cgi/obj")
    p = api.put_part(c, "cgi/obj", uid, 1, api.data(1000, 5))
    body = ('{"parts":[{"partNumber":1,"etag":"%s"}]}' % p["etag"]).encode()
    # As a web server reads a CGI script: its output to the end, not its exit.
    t0 = time.time()
    proc = subprocess.Popen([BIN], env=dict(env, REQUEST_METHOD="POST", PATH_INFO="/cgi/obj",
                                            QUERY_STRING="action=mpu-complete&uploadId=" + uid,
                                            CONTENT_LENGTH=str(len(body))),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(body)
    proc.stdin.close()
    out = proc.stdout.read()
    err = proc.stderr.read()
    took = time.time() - t0
    proc.wait(30)
    check("complete hook, CGI: stdout and stderr end without waiting for the hook (%.2f s)" % took,
          out.startswith(b"Status: 200") and took < 3 and b"request" in err, (took, out[:80]))
    # SIGCHLD ignored by whoever started r2mpu: the hook's refusal is still seen.
    r = subprocess.run([BIN], env=dict(env, REQUEST_METHOD="POST", PATH_INFO="/cgi/refused",
                                       QUERY_STRING="action=mpu-create", CONTENT_LENGTH="0",
                                       R2MPU_HOOK_CREATE=hooks["create"]),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    check("create hook, CGI: refused (403) also when SIGCHLD came ignored",
          r.stdout.startswith(b"Status: 403"), r.stdout[:80])
    # Apache's mod_cgid: one socket is the script's stdin and stdout.
    out = os.path.join(sandbox, "cgid-out")
    os.makedirs(out)
    os.chmod(out, 0o777)              # the hook, as www-data, writes its pid here
    pidfile = os.path.join(out, "hook.pid")
    slow = os.path.join(sandbox, "cgid-complete.sh")
    with open(slow, "w") as f:
        f.write("#!/bin/sh\necho $$ > %s\nsleep 60\n" % pidfile)
    os.chmod(slow, 0o755)
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-cgid"), "R2MPU_OPEN_ACCESS": "yes",
                "R2MPU_HOOK_COMPLETE": slow, "R2MPU_HOOK_TIMEOUT": "4"}
    log = os.path.join(sandbox, "cgid.log")
    with Apache("cgi", settings, log, sandbox) as ac:
        r, took, _ = upload_small(ac, "cgid/obj")
        check("complete hook, Apache mod_cgid: answered without waiting for the hook (%.2f s)"
              % took, r.status == 200 and took < 3, took)
        ok = wait_file(pidfile)
        pid = int(open(pidfile).read()) if ok else 0
        deadline = time.time() + 15
        while pid and running(pid) and time.time() < deadline:
            time.sleep(0.1)
        check("complete hook, Apache mod_cgid: the hook killed at its timeout (4 s)",
              pid and not running(pid), pid)


def main():
    sandbox = tempfile.mkdtemp(prefix="r2mpu-ops-")
    os.chmod(sandbox, 0o755)
    try:
        for fn in (metrics_cgi, metrics_pool, metrics_standalone, hooks, hooks_cgi):
            try:
                fn(sandbox)
            except Exception as e:  # a case that breaks is a failure, and the rest go on
                import traceback
                traceback.print_exc()
                check("%s ran to its end" % fn.__name__, False, e)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("operations")


if __name__ == "__main__":
    sys.exit(main())
