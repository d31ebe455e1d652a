#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/client/client.py: r2mpu-client against real gateways, through a fault injector.

The gateway is the shipped lighttpd config with r2mpu's fs store, tokens and a signing
secret; between it and the client stands tests/s3/faulty_proxy.py (a FAKE network
path: it passes bytes on, or answers 500/503, hangs, hangs up or corrupts a body when
told to). Its log is what the gateway was asked, request by request: which parts a
resumed upload sent again is read there. `check` runs against Apache with mod_fcgid at
its 128 KiB default, Apache without CGIPassAuth and nginx at its 1 MiB body limit.

    client.py            every case (R2MPU_CLIENT names another build of the client)
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from lib import BIN, TOP, servers
from lib.api import MiB, data, mp_etag
from lib.checks import Logs, check, summary
from lib.clients import BearerClient
from lib.proxy import FaultyProxy

CLIENT = os.path.abspath(os.environ.get("R2MPU_CLIENT") or
                         os.path.join(TOP, "build", "r2mpu-client"))
SECRET = "client-suite-secret-0123456789abcdef"
TOKEN = "tok-client-rwd-5e1f0c9a7b3d"
TOKEN_READ = "tok-client-r-2a4c6e8f0b1d"
TOKENS = "%s rwd *\n%s r *\n" % (TOKEN, TOKEN_READ)
PART = 5 * MiB


def run(args, token=TOKEN, stdin=None, input=None, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "R2MPU_TOKEN"}
    if token:
        env["R2MPU_TOKEN"] = token
    return subprocess.run([CLIENT] + args, env=env, stdin=stdin, input=input,
                          capture_output=True, timeout=timeout)


def start(args):
    """The client in the background, with the token."""
    return subprocess.Popen([CLIENT] + args, env=dict(os.environ, R2MPU_TOKEN=TOKEN),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def text(p):
    return "rc=%d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout.decode(errors="replace")[-800:],
                                             p.stderr.decode(errors="replace")[-1500:])


def write(path, body):
    with open(path, "wb") as f:
        f.write(body)
    return path


def parts_of(body, part):
    return [body[i:i + part] for i in range(0, len(body), part)]


class Suite:
    def __init__(self, sandbox, gw, px):
        self.sandbox = sandbox
        self.gw = BearerClient(gw, TOKEN)    # straight to the gateway, for reading back
        self.px = px
        self.url = "http://127.0.0.1:%d/" % px.port

    def path(self, name):
        return os.path.join(self.sandbox, name)

    def stored(self, key):
        r = self.gw.request("GET", "/%s?action=get" % key)
        return r.body if r.status == 200 else None

    def pending(self, key):
        r = self.gw.request("GET", "/%s?action=mpu-list" % key)
        return [u for u in r.json()["uploads"] if u["key"] == key] if r.status == 200 else None

    def ops(self, op=None, method=None):
        return [e for e in self.px.log() if (op is None or e["op"] == op) and
                (method is None or e["method"] == method)]


def part_numbers(entries):
    return sorted(int(re.search(r"partNumber=(\d+)", e["target"]).group(1)) for e in entries)


