#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/bench/bench.py: r2mpu behind lighttpd vs straight to the same store, side by side.

    bench.py [--stores fs,moto,radosgw] [--runs 3] [--size-mib 1024]
             [--latency-samples 200] [--out build/bench] [--no-big-part]
             [--baseline-bin OTHER_BUILD]

For each store, one upload of --size-mib (1 GiB) in three scenarios:
  10 MiB parts, 25 at a time   what the seed client (mpuscript.py) does
  64 MiB parts, 4 at a time
  10 MiB parts, one at a time  where each part's own latency (its fsync) shows
each --runs times through r2mpu and --runs times straight to the store,
alternating (each side first in turn; with four sides and 3 runs the turns
are uneven, so an A/B with --baseline-bin is indicative), and the
medians compared. The gateway is curl -> lighttpd (the shipped config, with as
many r2mpu processes as parts in flight) -> r2mpu -> the store. Every upload is
create, the parts in parallel (one curl each), complete; the object is deleted
after it is timed.

What "direct" means:
  moto, radosgw  curl --aws-sigv4 to the same S3 server: the same three calls,
                 one curl per part, the same parallelism.
  fs             no server exists to compare with, so the baseline is the work
                 the file store itself must do, done by this script in-process:
                 each part is written (256 KiB at a time, as r2mpu's buffer) to
                 its own file in a directory on the same filesystem, and
                 fsync()ed, with the same number of parts in parallel; then
                 the parts are hard-linked into a data directory, which is
                 fsync()ed, and a small manifest is written, fsync()ed and
                 renamed into place, and the upload's directory removed. That
                 is the same I/O, with
                 the same durability, as the fs store's uploadpart and
                 complete (R2MPU_FS_FSYNC=1, the default), without HTTP,
                 lighttpd, FastCGI or the MD5 r2mpu computes for the ETag. The
                 ratio therefore shows everything the gateway adds.

Latency: --latency-samples sequential requests of each operation, mpu-create,
uploadpart of a 5 MiB part and mpu-abort, through r2mpu and direct, in blocks
that alternate between the two. On both sides one curl process sends a whole
block over one keep-alive connection and reports each request's time_total, so
process start-up is not counted. For fs, direct is the same file work timed in
this process (create: a directory and a small fsync()ed file; part: a 5 MiB
file written and fsync()ed; abort: the directory removed).

RSS: the peak resident set (VmHWM) of every r2mpu process lighttpd started,
read from /proc while they live; the table shows the largest per scenario.
Unless --no-big-part, one part of --size-mib alone through r2mpu checks the
same goal for a single large part.

The ceiling (file store only): the same lighttpd config serving
build/bench/noop.fcgi (tests/bench/noop_fcgi.c: answers the API minimally and
discards every body) takes a third turn in each alternation of the throughput
runs and of the latency blocks. What the client, lighttpd and FastCGI cost
with no store behind them: r2mpu's share of it ("of ceiling") is what r2mpu
itself leaves on the table. Two more turns of the same app do only the work any
store with S3's answers must do: each part's MD5 (its ETag), and that MD5 with
the part written to the same disk and fdatasync()ed (NOOP_WORK in noop_fcgi.c).
On the S3 stores the same kind of floor: the direct side's signed requests sent
through a lighttpd that forwards them with mod_proxy ("proxied": the same spool
and body settings, no application), the least a hop through the web server costs.
What separates them from the ceiling is the price of that work on this machine;
what separates r2mpu from them is r2mpu's own.

With --baseline-bin, another build of r2mpu takes a turn too, behind its own
lighttpd: an A/B of a change, measured side by side, with each build's CPU.

Every part goes with its Content-MD5 (taken before anything is timed), on every
side, as r2mpu-client sends it: a store that checks it does so in both cases.

The file store also gets: its mpu-complete alone for a 16 MiB and a --size-mib
object (the goal: the large one at most twice the small one); the shipped
lighttpd config against variants of how lighttpd hands bodies to r2mpu; and the
peer users would pick, @tus/server + @tus/file-store (build/tus, from npm),
beside r2mpu with fsync on and off, one request at a time and 8 at a time.

Goals reported against: gateway/direct throughput >= 0.90; every r2mpu
process under 16 MiB RSS; on the file store, gateway/ceiling >= 0.90.

The binary served is a copy of cgi-bin/r2mpu.fcgi (or $R2MPU_TEST_BIN) taken
at the start, so a rebuild during the run does not change what is measured.
The load average at the start and the end is printed: on a shared machine,
other work skews the numbers.

Prints a throughput table and a latency table; writes throughput.csv,
latency.csv, summary.txt and throughput.png (gnuplot) in --out.
"""

import argparse
import base64
import concurrent.futures
import contextlib
import csv
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

from lib import BIN, TOP, procs
from lib.servers import Lighttpd, Nginx, S3Server, free_port, stop, wait_for_port
MiB = 1024 * 1024
CHUNK = 256 * 1024           # r2mpu's STREAM_CHUNK
RATIO_GOAL = 0.90
RSS_GOAL_MIB = 16
# (label, part MiB, parts in flight)
SCENARIOS = [("10MiB x25", 10, 25), ("64MiB x4", 64, 4), ("10MiB x1", 10, 1)]
LATENCY_PART_MIB = 5
LATENCY_BLOCK = 50
MARK = "@@r2mpu-bench"


def curl(*args, data=None):
    p = subprocess.run(["curl", "-sS", "--fail-with-body"] + list(args), input=data,
                       capture_output=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("curl %s: %s %s" % (args[-1], p.stdout[-300:], p.stderr[-300:]))
    return p.stdout


def curl_batch(common, transfers, workdir):
    """One curl, sequential transfers on one connection: [(status, seconds, body)].

    transfers: a list of (url, file to upload or None). common: options for all."""
    cfg = os.path.join(workdir, "batch.curlrc")
    with open(cfg, "w") as f:
        for url, upload in transfers:
            f.write('url = "%s"\n' % url)
            if upload:
                f.write('upload-file = "%s"\n' % upload)
    p = subprocess.run(["curl", "-sS", "-w", "\n%s %%{http_code} %%{time_total}\n" % MARK,
                        *common, "-K", cfg], capture_output=True, timeout=1800)
    out = p.stdout.decode("utf-8", "replace")
    pieces = re.split(r"\n%s (\d+) ([0-9.]+)\n" % MARK, out)
    results = [(int(pieces[i + 1]), float(pieces[i + 2]), pieces[i])
               for i in range(0, len(pieces) - 1, 3)]
    if len(results) != len(transfers):
        raise RuntimeError("curl batch: %d of %d answers: %s" % (
            len(results), len(transfers), p.stderr.decode()[-300:]))
    return results


def expect(results, statuses, what):
    for status, _, body in results:
        if status not in statuses:
            raise RuntimeError("%s: HTTP %d: %s" % (what, status, body[:300]))
    return results


def q(s):
    return urllib.parse.quote(s, safe="-_.~")


class Gateway:
    """curl -> lighttpd -> r2mpu."""

    def __init__(self, port, prefix="/"):
        self.base = "http://127.0.0.1:%d%s" % (port, prefix)

    def upload(self, key, parts, parallel):
        url = self.base + key
        uid = json.loads(curl("-X", "POST", "-H", "Content-Length: 0",
                              url + "?action=mpu-create"))["uploadId"]

        def one(i):
            out = curl("-H", "Content-MD5: " + content_md5_of(parts[i]), "-T", parts[i],
                       "%s?action=mpu-uploadpart&uploadId=%s&partNumber=%d" % (url, q(uid), i + 1))
            return json.loads(out)
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            done = list(ex.map(one, range(len(parts))))
        t = time.monotonic()
        out = curl("-X", "POST", "--data-binary", json.dumps({"parts": done}),
                   url + "?action=mpu-complete&uploadId=" + q(uid))
        if out:
            raise RuntimeError("mpu-complete: %r" % out[:300])
        return time.monotonic() - t    # the complete's own time

    def delete(self, key):
        curl("-X", "DELETE", self.base + key + "?action=delete")

    def create_abort(self, key, n, workdir):
        """n mpu-create, then their n mpu-abort, each batch on one connection."""
        url = self.base + key
        created = expect(curl_batch(["-X", "POST", "-H", "Content-Length: 0"],
                                    [(url + "?action=mpu-create", None)] * n, workdir),
                         (200,), "create")
        ids = [json.loads(body)["uploadId"] for _, _, body in created]
        expect(curl_batch(["-X", "DELETE"], [("%s?action=mpu-abort&uploadId=%s" % (url, q(u)),
                                              None) for u in ids], workdir),
               (204,), "abort")

    def latency(self, key, n, part, workdir):
        url = self.base + key
        create = expect(curl_batch(["-X", "POST", "-H", "Content-Length: 0"],
                                   [(url + "?action=mpu-create", None)] * n, workdir),
                        (200,), "gateway create")
        ids = [json.loads(body)["uploadId"] for _, _, body in create]
        parts = expect(curl_batch([], [("%s?action=mpu-uploadpart&uploadId=%s&partNumber=1"
                                        % (url, q(u)), part) for u in ids], workdir),
                       (200,), "gateway uploadpart")
        abort = expect(curl_batch(["-X", "DELETE"],
                                  [("%s?action=mpu-abort&uploadId=%s" % (url, q(u)), None)
                                   for u in ids], workdir),
                       (204,), "gateway abort")
        return {op: [t for _, t, _ in r] for op, r in
                (("create", create), ("uploadpart", parts), ("abort", abort))}


class S3Direct:
    """curl --aws-sigv4 straight to the S3 server (with curl 7.88's workarounds:
    x-amz-content-sha256 set by hand, queries written sorted)."""

    UNSIGNED = ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]

    def __init__(self, s3):
        self.ep = s3["R2MPU_S3_ENDPOINT"] + "/" + s3["R2MPU_S3_BUCKET"] + "/"
        self.auth = ["--aws-sigv4", "aws:amz:%s:s3" % s3["R2MPU_S3_REGION"],
                     "--user", "%s:%s" % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                          s3["R2MPU_S3_SECRET_ACCESS_KEY"])]

    def upload(self, key, parts, parallel):
        url = self.ep + key
        out = curl(*self.auth, *self.UNSIGNED, "-X", "POST", "-H", "Content-Length: 0",
                   url + "?uploads=").decode()
        uid = re.search(r"<UploadId>([^<]+)</UploadId>", out).group(1)

        def one(i):
            out = subprocess.run(["curl", "-sS", "--fail", "-D", "-", "-o", "/dev/null",
                                  *self.auth, *self.UNSIGNED, "-T", parts[i],
                                  "-H", "Content-MD5: " + content_md5_of(parts[i]),
                                  "%s?partNumber=%d&uploadId=%s" % (url, i + 1, q(uid))],
                                 capture_output=True, text=True, timeout=900)
            m = re.search(r"(?i)^etag:\s*(\S+)", out.stdout, re.M)
            if out.returncode != 0 or not m:
                raise RuntimeError("direct part %d: %s" % (i + 1, out.stderr))
            return m.group(1)
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            etags = list(ex.map(one, range(len(parts))))
        body = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e)
            for i, e in enumerate(etags))).encode()
        curl(*self.auth, "-H", "x-amz-content-sha256: " + hashlib.sha256(body).hexdigest(),
             "-H", "Content-Type: application/xml", "-X", "POST", "--data-binary", "@-",
             url + "?uploadId=" + q(uid), data=body)

    def delete(self, key):
        curl(*self.auth, *self.UNSIGNED, "-X", "DELETE", self.ep + key)

    def latency(self, key, n, part, workdir):
        url = self.ep + key
        create = expect(curl_batch(self.auth + self.UNSIGNED + ["-X", "POST", "-H",
                                                                "Content-Length: 0"],
                                   [(url + "?uploads=", None)] * n, workdir),
                        (200,), "direct create")
        ids = [re.search(r"<UploadId>([^<]+)</UploadId>", body).group(1)
               for _, _, body in create]
        parts = expect(curl_batch(self.auth + self.UNSIGNED,
                                  [("%s?partNumber=1&uploadId=%s" % (url, q(u)), part)
                                   for u in ids], workdir),
                       (200,), "direct uploadpart")
        abort = expect(curl_batch(self.auth + self.UNSIGNED + ["-X", "DELETE"],
                                  [("%s?uploadId=%s" % (url, q(u)), None) for u in ids],
                                  workdir),
                       (204,), "direct abort")
        return {op: [t for _, t, _ in r] for op, r in
                (("create", create), ("uploadpart", parts), ("abort", abort))}


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(src, dst):
    """Copy src to a new file dst through a CHUNK buffer, then fsync it."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            while True:
                n = fin.readinto(buf)
                if not n:
                    break
                off = 0
                while off < n:
                    off += os.write(fd, view[off:n])
            os.fsync(fd)
        finally:
            os.close(fd)


class FsDirect:
    """The file store's I/O without the gateway: see the module docstring."""

    def __init__(self, root):
        self.root = root
        for d in ("uploads", "objects", "data"):
            os.makedirs(os.path.join(root, d), exist_ok=True)

    def obj(self, key):
        return os.path.join(self.root, "objects", hashlib.sha256(key.encode()).hexdigest())

    def upload(self, key, parts, parallel):
        up = tempfile.mkdtemp(dir=os.path.join(self.root, "uploads"))

        def one(i):
            write_synced(parts[i], os.path.join(up, "part.%05d" % (i + 1)))
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            list(ex.map(one, range(len(parts))))
        fsync_dir(up)
        # The complete: the parts linked into a data directory, a manifest renamed into place.
        base = os.path.basename(up)
        data = os.path.join(self.root, "data", base)
        os.mkdir(data)
        for i in range(len(parts)):
            os.link(os.path.join(up, "part.%05d" % (i + 1)), os.path.join(data, "%05d" % i))
        fsync_dir(data)
        fsync_dir(os.path.join(self.root, "data"))
        tmp = os.path.join(self.root, "objects", ".tmp-" + base)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, json.dumps({"key": key, "data": base,
                                     "sizes": [os.path.getsize(p) for p in parts]}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.obj(key))
        fsync_dir(os.path.join(self.root, "objects"))
        shutil.rmtree(up)

    def delete(self, key):
        with open(self.obj(key)) as f:
            data = json.load(f)["data"]
        os.unlink(self.obj(key))
        shutil.rmtree(os.path.join(self.root, "data", data))

    def latency(self, key, n, part, workdir):
        times = {"create": [], "uploadpart": [], "abort": []}
        ups = []
        for _ in range(n):
            t = time.perf_counter()
            up = tempfile.mkdtemp(dir=os.path.join(self.root, "uploads"))
            fd = os.open(os.path.join(up, "meta"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, json.dumps({"key": key}).encode())
            os.fsync(fd)
            os.close(fd)
            fsync_dir(up)
            times["create"].append(time.perf_counter() - t)
            ups.append(up)
        for up in ups:
            t = time.perf_counter()
            write_synced(part, os.path.join(up, "part.00001"))
            fsync_dir(up)
            times["uploadpart"].append(time.perf_counter() - t)
        for up in ups:
            t = time.perf_counter()
            shutil.rmtree(up)
            times["abort"].append(time.perf_counter() - t)
        return times


class ProcWatch:
    """Peak RSS and CPU time of a server's processes (roots: the ones started, and
    everything below them), read from /proc every 0.2 s while they live (the last
    reading of each process counts). CPU is counted from the first reading, so a
    server's start-up (node's JIT) is not."""

    def __init__(self, binary, *roots):
        self.roots = roots
        self.bin = os.path.realpath(binary)
        self.seen = {}          # pid -> (is r2mpu, VmHWM KiB, CPU seconds since first seen)
        self.first = {}         # pid -> CPU seconds when first seen
        self.pss_peak = 0       # KiB: the most the processes held at once, shared pages split
        self.stop = threading.Event()
        self.poll()             # the baseline: CPU before the measured work
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def poll(self):
        tick = os.sysconf("SC_CLK_TCK")
        pss = 0
        for pid in [p for root in self.roots for p in [root] + procs.descendants(root)]:
            try:
                exe = os.readlink("/proc/%d/exe" % pid)
                hwm = procs.status_kib(pid, "VmHWM")
                stat = open("/proc/%d/stat" % pid).read()
                fields = stat[stat.rindex(")") + 2:].split()
                cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError):
                continue
            self.first.setdefault(pid, cpu)
            self.seen[pid] = (exe == self.bin, hwm, cpu - self.first[pid], os.path.basename(exe))
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    pss += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            except (OSError, StopIteration, ValueError):
                pass
        self.pss_peak = max(self.pss_peak, pss)

    def loop(self):
        while not self.stop.wait(0.2):
            self.poll()

    def finish(self):
        self.poll()
        self.stop.set()
        self.thread.join()
        r2 = [v for v in self.seen.values() if v[0]]
        return {
            "r2mpu_procs": len(r2),
            "r2mpu_hwm_kib": max((v[1] for v in r2), default=0),
            "r2mpu_cpu_s": sum(v[2] for v in r2),
            "lighttpd_cpu_s": sum(v[2] for v in self.seen.values() if v[3] == "lighttpd"),
            "lighttpd_hwm_kib": max((v[1] for v in self.seen.values() if v[3] == "lighttpd"),
                                    default=0),
            "pss_peak_kib": self.pss_peak,
            "server_cpu_s": sum(v[2] for v in self.seen.values()),
        }


NOOP = os.path.join(TOP, "build", "bench", "noop.fcgi")   # make bench builds it


def gateway_settings(store_settings, procs, max_part_mib):
    """r2mpu's settings in every bench: the store's, open access, procs processes."""
    return dict(store_settings, R2MPU_OPEN_ACCESS="yes", R2MPU_PROCS=str(procs),
                R2MPU_MAX_PART_SIZE="%dM" % max(64, max_part_mib))


def serve(work, store_settings, name, procs, max_part_mib, binary="r2mpu.fcgi"):
    settings = dict(gateway_settings(store_settings, procs, max_part_mib),
                    R2MPU_TEST_BIN=os.path.join(work, binary))
    return Lighttpd(settings, os.path.join(work, "lighttpd-%s.log" % name))


CONTENT_MD5 = {}    # part file -> the Content-MD5 every side sends with it


def content_md5_of(path):
    """The part's Content-MD5, taken once, before anything is timed."""
    if path not in CONTENT_MD5:
        h = hashlib.md5()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(MiB), b""):
                h.update(chunk)
        CONTENT_MD5[path] = base64.b64encode(h.digest()).decode()
    return CONTENT_MD5[path]


