#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/soak.py: load, scale-out, and the proof that r2mpu keeps no state.

    soak.py [--store fs|moto|radosgw] [--keep]

Through real lighttpd with 8 r2mpu processes (R2MPU_PROCS=8):
- warm-up: parts held half-sent until lighttpd has spawned all 8 processes
  (it starts 4 and adds the rest under load), then a full mixed round (below);
  each process's open descriptors and VmRSS are taken after it;
- soak: 20 uploads at once, each with its 8 parts sent in parallel (160
  parts in flight), parts of 5-6 MiB; every object read back and compared by
  SHA-256, length and ETag;
- a mixed round, again 20 uploads at once: aborts while parts are in flight
  (then the key uploaded again), the same part number sent twice at once
  (completed with the etag the client saw last; if the other write landed
  last, complete must refuse it and take the other), parts re-sent after the
  fact (the stale etag refused), plain uploads. Each object must be exactly
  what was completed. Then, on the idle server, an abort while a part streams;
- afterwards: the same processes, with the same descriptors, VmRSS within
  RSS_GROWTH_KIB (skipped for an ASan build, whose LeakSanitizer reports at
  exit are looked for instead), no sanitizer report and no error line in the
  server log, nothing left in the fs store's tmp/ or uploads/, no multipart
  upload left in progress in an S3 store (ListMultipartUploads, via curl).

Stateless: three lighttpd instances, each with its own r2mpu processes, in
front of one store (the S3 server; for fs, one directory they share). An upload
is created through one, its parts go alternately through the other two, it
is completed through the first, and it reads back byte-identical through
each of the three. An abort through one is seen by the others.

moto has races of its own under this load (HTTP 500s that r2mpu passes on as
502 StoreError or turns into 404 NoSuchUpload); they are tolerated only where
they are known, and each one is matched against moto's own log.

Prints `ok  name` or `FAIL name: detail` per check, `time ...` per phase;
exits 0 only when every check passed. R2MPU_TEST_BIN runs another build.
"""

import argparse
import concurrent.futures
import contextlib
import hashlib
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from lib import BIN, api, procs
from lib.checks import RESULTS, check, leftovers, sanitizer_reports
from lib.clients import Response
from lib.servers import Lighttpd, S3Server


def sanitized(binary):
    """Is binary an ASan build (make asan points R2MPU_TEST_BIN at one)?"""
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = sanitized(BIN)

MiB = 1024 * 1024
UPLOADS = 20          # uploads at once
PARTS = 8             # parts per upload, sent in parallel
PROCS = 8             # r2mpu processes behind the soak's lighttpd
# Parts of 5-6 MiB: R2's rules (src/multipart.c multipart_check_sizes) want every
# part but the last to be >= 5 MiB and of one size, the last no larger. So each
# upload draws one size from 5..6 MiB for its parts, and a smaller last part.
PART_MIN, PART_MAX = 5 * MiB, 6 * MiB
MAX_PART_SIZE = "8M"  # R2MPU_MAX_PART_SIZE: room above the largest part (6 MiB)
# VmRSS may grow this much per process between the warm-up and the end. Every
# buffer r2mpu streams with is fixed (256 KiB), and after the warm-up each process
# sits at its steady size (~12 MiB; growth seen here: tens of KiB). A process
# serves ~60 requests in the two rounds, so leaking one stream buffer, or ~9 KiB
# a request (a curl handle, a JSON tree, an XML document), goes over it. Smaller
# leaks are LeakSanitizer's job: run this with R2MPU_TEST_BIN at an ASan build.
RSS_GROWTH_KIB = 512



def timing(what, seconds, nbytes=None):
    rate = " (%.0f MiB, %.0f MB/s)" % (nbytes / MiB, nbytes / seconds / 1e6) if nbytes else ""
    print("time %s: %.1f s%s" % (what, seconds, rate), flush=True)


# ---- data -------------------------------------------------------------------------

def chunk(seed, n, size):
    return random.Random(seed * 100003 + n).randbytes(size)


def sizes_for(seed, nparts):
    """Part sizes of one upload: nparts-1 equal parts of 5-6 MiB, a smaller last one."""
    rng = random.Random(seed)
    size = rng.randint(PART_MIN, PART_MAX)
    return [size] * (nparts - 1) + [rng.randint(1, size - 1)]


class Expected:
    """What an object must be: its size, SHA-256 and multipart ETag."""

    def __init__(self, key, chunks):
        self.key = key
        self.size = sum(len(b) for b in chunks)
        h = hashlib.sha256()
        for b in chunks:
            h.update(b)
        self.sha256 = h.hexdigest()
        self.etag = api.mp_etag(chunks)


def get_digest(c, key):
    """GET key streamed into SHA-256: (status, length, sha256, etag)."""
    conn = http.client.HTTPConnection(c.host, c.port, timeout=120)
    try:
        conn.request("GET", api.path(key) + "?action=get")
        r = conn.getresponse()
        h, n = hashlib.sha256(), 0
        while True:
            b = r.read(MiB)
            if not b:
                break
            h.update(b)
            n += len(b)
        return r.status, n, h.hexdigest(), r.getheader("ETag")
    finally:
        conn.close()


def read_back(clients, objects):
    """Every object through every client, 20 at a time: a list of mismatches."""
    jobs = [(c, o) for o in objects for c in clients]

    def one(job):
        c, o = job
        status, n, sha, etag = get_digest(c, o.key)
        if (status, n, sha, etag) != (200, o.size, o.sha256, '"%s"' % o.etag):
            return "%s via :%d: got %d, %d bytes, sha256 %s..., ETag %s; want %d bytes, %s..., %s" % (
                o.key, c.port, status, n, sha[:12], etag, o.size, o.sha256[:12], o.etag)
        return None
    with concurrent.futures.ThreadPoolExecutor(UPLOADS) as ex:
        return [m for m in ex.map(one, jobs) if m]


def run_all(fns):
    """Run the callables at once; (results, failures) with each failure's traceback."""
    results, failures = [], []
    with concurrent.futures.ThreadPoolExecutor(len(fns)) as ex:
        futures = [ex.submit(f) for f in fns]
        for f in futures:
            try:
                results.append(f.result())
            except Exception as e:
                failures.append("%s: %s" % (type(e).__name__, e))
                traceback.print_exc()
    return results, failures