def wait_for(cond, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


# ---- uploads ---------------------------------------------------------------------

def uploads(s):
    body = data(43 * MiB, 1)
    f = write(s.path("a.bin"), body)
    p = run(["upload", "--part-size", "5M", f, s.url + "up/a.bin"])
    want = mp_etag(parts_of(body, PART))
    check("upload with a token: exit 0, the last line gives key, ETag and size",
          p.returncode == 0 and p.stdout.decode().strip().splitlines()[-1] ==
          'uploaded up/a.bin: ETag "%s", %d bytes' % (want, len(body)), text(p))
    check("the object reads back identical", s.stored("up/a.bin") == body)
    parts = s.ops("mpu-uploadpart")
    check("9 parts of 5 MiB, each sent once, each with its length",
          part_numbers(parts) == list(range(1, 10)) and
          all(e["length"] == PART for e in parts if not e["target"].endswith("=9")),
          [(e["target"][-14:], e["length"]) for e in parts])
    s.px.forget()

    p = run(["upload", f, s.url + "up/a.bin"], token=None)
    check("no token: exit 3 (auth) with the gateway's 401",
          p.returncode == 3 and b"401" in p.stderr, text(p))

    p = run(["upload", "--json", "--part-size", "5M", f, s.url + "up/json.bin"])
    try:
        j = json.loads(p.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        j = {}
    check("--json: one object with key, etag, size, parts", p.returncode == 0 and
          j.get("ok") is True and j.get("key") == "up/json.bin" and
          j.get("etag") == '"%s"' % want and j.get("size") == len(body) and
          j.get("parts") == 9 and j.get("partsSent") == 9, text(p))

    empty = write(s.path("empty"), b"")
    p = run(["upload", empty, s.url + "up/empty"])
    check("an empty file: a 0-byte object with the MD5 of nothing",
          p.returncode == 0 and s.stored("up/empty") == b"" and
          b"d41d8cd98f00b204e9800998ecf8427e" in p.stdout, text(p))

    exact = data(10 * MiB, 2)
    f2 = write(s.path("exact"), exact)
    p = run(["upload", "--part-size", "5M", f2, s.url + "up/exact"])
    check("an exact multiple of the part size: 2 equal parts, ETag -2",
          p.returncode == 0 and s.stored("up/exact") == exact and
          mp_etag(parts_of(exact, PART)).encode() in p.stdout, text(p))

    piped = data(12 * MiB + 7, 3)
    p = run(["upload", "--part-size", "5M", "-", s.url + "up/piped"], input=piped)
    check("stdin from a pipe: spooled part by part, the object identical",
          p.returncode == 0 and s.stored("up/piped") == piped, text(p))
    with open(f2, "rb") as fh:
        p = run(["upload", "-", s.url + "up/redirected"], stdin=fh)
    check("stdin redirected from a file: sent as a file", p.returncode == 0 and
          s.stored("up/redirected") == exact, text(p))

    huge = s.path("huge")
    with open(huge, "wb") as fh:
        fh.truncate(5 * 1024 * 1024 * MiB)
    p = run(["upload", "--plan", "--json", huge])
    plan = json.loads(p.stdout) if p.returncode == 0 else {}
    check("--plan for 5 TiB: at most 10,000 equal parts of whole MiB, nothing sent",
          plan.get("size") == 5 * 1024 * 1024 * MiB and plan.get("parts", 10001) <= 10000 and
          plan.get("partSize", 1) % MiB == 0 and
          (plan["parts"] - 1) * plan["partSize"] + plan["lastPartSize"] == plan["size"], text(p))
    p = run(["upload", "--plan", huge + "x"])
    check("--plan of a missing file: exit 1 and its name", p.returncode == 1 and b"hugex" in p.stderr,
          text(p))
    with open(huge, "r+b") as fh:
        fh.truncate(5 * 1024 * 1024 * MiB + 1)
    p = run(["upload", "--plan", huge])
    check("--plan over 5 TiB: refused (exit 2) with R2's limit", p.returncode == 2 and
          b"5 TiB" in p.stderr, text(p))
    os.unlink(huge)
    s.px.forget()


def bad_input(s):
    f = s.path("a.bin")
    for args, why in ((["upload", f, "http://u:pw@127.0.0.1:1/k"], "credentials in the URL"),
                      (["upload", f, "ftp://127.0.0.1/k"], "another scheme"),
                      (["upload", f, s.url + "k?action=get"], "an action in the URL"),
                      (["upload", "--jobs", "0", f, s.url + "k"], "--jobs 0"),
                      (["upload", "--part-size", "4M", f, s.url + "k"], "a part under 5 MiB"),
                      (["upload", f], "no URL"),
                      (["frobnicate"], "an unknown command"),
                      (["upload", "--bogus", f, s.url + "k"], "an unknown option")):
        p = run(args)
        check("refused, exit 2: %s" % why, p.returncode == 2 and p.stderr.strip() and
              b"pw" not in p.stderr.replace(b"password", b""), text(p))
    p = run(["upload", s.sandbox, s.url + "k"])
    check("a directory: exit 1, said so", p.returncode == 1 and b"directory" in p.stderr, text(p))
    check("nothing reached the gateway", not s.ops(), s.ops())


# ---- failures: retried, or not --------------------------------------------------------

def retries(s):
    body = data(31 * MiB, 4)
    f = write(s.path("r.bin"), body)
    s.px.forget()
    s.px.fault(op="mpu-uploadpart", action="error", status=500, times=2)
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/500"])
    check("two parts answered 500: retried, exit 0, the object identical",
          p.returncode == 0 and s.stored("retry/500") == body and
          len(s.px.hits("mpu-uploadpart")) == 2, text(p))
    s.px.forget()
    s.px.faults({"op": "mpu-create", "action": "cut", "times": 1},
                {"op": "mpu-uploadpart", "action": "cut", "times": 2},
                {"op": "mpu-uploadpart", "action": "cut_request", "after": 4096, "times": 1},
                {"op": "mpu-complete", "action": "error", "status": 503, "times": 1,
                 "headers": {"X-R2mpu-Error": "StoreBusy", "Retry-After": "1"}})
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/cut"])
    faulted = [e["op"] for e in s.ops() if e["fault"]]
    check("hang-ups (create, parts mid-body) and a 503 with Retry-After on complete: "
          "retried, exit 0, the object identical",
          p.returncode == 0 and s.stored("retry/cut") == body and len(faulted) == 5, (faulted, text(p)))
    s.px.clear()
    s.px.forget()
    s.px.fault(op="mpu-uploadpart", action="error", status=503, times=3,
               headers={"X-R2mpu-Error": "StoreBusy"})
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/503"])
    check("503 StoreBusy three times: retried, exit 0", p.returncode == 0 and
          s.stored("retry/503") == body and len(s.px.hits("mpu-uploadpart")) == 3, text(p))
    s.px.clear()
    s.px.forget()
    s.px.fault(op="mpu-complete", action="cut", forward=True, times=1)
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/complete"])
    check("a complete whose answer was lost: the retry's 404 is checked against the "
          "object's ETag, exit 0", p.returncode == 0 and s.stored("retry/complete") == body,
          text(p))
    s.px.clear()

    s.px.forget()
    s.px.fault(op="mpu-uploadpart", action="garbage", status=403, times=1, skip=2,
               body="Forbidden: the token may not write here", content_type="text/plain",
               headers={"X-R2mpu-Error": "AccessDenied"})
    p = run(["upload", "--jobs", "1", "--part-size", "5M", f, s.url + "retry/403"])
    sent = part_numbers(s.ops("mpu-uploadpart"))
    check("a 403 on part 3: exit 3 at once, the gateway's message shown, part 3 sent once",
          p.returncode == 3 and b"may not write here" in p.stderr and sent == [1, 2, 3], text(p))
    check("... and the upload aborted (no --keep)", s.ops("mpu-abort") and
          s.pending("retry/403") == [], s.ops("mpu-abort"))
    s.px.clear()

    s.px.fault(op="mpu-uploadpart", action="error", status=400, times=1,
               headers={"X-R2mpu-Error": "InvalidArgument"})
    p = run(["upload", "--keep", "--part-size", "5M", f, s.url + "retry/keep"])
    kept = s.pending("retry/keep") or []
    check("a 400 with --keep: exit 7, the upload kept", p.returncode == 7 and len(kept) == 1,
          text(p))
    p = run(["list", s.url + "retry/"])
    check("list shows the kept upload", p.returncode == 0 and kept and
          kept[0]["uploadId"].encode() in p.stdout, text(p))
    if kept:
        p = run(["abort", s.url + "retry/keep", kept[0]["uploadId"]])
        check("abort ends it", p.returncode == 0 and s.pending("retry/keep") == [], text(p))
    p = run(["abort", s.url + "retry/keep", "no-such-id"])
    check("abort of an unknown upload: exit 4", p.returncode == 4, text(p))
    s.px.clear()

    s.px.fault(op="mpu-uploadpart", action="flip", after=1000, times=1)
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/flipped"])
    check("a part corrupted on the way: the gateway's BadDigest (Content-MD5 was sent), "
          "exit 5, nothing stored", p.returncode == 5 and b"BadDigest" in p.stderr and
          s.stored("retry/flipped") is None, text(p))
    s.px.clear()
    s.px.forget()

    s.px.fault(op="mpu-uploadpart", action="error", status=500, times=-1)
    p = run(["upload", "--retries", "2", "--part-size", "5M", f, s.url + "retry/spent"])
    hits = s.px.hits("mpu-uploadpart")
    check("500 every time: exit 6 after 3 attempts of a part", p.returncode == 6 and
          len(part_numbers(hits)) >= 3 and max(part_numbers(hits).count(n)
                                               for n in part_numbers(hits)) == 3, text(p))
    s.px.clear()
    kept = s.pending("retry/spent") or []
    check("... the upload kept, to resume (a failing gateway is no reason to lose parts)",
          len(kept) == 1 and b"run the same command again" in p.stderr, (kept, text(p)))
    p = run(["upload", "--part-size", "5M", f, s.url + "retry/spent"])
    check("... and run again, it completes", p.returncode == 0 and
          s.stored("retry/spent") == body and s.pending("retry/spent") == [], text(p))
    s.px.forget()


# ---- resume --------------------------------------------------------------------------

def resume(s):
    body = data(40 * MiB + 5, 5)
    f = write(s.path("resume.bin"), body)
    s.px.forget()
    s.px.fault(op="mpu-uploadpart", action="stall", skip=4)
    proc = start(["upload", "--jobs", "2", "--part-size", "5M", f, s.url + "resume/big.bin"])
    done = lambda: [e for e in s.ops("mpu-uploadpart") if e["status"] == 200]
    ok = wait_for(lambda: len(done()) >= 4 and len(s.px.hits("mpu-uploadpart")) >= 2)
    proc.kill()
    proc.communicate()
    first = part_numbers(done())
    check("4 parts stored, then the client killed (SIGKILL) mid-part", ok and len(first) == 4,
          first)
    s.px.clear()
    s.px.forget()
    p = run(["upload", "--json", "--part-size", "5M", f, s.url + "resume/big.bin"])
    again = part_numbers(s.ops("mpu-uploadpart"))
    check("run again: resumed, only the 5 missing parts sent", p.returncode == 0 and
          again == sorted(set(range(1, 10)) - set(first)), (again, first, text(p)))
    check("... found by mpu-list and mpu-listparts, no new upload",
          len(s.ops("mpu-list")) == 1 and len(s.ops("mpu-listparts")) == 1 and
          not s.ops("mpu-create"), [e["op"] for e in s.ops()])
    check("... the object identical, the upload gone", s.stored("resume/big.bin") == body and
          s.pending("resume/big.bin") == [])

    # A part that is on the gateway but is not the file's (another file of the same size).
    s.px.fault(op="mpu-uploadpart", action="error", status=400, skip=3, times=-1,
               headers={"X-R2mpu-Error": "InvalidArgument"})
    other = data(len(body), 6)
    write(f, other[:6 * MiB] + body[6 * MiB:])   # part 1 differs, part 2 half
    p = run(["upload", "--keep", "--jobs", "1", "--part-size", "5M", f, s.url + "resume/v.bin"])
    s.px.clear()
    write(f, body)
    s.px.forget()
    p = run(["upload", "--part-size", "5M", f, s.url + "resume/v.bin"])
    check("resumed parts whose MD5 is not the file's are sent again (parts 1, 2; 3 kept)",
          p.returncode == 0 and part_numbers(s.ops("mpu-uploadpart")) ==
          [1, 2] + list(range(4, 10)) and s.stored("resume/v.bin") == body,
          (part_numbers(s.ops("mpu-uploadpart")), text(p)))

    # SIGINT: the upload is kept, and the message says how to go on.
    s.px.forget()
    s.px.fault(op="mpu-uploadpart", action="stall", skip=2)
    proc = start(["upload", "--jobs", "1", "--part-size", "5M", f, s.url + "resume/int.bin"])
    wait_for(lambda: len(s.px.hits("mpu-uploadpart")) >= 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    s.px.clear()
    check("SIGINT: exit 1, the upload kept, 'run the same command again' said",
          proc.returncode == 1 and b"run the same command again" in err and
          len(s.pending("resume/int.bin") or []) == 1, (proc.returncode, err[-500:]))
    s.px.forget()


def signed(s):
    body = data(11 * MiB, 7)
    f = write(s.path("signed.bin"), body)
    env = dict(os.environ, R2MPU_SIGNING_SECRET=SECRET)
    url = subprocess.run([BIN, "sign", "--rights", "w", "signed/one.bin"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    p = run(["upload", "--part-size", "5M", f, s.url.rstrip("/") + url], token=None)
    check("a signed URL, no token: exit 0, the object identical",
          p.returncode == 0 and s.stored("signed/one.bin") == body, text(p))
    s.px.forget()
    p = run(["upload", "--part-size", "5M", f, s.url.rstrip("/") + url])
    check("a signed URL with R2MPU_TOKEN set: the token is sent with no request "
          "(the URL's issuer must never see it)",
          p.returncode == 0 and s.ops() and not any(e["authorization"] for e in s.ops()),
          (text(p), [e for e in s.ops() if e["authorization"]][:2]))
    sig = re.search(r"r2mpu-signature=([0-9a-f]+)", url).group(1)
    p = run(["upload", "-v", f, s.url.rstrip("/") + url.replace(sig, sig[:-1] + "0"
                                                                if sig[-1] != "0" else sig[:-1] + "1")],
            token=None)
    check("a tampered signed URL: exit 3, and no signature printed in any message",
          p.returncode == 3 and sig.encode()[:20] not in p.stderr and b"r2mpu-signature=..." in
          p.stderr, text(p))
    read = subprocess.run([BIN, "sign", "--rights", "r", "signed/one.bin"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()
    out = s.path("signed.back")
    p = run(["download", s.url.rstrip("/") + read, out], token=None)
    check("download with a signed URL", p.returncode == 0 and open(out, "rb").read() == body,
          text(p))


# ---- downloads ------------------------------------------------------------------------

def stalled_download(s, out):
    """A download, one range at a time, whose second range never comes."""
    s.px.forget()
    s.px.fault(op="get", action="stall", skip=2)   # the HEAD and the first range pass
    return start(["download", "--jobs", "1", s.url + "dl/d.bin", out])


def downloads(s):
    body = data(40 * MiB + 3, 8)
    f = write(s.path("d.bin"), body)
    run(["upload", "--part-size", "6M", f, s.url + "dl/d.bin"])
    out = s.path("d.out")
    s.px.forget()
    p = run(["download", "-v", s.url + "dl/d.bin", out])
    check("download: 3 ranges in parallel, identical, no .part or state left",
          p.returncode == 0 and open(out, "rb").read() == body and
          len(s.ops("get", "GET")) == 3 and not os.path.exists(out + ".part") and
          not os.path.exists(out + ".r2mpu"), text(p))
    check("... its content checked against the multipart ETag (6 MiB parts found)",
          b"If-Match only" not in p.stderr, text(p))
    os.unlink(out)

    proc = stalled_download(s, out)
    state = out + ".r2mpu"
    ok = wait_for(lambda: os.path.exists(state) and "done 100" in open(state).read())
    proc.kill()
    proc.communicate()
    check("interrupted after the first range (its state saved)", ok)
    s.px.clear()
    s.px.forget()
    p = run(["download", s.url + "dl/d.bin", out])
    check("run again: only the 2 missing ranges fetched, identical",
          p.returncode == 0 and len(s.ops("get", "GET")) == 2 and open(out, "rb").read() == body,
          (len(s.ops("get", "GET")), text(p)))
    os.unlink(out)

    # The object changes while a range is on its way: If-Match stops the mix.
    proc = stalled_download(s, out)
    wait_for(lambda: len(s.px.hits("get")) >= 1)
    run(["upload", "--part-size", "5M", write(s.path("d2.bin"), data(40 * MiB + 3, 9)),
         s.url + "dl/d.bin"])
    s.px.clear()
    out_, err = proc.communicate(timeout=60)
    check("the object replaced mid-download: 412, exit 5, nothing half-written kept",
          proc.returncode == 5 and b"changed" in err and not os.path.exists(out) and
          not os.path.exists(out + ".part"), (proc.returncode, err[-600:]))
    p = run(["download", s.url + "dl/none", out])
    check("download of a missing key: exit 4", p.returncode == 4, text(p))

    # A state file whose FILE.part is gone (removed, or its name lost in a crash)
    # describes nothing: every range is fetched again.
    proc = stalled_download(s, out)
    ok = wait_for(lambda: os.path.exists(state) and "done 100" in open(state).read())
    proc.kill()
    proc.communicate()
    os.unlink(out + ".part")
    s.px.clear()
    s.px.forget()
    p = run(["download", s.url + "dl/d.bin", out])
    check("FILE.part removed, its state file kept: all 3 ranges fetched again, identical",
          ok and p.returncode == 0 and len(s.ops("get", "GET")) == 3 and
          open(out, "rb").read() == s.stored("dl/d.bin"), (ok, len(s.ops("get", "GET")), text(p)))
    for f in (out, out + ".part", out + ".r2mpu"):
        if os.path.exists(f):
            os.unlink(f)
    s.px.forget()


# ---- a broken or hostile gateway (the proxy lies in its place) ---------------------------

def hostile(s):
    small = data(1000, 10)
    run(["upload", write(s.path("small.bin"), small), s.url + "hostile/small.bin"])
    out = s.path("small.out")

    s.px.fault(op="get", method="GET", action="garbage", status=206, times=1,
               body="x" * (2 * MiB), headers={"Content-Range": "bytes 0-999/1000"})
    p = run(["download", s.url + "hostile/small.bin", out])
    size = os.path.getsize(out + ".part") if os.path.exists(out + ".part") else 0
    check("a 206 longer than the range asked for: exit 6, nothing written past the range",
          p.returncode == 6 and b"more than" in p.stderr and size <= 1000 and
          not os.path.exists(out), (size, text(p)))
    for f in (out + ".part", out + ".r2mpu"):
        if os.path.exists(f):
            os.unlink(f)

    s.px.fault(op="get", method="GET", action="garbage", status=206, times=1,
               body="y" * 1000, headers={"Content-Range": "bytes 5000-5999/9000"})
    p = run(["download", s.url + "hostile/small.bin", out])
    check("a 206 of other bytes than asked for (its Content-Range): exit 6, no file",
          p.returncode == 6 and b"Content-Range" in p.stderr and not os.path.exists(out), text(p))
    for f in (out + ".part", out + ".r2mpu"):
        if os.path.exists(f):
            os.unlink(f)

    s.px.fault(op="mpu-abort", action="garbage", status=301, times=1,
               headers={"Location": "https://elsewhere.example/"})
    p = run(["abort", s.url + "hostile/small.bin", "some-id"])
    check("a redirect is no success: abort answered 301 exits 7, 'aborted' never said",
          p.returncode == 7 and b"aborted" not in p.stdout and b"301" in p.stderr, text(p))

    s.px.fault(op="mpu-create", action="garbage", status=200, times=1,
               body='{"key": null, "uploadId": null}', content_type="application/json")
    p = run(["check", s.url + "hostile/"])
    check("check: JSON nulls where strings belong: exit 6, said, no crash",
          p.returncode == 6 and b"not r2mpu's JSON" in p.stderr, text(p))

    p = run(["abort", s.url + "hostile/small.bin", "a" * 1100])
    check("an upload id longer than any URL buffer: sent whole, the gateway's 400, no crash",
          p.returncode == 7 and b"uploadId is too long" in p.stderr, text(p))

    # Interrupted while waiting for an answer: exit 1 (local), not a refusal.
    s.px.forget()
    s.px.fault(op="mpu-create", action="stall", times=1)
    proc = start(["upload", s.path("small.bin"), s.url + "hostile/int.bin"])
    wait_for(lambda: s.px.hits("mpu-create"))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    s.px.clear()
    check("SIGINT while the create is unanswered: exit 1, 'interrupted'",
          proc.returncode == 1 and b"interrupted" in err, (proc.returncode, err[-400:]))

    # A pipe that stays silent must not hold a failed upload: part 1 is refused, and the
    # client ends while the producer still sleeps.
    s.px.fault(op="mpu-uploadpart", action="garbage", status=403, times=1,
               body='{"error": "no"}', headers={"X-R2mpu-Error": "AccessDenied"})
    producer = subprocess.Popen(["sh", "-c", "head -c 6000000 /dev/zero; exec sleep 60"],
                                stdout=subprocess.PIPE)
    t = time.monotonic()
    p = run(["upload", "--part-size", "5M", "-", s.url + "hostile/pipe.bin"],
            stdin=producer.stdout, timeout=90)
    took = time.monotonic() - t
    producer.kill()
    producer.wait()
    s.px.clear()
    check("a refused part of a silent pipe: exit 3 without waiting for the pipe's end",
          p.returncode == 3 and took < 30, ("%.1f s" % took, text(p)))
    s.px.forget()


def progress_bar(s):
    """On a terminal: the bar, bytes, rate and ETA, redrawn in place."""
    f = s.path("a.bin")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["R2MPU_TOKEN"] = TOKEN
        os.execv(CLIENT, [CLIENT, "upload", "--jobs", "1", "--part-size", "5M", f,
                          s.url + "bar/a.bin"])
    s.px.fault(op="mpu-uploadpart", action="error", status=503, times=2)
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], 30)
        try:
            chunk = os.read(fd, 4096) if r else b""
        except OSError:
            chunk = b""
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    s.px.clear()
    lines = [l for l in out.decode(errors="replace").split("\r") if "MiB" in l and "%" in l]
    print("   the bar, as drawn:", repr(lines[-1] if lines else out[-200:]))
    check("on a terminal: a progress bar with bytes, percent and rate",
          os.waitstatus_to_exitcode(status) == 0 and
          any(re.search(r"MiB / 43 MiB +\d+% \[[=> ]+\] +[\d.]+ [KMG]iB/s", l) for l in lines),
          out[-600:])


# ---- check: the doctor ----------------------------------------------------------------

def doctor(s, sandbox):
    p = run(["check", s.url + "some/prefix/"])
    check("check on a good gateway: the three steps ok, exit 0",
          p.returncode == 0 and b"the gateway takes uploads" in p.stdout, text(p))
    check("... and nothing left behind", s.pending("some/prefix/") == [])

    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "data-apache"),
                "R2MPU_OPEN_ACCESS": "yes"}
    no_limit = lambda conf: re.sub(r"(?m)^\s*FcgidMaxRequestLen.*$", "", conf)
    with servers.Apache("fcgid", settings, os.path.join(sandbox, "apache.log"), sandbox,
                        edit=no_limit) as c:
        p = run(["check", "http://127.0.0.1:%d/r2mpu/" % c.inner.port])
        check("check, mod_fcgid at its 128 KiB default: the part fails, FcgidMaxRequestLen "
              "named", p.returncode != 0 and b"FcgidMaxRequestLen" in p.stderr, text(p))

    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "data-apache2"),
                "R2MPU_TOKENS_FILE": servers.write_tokens(os.path.join(sandbox, "tokens-apache"),
                                                          TOKENS, "apache-cgi")}
    no_pass = lambda conf: re.sub(r"(?m)^\s*CGIPassAuth.*$", "", conf)
    with servers.Apache("cgi", settings, os.path.join(sandbox, "apache2.log"), sandbox,
                        edit=no_pass) as c:
        p = run(["check", "http://127.0.0.1:%d/r2mpu/" % c.inner.port])
        check("check, Apache without CGIPassAuth: 401 although a token was sent, "
              "CGIPassAuth named", p.returncode == 3 and b"CGIPassAuth" in p.stderr, text(p))

    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "data-nginx"), "R2MPU_OPEN_ACCESS": "yes"}
    default_limit = lambda conf: re.sub(r"client_max_body_size\s+\S+;", "", conf)
    with servers.Nginx(settings, os.path.join(sandbox, "nginx.log"), sandbox,
                       edit=default_limit) as c:
        p = run(["check", "http://127.0.0.1:%d/r2mpu/" % c.inner.port])
        check("check, nginx at its 1 MiB client_max_body_size: 413, named",
              p.returncode == 7 and b"client_max_body_size" in p.stderr, text(p))
        p = run(["check", "http://127.0.0.1:%d/elsewhere/" % c.inner.port])
        check("check, a URL no r2mpu serves: the 404 explained", p.returncode == 4 and
              b"no r2mpu answered" in p.stderr, text(p))
    p = run(["check", "http://127.0.0.1:%d/" % servers.free_port()])
    check("check, nothing listening: said so", p.returncode == 6 and
          b"nothing answers" in p.stderr, text(p))


def main():
    if not os.access(CLIENT, os.X_OK):
        print("client.py: %s is missing: run make first" % CLIENT)
        return 1
    sandbox = tempfile.mkdtemp(prefix="r2mpu-client-")
    os.chmod(sandbox, 0o755)
    settings = {"R2MPU_FS_ROOT": os.path.join(sandbox, "data"), "R2MPU_SIGNING_SECRET": SECRET,
                "R2MPU_TOKENS_FILE": servers.write_tokens(os.path.join(sandbox, "tokens"),
                                                          TOKENS, "lighttpd"),
                "R2MPU_MAX_PART_SIZE": "16M"}
    try:
        with servers.Lighttpd(settings, os.path.join(sandbox, "lighttpd.log")) as gw, \
                FaultyProxy("127.0.0.1:%d" % gw.port, os.path.join(sandbox, "proxy.log")) as px:
            Logs.watch(os.path.join(sandbox, "proxy.log"))
            s = Suite(sandbox, gw, px)
            for case in (uploads, bad_input, retries, resume, signed, downloads, hostile,
                         progress_bar):
                case(s)
            doctor(s, sandbox)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("client")


if __name__ == "__main__":
    sys.exit(main())