def split(whole, size_mib, part_mib, work):
    """Part files of part_mib (the last one smaller) cut from the whole file."""
    parts = []
    with open(whole, "rb") as f:
        for i in range(math.ceil(size_mib / part_mib)):
            p = os.path.join(work, "part-%d-%05d" % (part_mib, i))
            with open(p, "wb") as out:
                out.write(f.read(part_mib * MiB))
            parts.append(p)
            content_md5_of(p)
    return parts


SMALL_CLIENTS = 8    # concurrent clients of the small-request run, and processes serving them
SMALL_PAIRS = 100    # create+abort pairs each


def work_ceilings(store_dir):
    """The no-op app's turns in the file store's throughput runs: (side, its environment).
    "ceiling" discards each part; the others do only the work any store that gives S3's
    answers must do (tests/bench/noop_fcgi.c): the part's MD5, which is its ETag, and with
    "md5-durable" also its bytes written to the same disk and fdatasync()ed. r2mpu's share
    of those tells its own cost from that work's."""
    spill = os.path.join(store_dir, "noop-durable")
    os.makedirs(spill, exist_ok=True)
    return [("ceiling", {}),
            ("ceiling-md5", {"NOOP_WORK": "md5"}),
            ("ceiling-md5-durable", {"NOOP_WORK": "md5-durable", "NOOP_DIR": spill})]