# ---- r2mpu processes ------------------------------------------------------------------

def wait_pids(server, n, timeout=10):
    """The r2mpu processes of a Lighttpd, once there are n of them (or timeout s)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = server.r2mpu_pids()
        if len(pids) == n:
            return pids
        time.sleep(0.1)
    return server.r2mpu_pids()


LIGHTTPD_START = re.compile(r"\(server\.c\.\d+\) server started")
LIGHTTPD_STOP = re.compile(r"\(server\.c\.\d+\) server stopped")
# An r2mpu error line (log.c): time, level, r2mpu[pid], request id, then the message.
R2MPU_ERROR = r"^\S+ error r2mpu\[\d+\] \S+: "
# A request's own line, at info: the record of a request, not a complaint.
R2MPU_INFO = re.compile(r"^\S+ info r2mpu\[\d+\] ")
# the S3 store's detail of an InvalidPart it answered (a stale etag or the
# losing twin, sent on purpose)
S3_INVALID_PART = re.compile(R2MPU_ERROR + r"s3 store: complete: part \d+ listed with etag "
                             r"[0-9a-f]+; the store has [0-9a-f]+$")


STORE_500 = re.compile(R2MPU_ERROR + r"s3 store: unexpected answer HTTP 500 \(no error document\): $")
STORE_ERROR_502 = re.compile(R2MPU_ERROR + r"502 StoreError: Bad Gateway: the store failed the request$")
# Requests moto 5 fails with HTTP 500 through races of its own: a second UploadPart
# of one part number, or an abort, closes the data of an UploadPart still
# computing its ETag ("ValueError: read of closed file"); a part whose upload
# was aborted while it streamed ("KeyError: <uploadId>"); an abort racing the
# parts of its upload.
MOTO_RACES = re.compile(r"^(PUT \S+/(\d+-same_part_twice\.bin|\d+-abort_in_flight\.bin|abort-mid-part)"
                        r"\?partNumber=|DELETE \S+/(\d+-abort_in_flight\.bin)\?uploadId=)")


def moto_500s(sandbox, prefix):
    """The requests under prefix that moto answered with HTTP 500, from its log."""
    try:
        text = open(os.path.join(sandbox, "moto", "moto.log"), errors="replace").read()
    except FileNotFoundError:
        return []
    found = re.findall(r'"((?:PUT|POST|GET|HEAD|DELETE) \S+) HTTP/1\.1" 500 ', text)
    return [r for r in found if "/%s/" % prefix in r]


def unexpected_log_lines(log, store_500s=0, store_error_502s=0):
    """Lines of a lighttpd log (with r2mpu's stderr) from lighttpd's start
    (serve.sh's banner comes before it) to its stop, but r2mpu's info lines
    (a line per request): r2mpu logs 5xx details,
    lighttpd its backends' trouble (a crash is "child signalled", "child
    exited"). store_500s, store_error_502s: how many of r2mpu's lines about a
    store's HTTP 500, and about a 502 StoreError it answered, are explained
    (moto's races); when the counts are exactly those, they are not reported."""
    try:
        text = open(log, errors="replace").read()
    except FileNotFoundError:
        return []
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if LIGHTTPD_START.search(line)), -1)
    odd = [line for line in lines[start + 1:] if line.strip() and not R2MPU_INFO.search(line) and
           not LIGHTTPD_STOP.search(line) and not S3_INVALID_PART.search(line)]
    for pattern, explained in ((STORE_500, store_500s), (STORE_ERROR_502, store_error_502s)):
        if len([line for line in odd if pattern.search(line)]) == explained:
            odd = [line for line in odd if not pattern.search(line)]
    return odd


# ---- what the store holds ---------------------------------------------------------------

def fs_leftovers(root):
    """tmp/ must be empty, uploads/ hold nothing but its .sweep stamp, and every
    data directory be named by its object's manifest (lib.checks.leftovers)."""
    left = [os.path.join("uploads", f) for f in os.listdir(os.path.join(root, "uploads"))
            if f != ".sweep"]
    return left + leftovers(root)


def s3_uploads_in_progress(s3, prefix):
    """Keys under prefix with a multipart upload in progress (ListMultipartUploads, via curl)."""
    url = "%s/%s?uploads=" % (s3["R2MPU_S3_ENDPOINT"], s3["R2MPU_S3_BUCKET"])
    # The key goes in on stdin (curl -K -), not on a command line others can see.
    p = subprocess.run(["curl", "-sS", "--fail-with-body", "-K", "-",
                        "--aws-sigv4", "aws:amz:%s:s3" % s3["R2MPU_S3_REGION"],
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url],
                       input='user = "%s:%s"\n' % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                                   s3["R2MPU_S3_SECRET_ACCESS_KEY"]),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("ListMultipartUploads failed: %s %s" % (p.stderr, p.stdout[:500]))
    if "<IsTruncated>true</IsTruncated>" in p.stdout:
        raise AssertionError("ListMultipartUploads: more than one page")
    uploads = re.findall(r"<Upload>(.*?)</Upload>", p.stdout, re.S)
    keys = [re.search(r"<Key>(.*?)</Key>", u, re.S).group(1) for u in uploads]
    return [k for k in keys if k.startswith(prefix)]


def nothing_in_progress(name, store, root, s3, prefix):
    if store == "fs":
        left = fs_leftovers(root)
        check(name + ": fs store: tmp/ empty and no upload left in uploads/", not left, left[:10])
    else:
        try:
            left = s3_uploads_in_progress(s3, prefix)
            check(name + ": %s: no multipart upload left in progress" % store, not left, left[:10])
        except Exception as e:
            check(name + ": %s: no multipart upload left in progress" % store, False, e)


# ---- the rounds --------------------------------------------------------------------------

class Gate:
    """A barrier for the uploads of a round, so their parts go out together;
    one that fails before it breaks it rather than hang the others."""

    def __init__(self, n):
        self.barrier = threading.Barrier(n)

    def wait(self):
        self.barrier.wait(timeout=120)

    @contextlib.contextmanager
    def before(self):
        try:
            yield
        except BaseException:
            self.barrier.abort()
            raise


def put_parts(c, key, uid, chunks, numbers=None):
    """Every part at once; the answers' {partNumber, etag} in part order."""
    numbers = numbers or range(1, len(chunks) + 1)
    with concurrent.futures.ThreadPoolExecutor(len(chunks)) as ex:
        return list(ex.map(lambda nb: api.put_part(c, key, uid, nb[0], nb[1]),
                           zip(numbers, chunks)))


def plain_upload(c, key, seed, gate, nparts=PARTS):
    chunks = [chunk(seed, i + 1, s) for i, s in enumerate(sizes_for(seed, nparts))]
    want = Expected(key, chunks)
    with gate.before():
        uid = api.create(c, key)
    gate.wait()
    parts = put_parts(c, key, uid, chunks)
    del chunks
    r = api.expect(api.complete(c, key, uid, parts), 200, body=b"")
    assert r.header("etag") == '"%s"' % want.etag, (r.header("etag"), want.etag)
    return want


def soak_round(c, prefix, seed0, nuploads=UPLOADS, nparts=PARTS):
    """nuploads plain uploads at once; (expected objects, failures, bytes)."""
    gate = Gate(nuploads)
    fns = [lambda i=i: plain_upload(c, "%s/%02d.bin" % (prefix, i), seed0 + i, gate, nparts)
           for i in range(nuploads)]
    got, failures = run_all(fns)
    return got, failures, sum(o.size for o in got)


class Stats:
    def __init__(self, store):
        self.store = store
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1


class HeldPut:
    """A PUT that sends its headers and half its body, then waits to be let go."""

    def __init__(self, c, target, body):
        self.conn = http.client.HTTPConnection(c.host, c.port, timeout=120)
        self.conn.putrequest("PUT", target, skip_accept_encoding=True)
        self.conn.putheader("Content-Length", str(len(body)))
        self.conn.endheaders()
        self.body = body
        self.conn.send(body[:len(body) // 2])

    def release(self):
        """Send the rest of the body."""
        self.conn.send(self.body[len(self.body) // 2:])

    def answer(self):
        """The answer, as a lib.clients.Response."""
        try:
            r = self.conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            self.conn.close()

    def finish(self):
        self.release()
        return self.answer()


def abort_in_flight(c, key, seed, gate, stats):
    """Abort while the parts stream; each part is then 200 or 404, the upload
    is gone for every action; the same key uploaded again is whole."""
    chunks = [chunk(seed, i + 1, s) for i, s in enumerate(sizes_for(seed, PARTS))]
    with gate.before():
        uid = api.create(c, key)
    gate.wait()
    with concurrent.futures.ThreadPoolExecutor(PARTS) as ex:
        futures = [ex.submit(c.request, "PUT", api.part_target(key, uid, i + 1), body=b)
                   for i, b in enumerate(chunks)]
        # Abort once two parts are in: the others are in flight or queued.
        done = 0
        for f in concurrent.futures.as_completed(futures):
            done += 1
            if done == 2:
                break
        aborted = api.abort(c, key, uid)
        answers = [f.result() for f in futures]
    if stats.store == "moto" and aborted.status == 502 and aborted.header("x-r2mpu-error") == "StoreError":
        # moto 5 may fail an abort that races an UploadPart with HTTP 500
        # (its race; r2mpu passes it on as 502 StoreError). A client retries.
        stats.add("abort: moto failed it with HTTP 500 (moto's race), retried")
        aborted = api.abort(c, key, uid)
    api.expect(aborted, 204)
    for r in answers:
        assert r.status == 200 or (r.status == 404 and r.header("x-r2mpu-error") == "NoSuchUpload"), r
        stats.add("part answered %d around the abort" % r.status)
    listed = [r.json() for r in answers if r.status == 200]
    api.expect(api.complete(c, key, uid, listed), 404, code="NoSuchUpload")
    api.expect(c.request("PUT", api.part_target(key, uid, 1), body=b"late"), 404,
                 code="NoSuchUpload")
    api.expect(api.abort(c, key, uid), 404, code="NoSuchUpload")
    api.expect(api.get(c, key), 404, code="NoSuchKey")
    # Uploaded again under a new uploadId: 3 parts.
    again = [chunk(seed + 50000, i + 1, s) for i, s in enumerate(sizes_for(seed + 50000, 3))]
    uid2 = api.create(c, key)
    parts = put_parts(c, key, uid2, again)
    api.expect(api.complete(c, key, uid2, parts), 200, body=b"")
    return Expected(key, again)


def same_part_twice(c, key, seed, gate, stats):
    """One part number sent twice at once with different bytes; complete lists
    the etag whose answer came last. If the other write landed last, complete
    must refuse with InvalidPart, and the other etag must then complete."""
    sizes = sizes_for(seed, PARTS)
    chunks = [chunk(seed, i + 1, s) for i, s in enumerate(sizes)]
    d = random.Random(seed).randint(1, PARTS - 1)          # a full-size part
    rival = chunk(seed + 60000, d, sizes[d - 1])
    order, failed = [], []
    lock = threading.Lock()

    def send(n, body):
        if n == d and stats.store == "moto":
            r = c.request("PUT", api.part_target(key, uid, n), body=body)
            if r.status == 502 and r.header("x-r2mpu-error") == "StoreError":
                # moto 5 closes the first UploadPart's data when a second one of
                # the same part number lands, while the first still computes
                # its ETag ("ValueError: read of closed file"): HTTP 500, which
                # r2mpu passes on as 502 StoreError. The second one is stored.
                stats.add("twin part: moto failed one of the twins with HTTP 500 (moto's race)")
                failed.append(body)
                return None
            j = api.expect(r, 200).json()
            assert j == {"partNumber": n, "etag": api.md5(body)}, j
        else:
            j = api.put_part(c, key, uid, n, body)
        if n == d:
            with lock:
                order.append(body)
        return j
    with gate.before():
        uid = api.create(c, key)
    gate.wait()
    jobs = [(i + 1, b) for i, b in enumerate(chunks)]
    jobs.insert(d, (d, rival))     # right beside its twin, so both go out together
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as ex:
        answers = list(ex.map(lambda nb: send(*nb), jobs))
    parts = [j for j in answers if j is not None and j["partNumber"] != d]
    # The etag answered last first, then the other; one moto failed, last.
    for body in order[::-1] + failed:
        final = list(chunks)
        final[d - 1] = body
        listed = sorted(parts + [{"partNumber": d, "etag": api.md5(body)}],
                        key=lambda p: p["partNumber"])
        r = api.complete(c, key, uid, listed)
        if r.status == 200:
            if failed:
                stats.add("twin part: moto failed one; the %s completed" % (
                    "other" if body in order else "failed one (moto stored it anyway)"))
            elif body is order[-1]:
                stats.add("twin part: the last answer's write won")
            else:
                stats.add("twin part: the first answer's write won (seen by complete)")
            want = Expected(key, final)
            assert r.header("etag") == '"%s"' % want.etag, (r.header("etag"), want.etag)
            return want
        api.expect(r, 400, code="InvalidPart")
    raise AssertionError("complete refused both twins of part %d" % d)


def resent_after(c, key, seed, gate, stats):
    """All parts in, then one full part and the last one sent again with new
    bytes: the stale etag is refused, the new ones give the new bytes."""
    sizes = sizes_for(seed, PARTS)
    chunks = [chunk(seed, i + 1, s) for i, s in enumerate(sizes)]
    with gate.before():
        uid = api.create(c, key)
    gate.wait()
    parts = put_parts(c, key, uid, chunks)
    r = random.Random(seed).randint(1, PARTS - 1)
    new = list(chunks)
    new[r - 1] = chunk(seed + 70000, r, sizes[r - 1])
    new[-1] = chunk(seed + 70000, PARTS, random.Random(seed + 1).randint(1, sizes[0]))
    fresh = put_parts(c, key, uid, [new[r - 1], new[-1]], [r, PARTS])
    api.expect(api.complete(c, key, uid, parts), 400, code="InvalidPart")
    parts[r - 1], parts[-1] = fresh
    want = Expected(key, new)
    got = api.expect(api.complete(c, key, uid, parts), 200, body=b"")
    assert got.header("etag") == '"%s"' % want.etag, (got.header("etag"), want.etag)
    stats.add("re-sent parts: stale etag refused, new bytes stored")
    return want


def plain_and_empty_abort(c, key, seed, gate, stats):
    want = plain_upload(c, key, seed, gate)
    uid = api.create(c, key + ".aborted")
    api.expect(api.abort(c, key + ".aborted", uid), 204)
    api.expect(api.get(c, key + ".aborted"), 404, code="NoSuchKey")
    return want


def mixed_round(c, store, prefix, seed0, nuploads=UPLOADS):
    kinds = (abort_in_flight, same_part_twice, resent_after, plain_and_empty_abort)
    gate, stats = Gate(nuploads), Stats(store)
    fns = [lambda i=i: kinds[i % len(kinds)](c, "%s/%02d-%s.bin" % (prefix, i, kinds[i % len(kinds)].__name__),
                                             seed0 + i, gate, stats)
           for i in range(nuploads)]
    got, failures = run_all(fns)
    return got, failures, stats


def spawn_all(c, server, key):
    """lighttpd starts min-procs (4) of the max-procs, and spawns one more, once
    a second, while every process has more than one request (max-load-per-proc):
    keep adding parts held half-sent, two at a time, until PROCS processes run.
    Then let them all finish (each must be stored) and abort the upload."""
    uid = api.create(c, key)
    held, bodies = [], []
    # (well before lighttpd's 60 s server.max-read-idle drops a held request)
    deadline = time.time() + 30
    while len(server.r2mpu_pids()) < PROCS and time.time() < deadline and len(held) < 64:
        for _ in range(2):
            bodies.append(chunk(77, len(bodies) + 1, 256 * 1024))
            held.append(HeldPut(c, api.part_target(key, uid, len(bodies)), bodies[-1]))
        time.sleep(0.4)
    pids = server.r2mpu_pids()
    # All bodies first: lighttpd may have queued a part behind a later one on
    # the same process, so answers in order would wait on each other.
    for h in held:
        h.release()
    answers = [h.answer() for h in held]
    for n, (r, b) in enumerate(zip(answers, bodies), 1):
        api.expect(r, 200)
        assert r.json() == {"partNumber": n, "etag": api.md5(b)}, r
    api.expect(api.abort(c, key, uid), 204)
    return pids, len(held)


def abort_while_part_streams(c, store, key):
    """On an idle server: a part held half-sent (r2mpu is streaming it), the
    upload aborted meanwhile, then the rest of the part sent. The file store
    publishes a part only if its upload still exists: 404 NoSuchUpload. An S3
    store may take a part that began before the abort (S3's rule): 200 or 404.
    Either way the upload stays gone."""
    uid = api.create(c, key)
    first = api.put_part(c, key, uid, 1, chunk(88, 1, PART_MIN))
    held = HeldPut(c, api.part_target(key, uid, 2), chunk(88, 2, PART_MIN))
    time.sleep(0.3)
    api.expect(api.abort(c, key, uid), 204)
    r = held.finish()
    if store == "fs" or r.status != 200:
        api.expect(r, 404, code="NoSuchUpload")
    api.expect(api.complete(c, key, uid, [first]), 404, code="NoSuchUpload")
    api.expect(api.get(c, key), 404, code="NoSuchKey")
    return r.status


# ---- phase 1: the soak ----------------------------------------------------------------

def soak(store, settings, sandbox, s3, run_id):
    root = settings["R2MPU_FS_ROOT"]
    log = os.path.join(sandbox, "soak-lighttpd.log")
    prefix = "soak-%s" % run_id
    server = Lighttpd(dict(settings, R2MPU_PROCS=str(PROCS)), log)
    with server as c:
        # Warm-up: all 8 processes running, then a full mixed round, so every
        # process has served every kind of request at full part size before
        # its descriptors and RSS are taken.
        t0 = time.monotonic()
        spawned, nheld = spawn_all(c, server, prefix + "/spawn")
        timing("%d r2mpu processes spawned under %d parts held half-sent" % (len(spawned), nheld),
               time.monotonic() - t0)
        warm, failures = [], []
        got, fails, warm_stats = mixed_round(c, store, prefix + "/warm-mixed", 1900)
        warm, failures = warm + got, failures + fails
        bad = read_back([c], warm)
        timing("warm-up (a mixed round of %d uploads)" % UPLOADS, time.monotonic() - t0)
        check("warm-up: every upload and read-back answered as expected",
              not failures and not bad, (failures + bad)[:3])
        pids = wait_pids(server, PROCS)
        check("soak: lighttpd runs %d r2mpu processes" % PROCS, len(pids) == PROCS, pids)
        time.sleep(0.3)
        base = {p: (procs.fd_count(p), procs.status_kib(p, "VmRSS")) for p in pids}
        print("info warm-up: fds %s; VmRSS KiB %s" % (
            sorted(v[0] for v in base.values()), sorted(v[1] for v in base.values())))

        # Round 1: 20 uploads x 8 parts, all at once.
        t0 = time.monotonic()
        got, failures, nbytes = soak_round(c, prefix + "/round1", 2000)
        t1 = time.monotonic()
        timing("soak: %d uploads x %d parts at once" % (UPLOADS, PARTS), t1 - t0, nbytes)
        check("soak: %d uploads x %d parallel parts, every answer 200" % (UPLOADS, PARTS),
              not failures and len(got) == UPLOADS, failures[:3])
        bad = read_back([c], got)
        timing("soak: read-back by SHA-256", time.monotonic() - t1, nbytes)
        check("soak: every object reads back identical (SHA-256, length, ETag)",
              not bad and len(got) == UPLOADS, bad[:3])

        # Round 2: aborts, twin parts, re-sent parts, plain uploads, at once.
        t0 = time.monotonic()
        got, failures, stats = mixed_round(c, store, prefix + "/round2", 3000)
        t1 = time.monotonic()
        timing("mixed: %d uploads at once, with aborts and re-sent parts" % UPLOADS, t1 - t0)
        for what, n in sorted(stats.counts.items()):
            print("info mixed: %s: %d" % (what, n))
        check("mixed: every answer as expected (200, or 404 NoSuchUpload after an abort)",
              not failures and len(got) == UPLOADS, failures[:3])
        bad = read_back([c], got)
        timing("mixed: read-back by SHA-256", time.monotonic() - t1, sum(o.size for o in got))
        check("mixed: each object is exactly what was completed", not bad and len(got) == UPLOADS,
              bad[:3])
        try:
            status = abort_while_part_streams(c, store, prefix + "/abort-mid-part")
            print("info abort while a part streams: the part answered %d" % status)
            check("abort while a part streams: the part is refused (fs) or taken, "
                  "and the upload stays gone", True)
        except Exception as e:
            check("abort while a part streams: the part is refused (fs) or taken, "
                  "and the upload stays gone", False, e)

        # No leak: the same processes, descriptors as they were, RSS bounded.
        time.sleep(0.3)
        after = server.r2mpu_pids()
        # (lighttpd ends a process beyond min-procs after 60 s idle, silently;
        # these are busy throughout. A crash is also in the log: checked below.)
        check("no r2mpu process died or was replaced", after == pids,
              "%s -> %s" % (pids, after))
        fds = {p: (base[p][0], procs.fd_count(p, settle=base[p][0])) for p in pids if p in after}
        grew = {p: v for p, v in fds.items() if v[1] != v[0]}
        check("no descriptor leak: each process's open fds unchanged", not grew,
              "pid: (after warm-up, after soak) %s" % grew)
        rss = {p: (base[p][1], procs.status_kib(p, "VmRSS")) for p in pids if p in after}
        print("info after soak: VmRSS KiB %s" % sorted(v[1] for v in rss.values()))
        if SANITIZED:
            # ASan keeps freed memory in quarantine (up to 256 MiB): RSS says
            # nothing there; LeakSanitizer's report at exit is checked instead.
            print("skip RSS growth check under a sanitizer build (LeakSanitizer checks leaks)")
        else:
            grew = {p: v for p, v in rss.items() if v[1] - v[0] > RSS_GROWTH_KIB}
            check("no memory growth: each process's VmRSS within %d KiB of the warm-up's"
                  % RSS_GROWTH_KIB, not grew, "pid: (KiB after warm-up, after soak) %s" % grew)
        nothing_in_progress("soak", store, root, s3, prefix)
        last = server.r2mpu_pids()
    # Their sanitizer reports (LeakSanitizer's at exit) reach the log as they end.
    procs.exited(last, 15)
    reports = sanitizer_reports(log)   # written as the processes exit
    check("soak: no sanitizer reports in the server log", not reports, "\n".join(reports[:20]))
    # (each answer r2mpu gave as 502 StoreError for moto's HTTP 500, counted
    # by the rounds as "... with HTTP 500 ...")
    moto_502s = sum(n for st in (warm_stats, stats) for what, n in st.counts.items()
                    if "with HTTP 500" in what)
    raced, unexplained = [], []
    if store == "moto":
        raced = moto_500s(sandbox, prefix)
        unexplained = [r for r in raced if not MOTO_RACES.search(r)]
        check("soak: moto's HTTP 500s are all in its known races", not unexplained, unexplained[:5])
        kinds = sorted(set(re.sub(r"^\d+-|\.bin$", "", r.split()[1].rsplit("/", 1)[1].split("?")[0])
                           + " (" + r.split()[0] + ")" for r in raced if MOTO_RACES.search(r)))
        print("info moto answered HTTP 500 to %d requests: %s" % (len(raced), ", ".join(kinds)))
    odd = unexpected_log_lines(log, len(raced) - len(unexplained), moto_502s)
    check("soak: no error in the server log (r2mpu's or lighttpd's)", not odd, "\n".join(odd[:20]))
    return log


# ---- phase 2: no state in r2mpu -----------------------------------------------------------

def stateless(store, settings, sandbox, s3, run_id):
    """Three web servers, each with its own r2mpu processes, one store."""
    prefix = "stateless-%s" % run_id
    shared = dict(settings, R2MPU_PROCS="2",
                  R2MPU_FS_ROOT=os.path.join(sandbox, "store-shared"))
    logs = [os.path.join(sandbox, "stateless-%s.log" % n) for n in "ABC"]
    servers = [Lighttpd(shared, log) for log in logs]
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        A, B, C = clients = [stack.enter_context(s) for s in servers]
        for c, n in zip(clients, "ABC"):
            c.name = n
        pids = [wait_pids(s, 2) for s in servers]
        flat = [p for ps in pids for p in ps]
        check("stateless: A, B and C each run their own r2mpu processes (distinct pids)",
              all(len(ps) == 2 for ps in pids) and len(set(flat)) == 6,
              "A %s, B %s, C %s" % tuple(pids))
        ports = [c.port for c in clients]
        check("stateless: A, B and C are separate web servers (ports %s)" % ports,
              len(set(ports)) == 3 and len(set(s.proc.pid for s in servers)) == 3)

        failures, objects = [], []
        for r in range(3):
            X, Y, Z = clients[r], clients[(r + 1) % 3], clients[(r + 2) % 3]
            key = "%s/rotation-%d created via %s.bin" % (prefix, r, X.name)
            seed = 9000 + r
            sizes = sizes_for(seed, 7)
            chunks = [chunk(seed, i + 1, s) for i, s in enumerate(sizes)]
            try:
                uid = api.create(X, key)
                # Parts alternately through Y and Z, in parallel: Y Z Y Z ...
                with concurrent.futures.ThreadPoolExecutor(len(chunks)) as ex:
                    parts = list(ex.map(
                        lambda i: api.put_part((Y, Z)[i % 2], key, uid, i + 1, chunks[i]),
                        range(len(chunks))))
                if r == 0:
                    # Part 2 (first sent through Z) sent again through Y: the later wins.
                    chunks[1] = chunk(seed + 1, 2, sizes[1])
                    parts[1] = api.put_part(Y, key, uid, 2, chunks[1])
                want = Expected(key, chunks)
                done = api.expect(api.complete(X, key, uid, parts), 200, body=b"")
                assert done.header("etag") == '"%s"' % want.etag, (done.header("etag"), want.etag)
                # Completed through X: the upload is gone through Y and Z too.
                api.expect(api.complete(Y, key, uid, parts), 404, code="NoSuchUpload")
                api.expect(Z.request("PUT", api.part_target(key, uid, 1), body=b"x"), 404,
                             code="NoSuchUpload")
                objects.append(want)
                print("info stateless: %r: created via %s, parts %s, completed via %s"
                      % (key, X.name, "".join((Y.name, Z.name)[i % 2] for i in range(len(chunks))),
                         X.name))
            except Exception as e:
                traceback.print_exc()
                failures.append("rotation %d: %s: %s" % (r, type(e).__name__, e))
        check("stateless: created via one server, parts through the other two, "
              "completed via the first: every answer as expected", not failures, failures)
        bad = read_back(clients, objects)
        check("stateless: each object reads back byte-identical (SHA-256) through A, B and C",
              not bad and len(objects) == 3, bad[:3])

        try:
            key = prefix + "/aborted"
            uid = api.create(A, key)
            part = api.put_part(B, key, uid, 1, chunk(9100, 1, PART_MIN))
            api.expect(api.abort(C, key, uid), 204)
            api.expect(A.request("PUT", api.part_target(key, uid, 2), body=b"x"), 404,
                         code="NoSuchUpload")
            api.expect(api.complete(B, key, uid, [part]), 404, code="NoSuchUpload")
            api.expect(api.abort(A, key, uid), 404, code="NoSuchUpload")
            for c in clients:
                api.expect(api.get(c, key), 404, code="NoSuchKey")
            check("stateless: created via A, part via B, aborted via C: gone through all three", True)
        except Exception as e:
            check("stateless: created via A, part via B, aborted via C: gone through all three",
                  False, e)
        nothing_in_progress("stateless", store, shared["R2MPU_FS_ROOT"], s3, prefix)
        last = [p for s in servers for p in s.r2mpu_pids()]
    # Their sanitizer reports (LeakSanitizer's at exit) reach the log as they end.
    procs.exited(last, 15)
    timing("stateless: three web servers, one store", time.monotonic() - t0)
    reports = [line for log in logs for line in sanitizer_reports(log)]
    check("stateless: no sanitizer reports in the three server logs", not reports,
          "\n".join(reports[:20]))
    odd = [line for log in logs for line in unexpected_log_lines(log)]
    # A process that has seen an upload does not ask the store again before
    # its next part (src/store_s3.c, known uploads), so a part sent after the
    # upload was completed or aborted elsewhere reaches the store: S3 answers
    # 404 NoSuchUpload; moto answers 500 (a KeyError), which r2mpu logs before
    # it asks ListParts and answers 404. Exactly those are explained.
    if store == "moto":
        parts_500 = [r for r in moto_500s(sandbox, prefix) if "?partNumber=" in r]
        logged = [line for line in odd if STORE_500.search(line)]
        if parts_500 and len(logged) == len(parts_500):
            odd = [line for line in odd if not STORE_500.search(line)]
    check("stateless: no error in the three server logs", not odd, "\n".join(odd[:20]))
    return logs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", choices=("fs", "moto", "radosgw"), default="fs",
                    help="fs: a fresh directory (shared by the three servers of the stateless "
                         "proof); moto, radosgw: one S3 server started by tests/s3/")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (stores, server logs, the S3 server's log)")
    args = ap.parse_args()
    if not os.access(BIN, os.X_OK):
        print("soak: %s is not built (make)" % BIN)
        return 1
    sandbox = tempfile.mkdtemp(prefix="r2mpu-soak-")
    run_id = "%d-%d" % (int(time.time()), os.getpid())
    logs = []
    t_start = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            s3 = {}
            if args.store != "fs":
                t0 = time.monotonic()
                try:
                    s3 = stack.enter_context(S3Server(args.store, sandbox))
                except S3Server.Unavailable as e:
                    print("soak: skipped: %s" % e)
                    print("soak [%s]: 0 passed, 0 failed, 1 skipped" % args.store)
                    return 0
                timing("%s start" % args.store, time.monotonic() - t0)
            settings = {
                # Tomorrow's build wants its access configured; today's ignores this.
                "R2MPU_OPEN_ACCESS": "yes",
                "R2MPU_FS_ROOT": os.path.join(sandbox, "store"),
                "R2MPU_MAX_PART_SIZE": MAX_PART_SIZE,
            }
            settings.update(s3)
            for phase in (soak, stateless):
                try:
                    got = phase(args.store, settings, sandbox, s3, run_id)
                    logs += got if isinstance(got, list) else [got]
                except Exception as e:
                    traceback.print_exc()
                    check("%s: ran to the end" % phase.__name__, False, "%s: %s" % (type(e).__name__, e))
                    logs += [os.path.join(sandbox, f) for f in os.listdir(sandbox) if f.endswith(".log")]
        failed = RESULTS.count(False)
        if failed:
            for log in sorted(set(logs)):
                if os.path.exists(log):
                    print("---- %s (last 3000 bytes) ----" % os.path.basename(log))
                    print(open(log, errors="replace").read()[-3000:])
        timing("soak.py --store %s, in all" % args.store, time.monotonic() - t_start)
        print("soak [%s]: %d passed, %d failed" % (args.store, RESULTS.count(True), failed))
        return 1 if failed else 0
    finally:
        if args.keep:
            print("soak: kept %s" % sandbox)
        else:
            shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
