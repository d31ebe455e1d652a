#!/usr/bin/env python3
"""tests/bench/upload_bench.py: a 1 GiB multipart upload through r2mpu vs straight to the store.

    upload_bench.py --store moto|radosgw [--runs 3] [--part-mib 64] [--parallel 4]

Both sides use curl for every request, side by side in one run, alternating:
  gateway  curl -> lighttpd -> r2mpu (FastCGI) -> the S3 server
  direct   curl --aws-sigv4 -> the S3 server
Prints the median wall time and MB/s of each, their ratio, and the peak RSS
(VmHWM) of the r2mpu processes. Then one 1 GiB part alone through r2mpu, for
the peak RSS of a process streaming one large part.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blackbox"))
from clients import Lighttpd, S3Server  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")
MiB = 1024 * 1024


def curl(*args, data=None):
    p = subprocess.run(["curl", "-sS", "--fail-with-body"] + list(args), input=data,
                       capture_output=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError("curl %s: %s %s" % (args[-1], p.stdout[-300:], p.stderr[-300:]))
    return p.stdout


class Gateway:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d/" % port

    def upload(self, key, parts, parallel):
        url = self.base + key
        uid = json.loads(curl("-X", "POST", "-H", "Content-Length: 0",
                              url + "?action=mpu-create"))["uploadId"]

        def one(i):
            out = curl("-T", parts[i], "%s?action=mpu-uploadpart&uploadId=%s&partNumber=%d"
                       % (url, uid, i + 1))
            return json.loads(out)
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            done = list(ex.map(one, range(len(parts))))
        curl("-X", "POST", "--data-binary", json.dumps({"parts": done}),
             url + "?action=mpu-complete&uploadId=" + uid)


class Direct:
    """The same upload, signed by curl itself (with the 7.88 workarounds)."""

    def __init__(self, s3):
        self.ep = s3["R2MPU_S3_ENDPOINT"] + "/" + s3["R2MPU_S3_BUCKET"] + "/"
        self.auth = ["--aws-sigv4", "aws:amz:%s:s3" % s3["R2MPU_S3_REGION"],
                     "--user", "%s:%s" % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                          s3["R2MPU_S3_SECRET_ACCESS_KEY"])]

    def upload(self, key, parts, parallel):
        url = self.ep + key
        unsigned = ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        out = curl(*self.auth, *unsigned, "-X", "POST", "-H", "Content-Length: 0",
                   url + "?uploads=").decode()
        uid = re.search(r"<UploadId>([^<]+)</UploadId>", out).group(1)

        def one(i):
            out = subprocess.run(["curl", "-sS", "--fail", "-D", "-", "-o", "/dev/null",
                                  *self.auth, *unsigned, "-T", parts[i],
                                  "%s?partNumber=%d&uploadId=%s" % (url, i + 1, uid)],
                                 capture_output=True, text=True, timeout=900)
            m = re.search(r"(?i)^etag:\s*(\S+)", out.stdout, re.M)
            if out.returncode != 0 or not m:
                raise RuntimeError("direct part %d: %s" % (i + 1, out.stderr))
            return m.group(1)
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            etags = list(ex.map(one, range(len(parts))))
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e)
            for i, e in enumerate(etags))
        body = xml.encode()
        curl(*self.auth, "-H", "x-amz-content-sha256: " + hashlib.sha256(body).hexdigest(),
             "-H", "Content-Type: application/xml", "-X", "POST", "--data-binary", "@-",
             url + "?uploadId=" + uid, data=body)


def client_url(client, key):
    return "http://127.0.0.1:%d/%s" % (client.port, key)


def r2mpu_hwm_kib():
    out = subprocess.run(["pgrep", "-f", "-x", BIN], capture_output=True, text=True).stdout
    best = 0
    for pid in out.split():
        try:
            for line in open("/proc/%s/status" % pid):
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=("moto", "radosgw"), required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--total-mib", type=int, default=1024)
    ap.add_argument("--part-mib", type=int, default=64)
    ap.add_argument("--parallel", type=int, default=4)
    args = ap.parse_args()

    # radosgw frees deleted objects only at its next garbage collection:
    # give its in-memory store room for every upload of the run.
    os.environ.setdefault("R2MPU_RGW_MEMSTORE_BYTES",
                          str((2 * args.runs + 2) * args.total_mib * MiB))
    work = tempfile.mkdtemp(prefix="r2mpu-bench-")
    try:
        nparts = args.total_mib // args.part_mib
        whole = os.path.join(work, "whole")
        with open(whole, "wb") as f:
            for _ in range(args.total_mib):
                f.write(os.urandom(MiB))
        parts = []
        with open(whole, "rb") as f:
            for i in range(nparts):
                p = os.path.join(work, "part%05d" % i)
                with open(p, "wb") as out:
                    out.write(f.read(args.part_mib * MiB))
                parts.append(p)
        total = args.total_mib * MiB
        with S3Server(TOP, args.store, work) as s3, \
                Lighttpd(TOP, dict(s3, R2MPU_PROCS=str(args.parallel),
                                   R2MPU_FS_ROOT=os.path.join(work, "unused")),
                         os.path.join(work, "server.log")) as client:
            sides = {"gateway": Gateway(client.port), "direct": Direct(s3)}
            times = {name: [] for name in sides}
            for run in range(args.runs):
                for name, side in sides.items():
                    key = "bench/%s-%d.bin" % (name, run)
                    t = time.monotonic()
                    side.upload(key, parts, args.parallel)
                    times[name].append(time.monotonic() - t)
                    # radosgw keeps objects in memory (memstore): make room.
                    curl("-X", "DELETE", client_url(client, key) + "?action=delete")
            hwm_parallel = r2mpu_hwm_kib()
            # One 1 GiB part alone, for the peak RSS of a single streaming process.
            Gateway(client.port).upload("bench/one-part.bin", [whole], 1)
            curl("-X", "DELETE", client_url(client, "bench/one-part.bin") + "?action=delete")
            hwm_one = r2mpu_hwm_kib()
        print("store: %s; %d MiB in %d parts of %d MiB, %d at a time; %d runs each, alternating"
              % (args.store, args.total_mib, nparts, args.part_mib, args.parallel, args.runs))
        med = {}
        for name in sides:
            med[name] = statistics.median(times[name])
            print("  %-8s median %6.2f s  %7.1f MB/s   runs: %s" % (
                name, med[name], total / med[name] / 1e6,
                ", ".join("%.2f" % t for t in times[name])))
        print("  gateway/direct throughput: %.2f" % (med["direct"] / med["gateway"]))
        print("  r2mpu peak RSS (VmHWM), any process: %d KiB after the runs; "
              "%d KiB after one %d MiB part" % (hwm_parallel, hwm_one, args.total_mib))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