@contextlib.contextmanager
def lighttpd_proxy(work, backend, name):
    """lighttpd forwarding every request as it is to backend (http://host:port) with
    mod_proxy: the same web server, body handling and spool as make run's, and no
    application. The S3 requests signed for this port pass through unchanged (lighttpd
    keeps the Host header), so a client that sends them here pays only the hop through
    the web server: the cheapest any gateway behind it can be. Yields the port."""
    u = urllib.parse.urlsplit(backend)
    state = tempfile.mkdtemp(prefix="proxy-", dir=work)
    spool = tempfile.mkdtemp(prefix="r2mpu-bench-spool-",
                             dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else state)
    port = free_port()
    conf = os.path.join(state, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write('server.modules = ( "mod_proxy" )\n'
                'server.bind = "127.0.0.1"\nserver.port = %d\n'
                'server.document-root = "%s"\nserver.upload-dirs = ( "%s" )\n'
                'server.errorlog = "%s"\n'
                # as lighttpd-conf/r2mpu.conf
                'server.stream-request-body = 1\nserver.stream-response-body = 1\n'
                'server.max-request-size = 5242881\n'
                'proxy.server = ( "" => (( "host" => "%s", "port" => %d )) )\n'
                % (port, state, spool, os.path.join(work, "lighttpd-%s.log" % name),
                   u.hostname, u.port))
    proc = subprocess.Popen(["lighttpd", "-D", "-f", conf])
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        stop(proc)
        shutil.rmtree(spool, ignore_errors=True)


def small_requests(side, work, name):
    """create+abort pairs per second: SMALL_CLIENTS clients at once, each sending
    SMALL_PAIRS creates and then their aborts, each batch on one connection."""
    dirs = []
    for i in range(SMALL_CLIENTS):
        dirs.append(os.path.join(work, "small-%s-%d" % (name, i)))
        os.makedirs(dirs[-1], exist_ok=True)
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(SMALL_CLIENTS) as ex:
        list(ex.map(lambda i: side.create_abort("bench/small-%d" % i, SMALL_PAIRS, dirs[i]),
                    range(SMALL_CLIENTS)))
    return SMALL_CLIENTS * SMALL_PAIRS / (time.monotonic() - t)


def percentile(values, pct):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(pct / 100 * len(s)) - 1)]


class Radosgw:
    """radosgw frees a deleted object's memory (memstore) only at garbage
    collection, hours later by default: collect now, between timed runs."""

    def __init__(self, s3dir):
        self.conf = os.path.join(s3dir, "ceph.conf")

    def collect(self):
        subprocess.run(["timeout", "120", "radosgw-admin", "-c", self.conf,
                        "gc", "process", "--include-all"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


COMPLETE_RUNS = 7    # completes timed for each object size


def complete_by_size(work, settings, args, data, log):
    """The file store's complete alone, for a 16 MiB object (one part) and one of
    --size-mib (64 MiB parts): COMPLETE_RUNS each, alternating, medians (and the
    same for --baseline-bin). The goal: the large one's at most twice the small
    one's (it copies nothing)."""
    sizes = [("16 MiB", data["complete16"]), ("%d MiB" % args.size_mib, data[64])]
    builds = [("r2mpu.fcgi", "")] + ([("baseline.fcgi", "baseline build, ")]
                                     if args.baseline_bin else [])
    rows = []
    for binary, who in builds:
        times = {label: [] for label, _ in sizes}
        with serve(work, dict(settings, R2MPU_FS_ROOT=os.path.join(work, "complete-" + binary)),
                   "fs-complete-" + binary, 4, 64, binary) as client:
            gateway = Gateway(client.port)
            for run in range(COMPLETE_RUNS):
                for label, parts in sizes[run % 2:] + sizes[:run % 2]:
                    key = "bench/complete-%d.bin" % run
                    times[label].append(gateway.upload(key, parts, 4))
                    gateway.delete(key)
        small = statistics.median(times[sizes[0][0]])
        for label, parts in sizes:
            med = statistics.median(times[label])
            rows.append({"store": "fs", "op": "mpu-complete, %s%s object (%d parts)" % (
                             who, label, len(parts)),
                         "samples": COMPLETE_RUNS, "complete_p50_ms": med * 1e3,
                         "complete_runs_ms": " ".join("%.1f" % (t * 1e3) for t in times[label]),
                         "of_small": med / small})
            log("  fs %scomplete of %s: %.1f ms" % (who, label, med * 1e3))
    return rows


# How lighttpd hands request bodies to r2mpu, each a variant of the shipped config
# (lighttpd-conf/), measured side by side: (label, lines appended to lighttpd.conf).
BODY_MODES = [
    ("stream-request-body 1, spool on tmpfs (shipped)", ""),
    ("stream-request-body 1, spool on disk",
     'server.upload-dirs := ( env.R2MPU_BENCH_DISK_SPOOL )\n'),
    ("stream-request-body 2", "server.stream-request-body := 2\n"),
]


def body_mode_conf(work, i, extra):
    """A copy of lighttpd-conf/ with `extra` appended to its lighttpd.conf."""
    d = os.path.join(work, "lighttpd-conf-%d" % i)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(TOP, "lighttpd-conf"), d)
    with open(os.path.join(d, "lighttpd.conf"), "a") as f:
        f.write(extra)
    return os.path.join(d, "lighttpd.conf")


def body_modes(work, settings, args, data, log):
    """Each scenario through lighttpd in each BODY_MODES variant, --runs times,
    alternating, medians; lighttpd's own CPU and peak RSS beside the throughput."""
    rows = []
    # On disk for sure: under build/, not TMPDIR (tmpfs on some systems).
    disk_spool = tempfile.mkdtemp(prefix="bench-spool-", dir=os.path.join(TOP, "build"))
    os.environ["R2MPU_BENCH_DISK_SPOOL"] = disk_spool
    try:
        rows = body_modes_run(work, settings, args, data, log)
    finally:
        shutil.rmtree(disk_spool, ignore_errors=True)
    return rows


def body_modes_run(work, settings, args, data, log):
    rows = []
    for label, part_mib, parallel in SCENARIOS:
        times = {m: [] for m, _ in BODY_MODES}
        cpu = {m: 0.0 for m, _ in BODY_MODES}
        rss = {m: 0 for m, _ in BODY_MODES}
        with contextlib.ExitStack() as stack:
            sides = {}
            for i, (mode, extra) in enumerate(BODY_MODES):
                web = serve(work, dict(settings, R2MPU_LIGHTTPD_CONF=body_mode_conf(work, i, extra)),
                            "fs-body-%d-%d" % (i, part_mib), parallel, part_mib)
                client = stack.enter_context(web)
                sides[mode] = (Gateway(client.port), ProcWatch(web.binary, web.proc.pid))
            names = list(sides)
            for run in range(args.runs):
                for mode in names[run % len(names):] + names[:run % len(names)]:
                    key = "bench/body-%d-%d.bin" % (part_mib, run)
                    t = time.monotonic()
                    sides[mode][0].upload(key, data[part_mib], parallel)
                    times[mode].append(time.monotonic() - t)
                    sides[mode][0].delete(key)
                    os.sync()
            for mode, (_, watch) in sides.items():
                procs = watch.finish()
                cpu[mode] = procs["lighttpd_cpu_s"] / args.runs
                rss[mode] = procs.get("lighttpd_hwm_kib", 0)
        for mode, _ in BODY_MODES:
            rows.append({"store": "fs", "op": "body mode", "scenario": label, "mode": mode,
                         "runs": args.runs,
                         "mbps": args.size_mib * MiB / statistics.median(times[mode]) / 1e6,
                         "lighttpd_cpu_s_per_upload": cpu[mode],
                         "lighttpd_hwm_mib": rss[mode] / 1024})
            log("  fs %s, %s: %.1f MB/s" % (label, mode, rows[-1]["mbps"]))
    return rows


TUS_DIR = os.path.join(TOP, "build", "tus")         # make bench installs @tus/* there
PEER_PARALLEL = 8


class Tus:
    """curl -> @tus/server + @tus/file-store (tests/bench/tus_server.mjs): an upload
    of the parts is one tus upload (POST its length, then one PATCH per part, in
    order); "in parallel" is PEER_PARALLEL uploads of consecutive parts at once
    (@tus/file-store has no concatenation, so no one file is written in parallel)."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d/files/" % port
        self.head = ["-H", "Tus-Resumable: 1.0.0"]
        self.made = []          # the uploads' URLs, for delete()

    def one(self, parts):
        size = sum(os.path.getsize(p) for p in parts)
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-X", "POST",
                              "-H", "Upload-Length: %d" % size, "-H", "Content-Length: 0"]
                             + self.head + [self.base], capture_output=True, text=True,
                             check=True).stdout
        where = re.search(r"(?im)^location: *(\S+)", out)
        if not where:
            raise RuntimeError("tus create: %r" % out[:300])
        url, offset = urllib.parse.urljoin(self.base, where.group(1)), 0
        self.made.append(url)
        for p in parts:
            status = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH", "-T", p,
                          "-H", "Upload-Offset: %d" % offset,
                          "-H", "Content-Type: application/offset+octet-stream", *self.head, url)
            if status.strip() != b"204":
                raise RuntimeError("tus PATCH at %d: %s" % (offset, status))
            offset += os.path.getsize(p)

    def upload(self, key, parts, parallel):
        if parallel == 1:
            return self.one(parts)
        n = math.ceil(len(parts) / parallel)
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            list(ex.map(self.one, [parts[i:i + n] for i in range(0, len(parts), n)]))

    def delete(self, key):
        """Every upload made since the last delete (tus's termination extension)."""
        for url in self.made:
            curl("-o", "/dev/null", "-X", "DELETE", *self.head, url)
        self.made = []


@contextlib.contextmanager
def tus_server(work):
    store = os.path.join(work, "tus-store")
    os.makedirs(store)
    shutil.copy2(os.path.join(TOP, "tests", "bench", "tus_server.mjs"), TUS_DIR)
    port = free_port()
    # node as a child of a shell, so that ProcWatch (which watches descendants) sees it
    proc = subprocess.Popen(["/bin/sh", "-c", 'node "$0"; :', os.path.join(TUS_DIR, "tus_server.mjs")],
                            env=dict(os.environ, PORT=str(port), TUS_DIR=store))
    try:
        wait_for_port(port, proc)
        yield proc, Tus(port)
    finally:
        for pid in procs.descendants(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, 15)
        proc.wait()
        shutil.rmtree(store, ignore_errors=True)


PEER_WORK = {"ceiling": "", "ceiling-md5": " +md5", "ceiling-md5-durable": " +md5+fdatasync"}


def peer(work, settings, args, data, log):
    """r2mpu (lighttpd, the file store, fsync on and off) and the no-op app's turns
    (work_ceilings) against @tus/server + @tus/file-store on the same disk, the same
    parts of 10 MiB, the same curl:
    one at a time, then PEER_PARALLEL at a time; --runs each, alternating, medians.
    Server CPU: lighttpd + r2mpu, or node; memory: r2mpu's or node's peak RSS."""
    if not os.path.exists(os.path.join(TUS_DIR, "node_modules", "@tus", "file-store")):
        log("peer: skipped: @tus/server is not in %s (make bench installs it with npm)" % TUS_DIR)
        return []
    if not shutil.which("node"):
        log("peer: skipped: no node")
        return []
    parts = data[10]
    rows = []
    for parallel in (1, PEER_PARALLEL):
        with contextlib.ExitStack() as stack:
            sides = {}
            for name, fsync in (("r2mpu", "1"), ("r2mpu, fsync off", "0")):
                web = serve(work, dict(settings, R2MPU_FS_FSYNC=fsync,
                                       R2MPU_FS_ROOT=os.path.join(work, "peer-" + fsync)),
                            "peer-%s-%d" % (fsync, parallel), parallel, 10)
                client = stack.enter_context(web)
                sides[name] = (Gateway(client.port), ProcWatch(web.binary, web.proc.pid))
            if os.path.exists(os.path.join(work, "noop.fcgi")):
                # What any FastCGI app behind this lighttpd pays, with only the work
                # S3's answers need (an MD5 ETag), and that with the bytes made durable.
                for name, work_env in work_ceilings(os.path.join(work, "peer-noop")):
                    web = serve(work, dict(settings, **work_env), "peer-%s-%d" % (name, parallel),
                                parallel, 10, "noop.fcgi")
                    client = stack.enter_context(web)
                    sides["no-op app" + PEER_WORK[name]] = (
                        Gateway(client.port), ProcWatch(web.binary, web.proc.pid))
            if shutil.which("nginx"):
                # nginx-conf/r2mpu.conf before a standalone r2mpu: no spool, a cheaper hop.
                nginx = Nginx(gateway_settings(dict(settings, R2MPU_FS_ROOT=os.path.join(
                                  work, "peer-nginx")), parallel, 10),
                              os.path.join(work, "nginx-peer-%d.log" % parallel),
                              os.path.join(work, "peer-nginx-%d" % parallel))
                client = stack.enter_context(nginx)
                sides["r2mpu behind nginx"] = (Gateway(client.port, client.prefix + "/"),
                                               ProcWatch(BIN, *(p.pid for p in nginx.procs)))
            proc, tus = stack.enter_context(tus_server(work))
            sides["tus"] = (tus, ProcWatch("/nonexistent", proc.pid))
            times = {name: [] for name in sides}
            names = list(sides)
            for run in range(args.runs):
                for name in names[run % len(names):] + names[:run % len(names)]:
                    key = "bench/peer-%d-%d.bin" % (parallel, run)
                    t = time.monotonic()
                    sides[name][0].upload(key, parts, parallel)
                    times[name].append(time.monotonic() - t)
                    sides[name][0].delete(key)
                    os.sync()    # tus never syncs: its dirty pages are not the next side's
            gib = args.size_mib / 1024 * args.runs
            for name, (_, watch) in sides.items():
                p = watch.finish()
                cpu = p["server_cpu_s"]
                # The whole server's memory at its peak: node, or the web server and all
                # its r2mpu processes, with shared pages split between them (PSS).
                hwm = p["pss_peak_kib"]
                rows.append({"store": "fs", "op": "peer", "server": name, "parallel": parallel,
                             "runs": args.runs,
                             "mbps": args.size_mib * MiB / statistics.median(times[name]) / 1e6,
                             "cpu_s_per_gib": cpu / gib, "peak_pss_mib": hwm / 1024,
                             "runs_s": " ".join("%.2f" % t for t in times[name])})
                log("  peer %s, %d at a time: %.1f MB/s, %.2f CPU-s/GiB" % (
                    name, parallel, rows[-1]["mbps"], rows[-1]["cpu_s_per_gib"]))
    return rows


def bench_store(store, args, work, data, log):
    """Every measurement for one store: rows for the throughput and latency tables."""
    rows, lat_rows = [], []
    store_dir = os.path.join(work, store)
    os.makedirs(store_dir)
    cleanup = lambda: None  # noqa: E731
    if store == "fs":
        settings = {"R2MPU_STORE": "fs", "R2MPU_FS_ROOT": os.path.join(store_dir, "r2mpu")}
        server = None
        direct = FsDirect(os.path.join(store_dir, "direct"))
    else:
        server = S3Server(store, store_dir)
        try:
            s3 = server.__enter__()
        except S3Server.Unavailable as e:
            log("%s: skipped: %s" % (store, e))
            return rows, lat_rows
        settings = dict(s3, R2MPU_FS_ROOT=os.path.join(store_dir, "unused"))
        direct = S3Direct(s3)
        if store == "radosgw":
            cleanup = Radosgw(server.dir).collect
    # The no-op app behind the same lighttpd config: the file store's ceiling.
    with_ceiling = store == "fs" and os.path.exists(os.path.join(work, "noop.fcgi"))
    try:
        for label, part_mib, parallel in (SCENARIOS if "throughput" in args.sections else []):
            parts = data[part_mib]
            t0 = time.monotonic()
            web = serve(work, settings, "%s-%d" % (store, part_mib), parallel, part_mib)
            with contextlib.ExitStack() as stack:
                client = stack.enter_context(web)
                watch = ProcWatch(web.binary, web.proc.pid)
                sides = {"gateway": Gateway(client.port), "direct": direct}
                if with_ceiling:
                    for name, work_env in work_ceilings(store_dir):
                        noop = stack.enter_context(serve(
                            work, dict(settings, **work_env), "%s-%d" % (name, part_mib),
                            parallel, part_mib, "noop.fcgi"))
                        sides[name] = Gateway(noop.port)
                if store != "fs":
                    # The same signed requests through lighttpd alone: the hop's own cost.
                    proxy_port = stack.enter_context(lighttpd_proxy(
                        work, settings["R2MPU_S3_ENDPOINT"], "proxy-%d" % part_mib))
                    sides["proxied"] = S3Direct(dict(settings, R2MPU_S3_ENDPOINT=
                                                     "http://127.0.0.1:%d" % proxy_port))
                if args.baseline_bin:
                    base_web = serve(work, dict(settings, R2MPU_FS_ROOT=os.path.join(
                        store_dir, "baseline")), "baseline-%d" % part_mib, parallel, part_mib,
                        "baseline.fcgi")
                    base = stack.enter_context(base_web)
                    base_watch = ProcWatch(base_web.binary, base_web.proc.pid)
                    sides["baseline"] = Gateway(base.port)
                times = {name: [] for name in sides}
                names = list(sides)
                for run in range(args.runs):
                    # Each side first in turn: every one sees the same machine state.
                    order = names[run % len(names):] + names[:run % len(names)]
                    for name in order:
                        key = "bench/%s-%d-%d.bin" % (name, part_mib, run)
                        t = time.monotonic()
                        sides[name].upload(key, parts, parallel)
                        times[name].append(time.monotonic() - t)
                        sides[name].delete(key)
                        cleanup()
                        log("  %s %s run %d %s: %.2f s" % (store, label, run + 1, name,
                                                         times[name][-1]))
                procs = watch.finish()
                base_procs = base_watch.finish() if "baseline" in sides else None
            gw, dr = statistics.median(times["gateway"]), statistics.median(times["direct"])
            ce = statistics.median(times["ceiling"]) if with_ceiling else None
            size = args.size_mib * MiB
            rows.append({
                "store": store, "scenario": label, "part_mib": part_mib,
                "parallel": parallel, "parts": len(parts), "runs": args.runs,
                "gateway_mbps": size / gw / 1e6, "direct_mbps": size / dr / 1e6,
                "ratio": dr / gw, "ratio_goal_met": dr / gw >= RATIO_GOAL,
                "ceiling_mbps": size / ce / 1e6 if ce else None,
                "of_ceiling": ce / gw if ce else None,
                "ceiling_goal_met": ce / gw >= RATIO_GOAL if ce else None,
                "max_rss_mib": procs["r2mpu_hwm_kib"] / 1024,
                "rss_goal_met": procs["r2mpu_hwm_kib"] < RSS_GOAL_MIB * 1024,
                "r2mpu_cpu_s_per_upload": procs["r2mpu_cpu_s"] / args.runs,
                "lighttpd_cpu_s_per_upload": procs["lighttpd_cpu_s"] / args.runs,
                "gateway_runs_s": " ".join("%.2f" % t for t in times["gateway"]),
                "direct_runs_s": " ".join("%.2f" % t for t in times["direct"]),
                "ceiling_runs_s": " ".join("%.2f" % t for t in times.get("ceiling", [])),
            })
            for name in [n for n in times if n.startswith("ceiling-")]:
                tag = name[len("ceiling-"):].replace("-", "_")
                c = statistics.median(times[name])
                rows[-1].update({"ceiling_%s_mbps" % tag: size / c / 1e6,
                                 "of_ceiling_%s" % tag: c / gw,
                                 "ceiling_%s_runs_s" % tag: " ".join("%.2f" % t for t in times[name])})
            if "proxied" in times:
                px = statistics.median(times["proxied"])
                rows[-1].update({"proxied_mbps": size / px / 1e6, "proxied_ratio": dr / px,
                                 "proxied_runs_s": " ".join("%.2f" % t for t in times["proxied"])})
            if "baseline" in times:
                rows[-1]["baseline_mbps"] = size / statistics.median(times["baseline"]) / 1e6
                rows[-1]["baseline_runs_s"] = " ".join("%.2f" % t for t in times["baseline"])
                rows[-1]["baseline_r2mpu_cpu_s_per_upload"] = base_procs["r2mpu_cpu_s"] / args.runs
            log("  %s %s: done in %.0f s" % (store, label, time.monotonic() - t0))

        if store == "fs":
            for section, fn in (("complete", complete_by_size), ("body", body_modes),
                                ("peer", peer)):
                if section not in args.sections:
                    continue
                try:
                    lat_rows += fn(work, settings, args, data, log)
                except Exception:     # the rest of the run's numbers are kept
                    log("%s: failed, skipped:\n%s" % (section, traceback.format_exc()))

        if "latency" in args.sections:
            # Latency: sequential requests, blocks alternating between the sides.
            t0 = time.monotonic()
            with contextlib.ExitStack() as stack:
                client = stack.enter_context(serve(work, settings, store + "-latency", SMALL_CLIENTS,
                                                   LATENCY_PART_MIB))
                sides = {"gateway": Gateway(client.port), "direct": direct}
                if with_ceiling:
                    noop = stack.enter_context(serve(work, settings, "noop-latency", SMALL_CLIENTS,
                                                     LATENCY_PART_MIB, "noop.fcgi"))
                    sides["ceiling"] = Gateway(noop.port)
                lat = {s: {"create": [], "uploadpart": [], "abort": []} for s in sides}
                left, block = args.latency_samples, 0
                names = list(sides)
                while left > 0:
                    n = min(LATENCY_BLOCK, left)
                    order = names[block % len(names):] + names[:block % len(names)]
                    for name in order:
                        got = sides[name].latency("bench/latency-%s.bin" % name, n,
                                                  data["latency"], work)
                        for op, ts in got.items():
                            lat[name][op].extend(ts)
                        cleanup()
                    left -= n
                    block += 1
                # Small requests in bulk: create+abort pairs from SMALL_CLIENTS clients at once.
                pairs = {}
                for name in [k for k in ("gateway", "ceiling") if k in sides]:
                    pairs[name] = small_requests(sides[name], work, name)
            for op, label in (("create", "mpu-create"),
                              ("uploadpart", "uploadpart %d MiB" % LATENCY_PART_MIB),
                              ("abort", "mpu-abort")):
                g, d, c = lat["gateway"][op], lat["direct"][op], lat.get("ceiling", {}).get(op)
                lat_rows.append({
                    "store": store, "op": label, "samples": len(g),
                    "gateway_p50_ms": percentile(g, 50) * 1e3, "gateway_p99_ms": percentile(g, 99) * 1e3,
                    "direct_p50_ms": percentile(d, 50) * 1e3, "direct_p99_ms": percentile(d, 99) * 1e3,
                    "ceiling_p50_ms": percentile(c, 50) * 1e3 if c else None,
                    "ceiling_p99_ms": percentile(c, 99) * 1e3 if c else None,
                })
            lat_rows.append({
                "store": store, "op": "create+abort pairs/s, %d clients" % SMALL_CLIENTS,
                "samples": SMALL_CLIENTS * SMALL_PAIRS, "pairs_per_s": pairs["gateway"],
                "ceiling_pairs_per_s": pairs.get("ceiling"),
            })
            log("  %s latency: done in %.0f s" % (store, time.monotonic() - t0))

        if args.big_part:
            # One part of the whole size alone, for the RSS of a large streaming part.
            web = serve(work, settings, store + "-big", 1, args.size_mib)
            with web as client:
                watch = ProcWatch(web.binary, web.proc.pid)
                gwy = Gateway(client.port)
                t = time.monotonic()
                gwy.upload("bench/big-part.bin", [data["whole"]], 1)
                secs = time.monotonic() - t
                gwy.delete("bench/big-part.bin")
                cleanup()
                procs = watch.finish()
            rows.append({
                "store": store, "scenario": "%dMiB x1" % args.size_mib,
                "part_mib": args.size_mib, "parallel": 1, "parts": 1, "runs": 1,
                "gateway_mbps": args.size_mib * MiB / secs / 1e6,
                "direct_mbps": None, "ratio": None, "ratio_goal_met": None,
                "max_rss_mib": procs["r2mpu_hwm_kib"] / 1024,
                "rss_goal_met": procs["r2mpu_hwm_kib"] < RSS_GOAL_MIB * 1024,
                "r2mpu_cpu_s_per_upload": procs["r2mpu_cpu_s"],
                "lighttpd_cpu_s_per_upload": procs["lighttpd_cpu_s"],
                "gateway_runs_s": "%.2f" % secs, "direct_runs_s": "",
            })
            log("  %s one %d MiB part: %.2f s" % (store, args.size_mib, secs))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    return rows, lat_rows


def yes_no(v):
    return "-" if v is None else ("yes" if v else "NO")


def fmt(v, spec):
    return "-" if v is None else spec % v


def table(out, intro, head, lines):
    """Appends to out a table of lines under its intro and head; nothing if no lines."""
    if not lines:
        return
    out.extend([""] + intro + ["", head, "-" * len(head)] + lines)


def tables(rows, lat_rows, args, elapsed, load):
    out = []
    out.append("Upload of %d MiB: through r2mpu behind lighttpd (gateway) vs straight to the "
               "same store (direct);" % args.size_mib)
    out.append("median of %d runs each, alternating. Goals: gateway/direct >= %.2f, "
               "every r2mpu process < %d MiB RSS." % (args.runs, RATIO_GOAL, RSS_GOAL_MIB))
    out.append("")
    head = "%-8s %-10s %6s %12s %12s %6s %7s %13s %10s %7s %14s %7s" % (
        "store", "scenario", "parts", "gateway MB/s", "direct MB/s", "ratio", ">=0.90",
        "ceiling MB/s", "of ceiling", ">=0.90", "max r2mpu RSS", "<16MiB")
    out.append(head)
    out.append("-" * len(head))
    for r in rows:
        out.append("%-8s %-10s %6d %12.1f %12s %6s %7s %13s %10s %7s %10.1f MiB %7s" % (
            r["store"], r["scenario"], r["parts"], r["gateway_mbps"],
            fmt(r["direct_mbps"], "%.1f"), fmt(r["ratio"], "%.2f"),
            yes_no(r["ratio_goal_met"]), fmt(r.get("ceiling_mbps"), "%.1f"),
            fmt(r.get("of_ceiling"), "%.2f"), yes_no(r.get("ceiling_goal_met")), r["max_rss_mib"],
            yes_no(r["rss_goal_met"])))
    work_rows = [r for r in rows if "ceiling_md5_mbps" in r]
    table(out, ["The file store against the no-op app doing only the work any store with "
                "S3's answers must do:",
                "nothing (ceiling), each part's MD5 (its ETag), and the MD5 with the part "
                "written and fdatasync()ed:"],
          "%-10s %12s %13s %8s %13s %8s %13s %8s" % (
              "scenario", "r2mpu MB/s", "ceiling MB/s", "of it", "+md5 MB/s", "of it",
              "+durable MB/s", "of it"),
          ["%-10s %12.1f %13.1f %8.2f %13.1f %8.2f %13s %8s" % (
              r["scenario"], r["gateway_mbps"], r["ceiling_mbps"], r["of_ceiling"],
              r["ceiling_md5_mbps"], r["of_ceiling_md5"],
              fmt(r.get("ceiling_md5_durable_mbps"), "%.1f"),
              fmt(r.get("of_ceiling_md5_durable"), "%.2f")) for r in work_rows])
    table(out, ["The S3 stores: the same signed requests sent through lighttpd alone "
                "(mod_proxy, no application),",
                "the cheapest hop any gateway behind the web server can take, against direct "
                "and r2mpu:"],
          "%-8s %-10s %12s %13s %10s %12s %10s" % (
              "store", "scenario", "direct MB/s", "proxied MB/s", "of direct", "r2mpu MB/s",
              "of proxied"),
          ["%-8s %-10s %12.1f %13.1f %10.2f %12.1f %10.2f" % (
              r["store"], r["scenario"], r["direct_mbps"], r["proxied_mbps"],
              r["proxied_ratio"], r["gateway_mbps"], r["gateway_mbps"] / r["proxied_mbps"])
           for r in rows if "proxied_mbps" in r])
    for r in rows:
        if "baseline_mbps" in r:
            out.append("%-8s %-10s baseline build (--baseline-bin): %.1f MB/s; this build %.1f "
                       "(%.2fx)" % (r["store"], r["scenario"], r["baseline_mbps"], r["gateway_mbps"],
                                   r["gateway_mbps"] / r["baseline_mbps"]))
    out.append("")
    out.append("r2mpu's own CPU, seconds per GiB uploaded (every r2mpu process, user + system; "
               "every part with its Content-MD5):")
    out.append("")
    gib = args.size_mib / 1024
    for r in rows:
        if r["direct_mbps"] is None:      # the one big part: no baseline turn
            continue
        line = "%-8s %-10s this build %5.2f" % (r["store"], r["scenario"],
                                                r["r2mpu_cpu_s_per_upload"] / gib)
        if "baseline_r2mpu_cpu_s_per_upload" in r:
            line += "   baseline build %5.2f" % (r["baseline_r2mpu_cpu_s_per_upload"] / gib)
        out.append(line)
    out.append("")
    out.append("Latency of sequential requests, ms (%d of each op per side; one curl per "
               "block of %d, keep-alive):" % (args.latency_samples, LATENCY_BLOCK))
    out.append("")
    head = "%-8s %-18s %12s %12s %12s %12s %12s %12s" % (
        "store", "operation", "gateway p50", "direct p50", "ceiling p50", "gateway p99",
        "direct p99", "ceiling p99")
    out.append(head)
    out.append("-" * len(head))
    pair_rows = [r for r in lat_rows if "pairs_per_s" in r]
    complete_rows = [r for r in lat_rows if "complete_p50_ms" in r]
    mode_rows = [r for r in lat_rows if r.get("op") == "body mode"]
    peer_rows = [r for r in lat_rows if r.get("op") == "peer"]
    for r in lat_rows:
        if "pairs_per_s" in r or "complete_p50_ms" in r or r.get("op") in ("body mode", "peer"):
            continue
        out.append("%-8s %-18s %12.1f %12.1f %12s %12.1f %12.1f %12s" % (
            r["store"], r["op"], r["gateway_p50_ms"], r["direct_p50_ms"],
            fmt(r["ceiling_p50_ms"], "%.1f"), r["gateway_p99_ms"], r["direct_p99_ms"],
            fmt(r["ceiling_p99_ms"], "%.1f")))
    out.append("")
    out.append("Small requests: mpu-create + mpu-abort pairs per second, %d clients at once, "
               "%d pairs each:" % (SMALL_CLIENTS, SMALL_PAIRS))
    out.append("")
    for r in pair_rows:
        out.append("%-8s gateway %8.0f pairs/s   ceiling %8s pairs/s" % (
            r["store"], r["pairs_per_s"], fmt(r["ceiling_pairs_per_s"], "%.0f")))
    if complete_rows:
        out.append("")
        out.append("The file store's mpu-complete alone, by object size (median of %d; goal: "
                   "the largest at most 2x the 16 MiB one's):" % COMPLETE_RUNS)
        out.append("")
        for r in complete_rows:
            out.append("%-8s %-36s %8.1f ms  %5.2fx" % (r["store"], r["op"], r["complete_p50_ms"],
                                                        r["of_small"]))
    if mode_rows:
        out.append("")
        out.append("How lighttpd hands bodies to r2mpu (fs store; median of %d, alternating):"
                   % args.runs)
        out.append("")
        for r in mode_rows:
            out.append("%-10s %-48s %8.1f MB/s  lighttpd %5.2f CPU-s/upload, peak RSS %6.1f MiB"
                       % (r["scenario"], r["mode"], r["mbps"], r["lighttpd_cpu_s_per_upload"],
                          r["lighttpd_hwm_mib"]))
    if peer_rows:
        out.append("")
        out.append("Against the peer: @tus/server + @tus/file-store on the same disk, 10 MiB "
                   "requests (median of %d, alternating; tus never fsyncs):" % args.runs)
        out.append("")
        for r in peer_rows:
            out.append("%-24s %d at a time %8.1f MB/s  server %5.2f CPU-s/GiB  server's peak PSS %6.1f MiB"
                       % (r["server"], r["parallel"], r["mbps"], r["cpu_s_per_gib"],
                          r["peak_pss_mib"]))
    out.append("")
    out.append("Total run time: %.0f s; load average (1 min) at start %s, at end %s; "
               "%d cores" % (elapsed, load[0], load[1], os.cpu_count()))
    return "\n".join(out) + "\n"


def write_csv(path, rows):
    if not rows:
        return
    with open(path, "w", newline="") as f:
        names = []   # every row's fields, in the order they first appear
        for r in rows:
            names += [k for k in r if k not in names]
        w = csv.DictWriter(f, fieldnames=names, restval="")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("%.3f" % v if isinstance(v, float) else
                            "" if v is None else v) for k, v in r.items()})


def chart(rows, args, out):
    """throughput.png: gateway vs direct MB/s per store and scenario (gnuplot)."""
    pairs = [r for r in rows if r["direct_mbps"] is not None]
    dat = os.path.join(out, "throughput.dat")
    with open(dat, "w") as f:
        f.write("# label gateway direct ratio\n")
        for r in pairs:
            f.write('"%s\\n%s" %.1f %.1f %.2f\n' % (r["store"], r["scenario"],
                                                     r["gateway_mbps"], r["direct_mbps"],
                                                     r["ratio"]))
    term = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True,
                          text=True)
    kind = "pngcairo" if "pngcairo" in term.stdout + term.stderr else "png"
    script = """set terminal %(kind)s size 960,520
set output '%(png)s'
set title "r2mpu behind lighttpd vs direct: %(size)d MiB upload, median of %(runs)d runs\\n(the number over each pair: gateway/direct)"
set ylabel "MB/s"
set yrange [0:*]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top left
set grid ytics
set offsets 0, 0, graph 0.12, 0
set bmargin 4
plot '%(dat)s' using 2:xtic(1) title 'through r2mpu' lc rgb '#3b6ea8', \\
     '' using 3 title 'direct' lc rgb '#b0b0b0', \\
     '' using ($0 - 0.15):2:(sprintf('%%.2f', $4)) with labels offset 0,0.8 notitle
""" % {"kind": kind, "png": os.path.join(out, "throughput.png"), "size": args.size_mib,
       "runs": args.runs, "dat": dat}
    with open(os.path.join(out, "throughput.gp"), "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", os.path.join(out, "throughput.gp")], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", default="fs,moto,radosgw")
    ap.add_argument("--sections", default="throughput,latency,complete,body,peer",
                    type=lambda v: set(v.split(",")),
                    help="what to measure (the last three on the file store only)")
    ap.add_argument("--baseline-bin", help="another build of r2mpu, measured beside this one "
                    "in the same alternation (an A/B of a change)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--latency-samples", type=int, default=200)
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--no-big-part", dest="big_part", action="store_false",
                    help="skip the one-part RSS check")
    args = ap.parse_args()
    stores = args.stores.split(",")
    for s in stores:
        if s not in ("fs", "moto", "radosgw"):
            ap.error("unknown store: " + s)
    if shutil.which("gnuplot") is None:
        ap.error("gnuplot is not installed (apt-get install gnuplot-nox)")
    if not os.access(BIN, os.X_OK):
        ap.error("build first: " + BIN)
    os.makedirs(args.out, exist_ok=True)
    # radosgw's OSD keeps objects in memory: room for a run's objects before
    # garbage collection frees them.
    os.environ.setdefault("R2MPU_RGW_MEMSTORE_BYTES", str(6 * args.size_mib * MiB))

    started = time.monotonic()

    def log(msg):
        print("[%4.0f s] %s" % (time.monotonic() - started, msg), file=sys.stderr, flush=True)

    work = tempfile.mkdtemp(prefix="r2mpu-bench-")
    rows, lat_rows = [], []
    try:
        # The binary as it is now, whatever a rebuild does to cgi-bin meanwhile.
        shutil.copy2(BIN, os.path.join(work, "r2mpu.fcgi"))
        if args.baseline_bin:
            shutil.copy2(args.baseline_bin, os.path.join(work, "baseline.fcgi"))
        if os.path.exists(NOOP):
            shutil.copy2(NOOP, os.path.join(work, "noop.fcgi"))
        else:
            log("no ceiling: %s is missing (make bench builds it)" % NOOP)
        load = [open("/proc/loadavg").read().split()[0]]
        whole = os.path.join(work, "whole")
        with open(whole, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(MiB))
        data = {"whole": whole, "latency": os.path.join(work, "latency-part"),
                "complete16": split(whole, 16, 16, work)}
        for _, part_mib, _ in SCENARIOS:
            data[part_mib] = split(whole, args.size_mib, part_mib, work)
        with open(data["latency"], "wb") as f:
            f.write(os.urandom(LATENCY_PART_MIB * MiB))
        for store in stores:
            log("%s: start" % store)
            r, lr = bench_store(store, args, work, data, log)
            rows += r
            lat_rows += lr
        load.append(open("/proc/loadavg").read().split()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = tables(rows, lat_rows, args, time.monotonic() - started, load)
    sys.stdout.write(text)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text)
    write_csv(os.path.join(args.out, "throughput.csv"), rows)
    write_csv(os.path.join(args.out, "latency.csv"), lat_rows)
    if any(r.get("direct_mbps") for r in rows):    # not without the throughput runs
        chart(rows, args, args.out)
    print("Written: %s/{throughput.csv,latency.csv,summary.txt,throughput.png}" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
