#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/faults.py: faults of the store, the client and the disk.

Every fault must end in a clear error status (with X-R2mpu-Error and a
plain-text message), store nothing half, and leave r2mpu serving the next
request normally:

- S3 store faults, in CGI mode and through lighttpd: tests/s3/faulty_proxy.py
  (a fault injector in front of real, signature-checking moto) answers
  500/503, stalls, sends garbage or cut XML, or hangs up, on CreateMultipartUpload,
  UploadPart, CompleteMultipartUpload, GetObject and AbortMultipartUpload.
  What the store really holds afterwards is read from moto itself (ListParts,
  signed by curl), not only through r2mpu.
- moto killed (SIGKILL) while a 64 MiB part streams through lighttpd, then
  started again on the same port: the same r2mpu process serves on.
- a client that goes away mid-part (fs store and S3 store, through lighttpd).
- the fs store's disk fills up (a small tmpfs): a part, an upload's creation
  and a complete that do not fit.

Where the right answer is a judgment call (the store did complete, but its
answer was lost), the test asserts only "whole or nothing" and prints a
`note` line saying what the client got.

moto is not in Debian; without it the S3 parts are skipped, with a message.
The disk-full part needs root (mount); without it, it is skipped.
"""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from lib import BIN as BUILT, TOP, api, servers
from lib.api import MiB, complete, create, data, expect, get, md5, part_target, put_part
from lib.proxy import FaultyProxy
from lib.checks import RESULTS, Logs, check, fs_data_dirs, fs_object, leftovers, sanitizer_reports
from lib.clients import CgiClient, Response, read_until_closed, request_head

# main() runs a copy of the build under test (lib.BIN), so that a rebuild
# during the run cannot swap the binary under the processes.
BIN = BUILT
TIMEOUT = 2          # R2MPU_S3_TIMEOUT for the stalls, seconds
LOGS = []            # every file r2mpu's stderr went to: scanned for sanitizer reports
BASE = {"R2MPU_OPEN_ACCESS": "yes"}


def test(name, fn, *args):
    """Run fn(*args); an AssertionError (or any exception) fails `name`."""
    try:
        fn(*args)
    except AssertionError as e:
        check(name, False, str(e)[:2000])
    except Exception:
        check(name, False, traceback.format_exc()[-2000:])
    else:
        check(name, True)


def note(text):
    print("note " + text, flush=True)


# ---- what a fault's answer must look like --------------------------------------------------

def gateway_error(r, status, codes, head=False):
    """A clear answer of r2mpu's own: the status, its code, a short text
    (for HEAD, only its headers)."""
    codes = (codes,) if isinstance(codes, str) else codes
    ok = (r.status == status and r.header("x-r2mpu-error") in codes and
          (r.header("content-type") or "").startswith("text/plain") and
          (head or 0 < len(r.body) < 500) and b"<" not in r.body)
    assert ok, "expected %d %s with a plain-text message, got %r" % (status, "/".join(codes), r)
    return r


def cgi_client(settings, log, name):
    """CGI mode, with r2mpu's stderr kept in `log` (sanitizer reports, log lines)."""
    LOGS.append(log)
    Logs.watch(log)
    # HTTP_HOST: what a server passes for an HTTP/1.1 request to 127.0.0.1
    # (open access refuses a request without a loopback Host).
    c = CgiClient(BIN, dict(settings, HTTP_HOST="127.0.0.1"),
                  ["/bin/sh", "-c", 'exec "$0" 2>>"%s"' % log])
    c.name = name
    return c


@contextlib.contextmanager
def lighttpd(settings, log, name):
    LOGS.append(log)
    server = servers.Lighttpd(dict(settings, R2MPU_TEST_BIN=BIN), log)
    with server as c:
        c.name = name
        c.server = server
        yield c


def streamed_exchange(port, request, body_chunks=(), pause=0.0, on_sent=None, timeout=60):
    """Send a request (headers, then body chunks, `pause` s apart) while reading
    the answer on the same socket, until the server closes it: an answer may
    come before the body is all sent. Returns (status, headers, body,
    bytes_sent); status 0 when no answer came."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = [0]

    def send():
        try:
            s.sendall(request)
            for chunk in body_chunks:
                s.sendall(chunk)
                sent[0] += len(chunk)
                if on_sent:
                    on_sent(sent[0])
                if pause:
                    time.sleep(pause)
        except OSError:
            pass       # the server answered early and closed: the answer is read below
    t = threading.Thread(target=send, daemon=True)
    t.start()
    try:
        data_in, timed_out = read_until_closed(s)
    finally:
        s.close()
    if timed_out:
        raise AssertionError("no end of the answer within %d s (got %r)" % (timeout, data_in[:200]))
    t.join(5)
    head, _, body = data_in.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, sent[0]


def chunks_of(body, size=256 * 1024):
    return (body[i:i + size] for i in range(0, len(body), size))


# ---- the fault injector and the store behind it --------------------------------------------

def store_parts(s3, key, uid):
    """ListParts asked of moto itself (signed by curl): {number: (size, etag)},
    or None when moto knows no such upload."""
    url = "%s/%s/%s?uploadId=%s" % (s3["R2MPU_S3_ENDPOINT"], s3["R2MPU_S3_BUCKET"],
                                    urllib.parse.quote(key), urllib.parse.quote(uid, safe=""))
    p = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:%s:s3" % s3["R2MPU_S3_REGION"],
                        "--user", "%s:%s" % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                             s3["R2MPU_S3_SECRET_ACCESS_KEY"]),
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        "-w", "\n%{http_code}", url], capture_output=True, timeout=30)
    body, _, code = p.stdout.rpartition(b"\n")
    if code in (b"404",) or (code == b"500" and b"NoSuchUpload" in body):
        return None
    assert code == b"200", "ListParts at moto: %s %r" % (code, body[:300])
    parts = {}
    for el in ET.fromstring(body).iter():
        if el.tag.endswith("}Part") or el.tag == "Part":
            f = {c.tag.rpartition("}")[2]: c.text for c in el}
            parts[int(f["PartNumber"])] = (int(f["Size"]), f["ETag"].strip('"'))
    return parts


def store_has_object(s3, key):
    url = "%s/%s/%s" % (s3["R2MPU_S3_ENDPOINT"], s3["R2MPU_S3_BUCKET"], urllib.parse.quote(key))
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-I", "-w", "%{http_code}",
                        "--aws-sigv4", "aws:amz:%s:s3" % s3["R2MPU_S3_REGION"],
                        "--user", "%s:%s" % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                             s3["R2MPU_S3_SECRET_ACCESS_KEY"]),
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url],
                       capture_output=True, timeout=30)
    assert p.stdout in (b"200", b"404"), "HEAD at moto: %r %r" % (p.stdout, p.stderr)
    return p.stdout == b"200"


def abort(c, key, uid):
    return api.abort(c, key, urllib.parse.quote(uid, safe=""))


# ---- S3 faults: the table ------------------------------------------------------------------

def xml_cut(root):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="http://s3.amazonaws.com/doc/'
            '2006-03-01/"><Bucket>r2mpu-test</Bucket><Key>faults/k</Key><UploadId>2~abc' % root)


# name: (rule, expected status, expected codes)
E500 = ("500 InternalError", dict(action="error", status=500, code="InternalError"),
        502, "StoreError")
E503 = ("503 ServiceUnavailable", dict(action="error", status=503, code="ServiceUnavailable",
                                        message="Please reduce your request rate."),
        503, "StoreBusy")
SLOWDOWN = ("503 SlowDown", dict(action="error", status=503, code="SlowDown"), 503, "StoreBusy")
STALL = ("stall", dict(action="stall"), 504, "StoreTimeout")
HTML500 = ("500 with an HTML body", dict(action="garbage", status=500, content_type="text/html",
                                         body="<html><body>upstream exploded</body></html>"),
           502, "StoreError")
TEXT503 = ("503 with a non-XML body", dict(action="garbage", status=503, content_type="text/plain",
                                           body="overloaded, go away"),
           503, "StoreBusy")
GARBAGE200 = ("200 with garbage", dict(action="garbage", status=200, body="\x01\x02 not xml <<<"),
              502, "StoreError")
HANGUP = ("hang-up before answering", dict(action="cut"), 502, ("StoreUnreachable", "StoreError"))
CUT_HEAD = ("answer cut in its headers", dict(action="cut", forward=True, after=20),
            502, ("StoreUnreachable", "StoreError"))


def cut200(root):
    return ("200 with cut XML", dict(action="garbage", status=200, body=xml_cut(root)),
            502, "StoreError")


def s3_fault(c, px, op, fault, request, head=False):
    """Arm the fault for op, make the request, disarm: the answer must be
    r2mpu's clear error, and the fault must really have been hit."""
    _, rule, status, codes = fault
    px.forget()
    px.fault(op=op, **rule)
    try:
        t0 = time.monotonic()
        r = request()
        took = time.monotonic() - t0
    finally:
        px.clear()
    assert px.hits(op), "the fault was never hit (proxy log: %r)" % px.log()
    gateway_error(r, status, codes, head)
    if rule["action"] == "stall":
        assert took < TIMEOUT * 6 + 10, "a stall took %.1f s with R2MPU_S3_TIMEOUT=%d" % (took, TIMEOUT)
    return r


def s3_create_faults(c, px, s3, label):
    for i, fault in enumerate([E500, E503, SLOWDOWN, STALL, HTML500, TEXT503, GARBAGE200,
                               cut200("InitiateMultipartUploadResult"), HANGUP, CUT_HEAD]):
        key = "faults/%s/create-%d" % (label, i)

        def one():
            s3_fault(c, px, "create", fault,
                     lambda: c.request("POST", api.path(key) + "?action=mpu-create", body=b""))
            # The next request is served normally: a create, then a part into it.
            uid = create(c, key)
            put_part(c, key, uid, 1, b"after the fault")
            expect(abort(c, key, uid), 204)
        test("s3 %s: mpu-create, store %s -> %d" % (label, fault[0], fault[2]), one)


def s3_part_faults(c, px, s3, label):
    forwarded500 = ("500 after storing the part", dict(action="error", status=500,
                                                        code="InternalError", forward=True),
                    502, "StoreError")
    cut_body = ("connection cut mid-part", dict(action="cut_request", after=100000),
                502, ("StoreUnreachable", "StoreError"))
    for i, fault in enumerate([E500, E503, STALL, HTML500, GARBAGE200, HANGUP, cut_body,
                               forwarded500, CUT_HEAD]):
        key = "faults/%s/part-%d" % (label, i)
        body = data(300 * 1024, 10 + i)

        def one():
            uid = create(c, key)
            s3_fault(c, px, "uploadpart", fault,
                     lambda: c.request("PUT", part_target(key, uid, 1), body=body))
            parts = store_parts(s3, key, uid)
            assert parts is not None, "the upload is gone after a failed part"
            if fault[1].get("forward"):
                # The store took it and its answer lied: whole, or not at all.
                assert parts.get(1) in (None, (len(body), md5(body))), parts
            else:
                assert 1 not in parts, "a part the store was never sent whole: %r" % parts
                expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(body)}]), 400,
                       code="InvalidPart")
            # The next request is served normally: the part again, complete, read back.
            p = put_part(c, key, uid, 1, body)
            expect(complete(c, key, uid, [p]), 200)
            g = expect(get(c, key), 200)
            assert g.body == body, "read-back differs"
        test("s3 %s: mpu-uploadpart, store %s -> %d" % (label, fault[0], fault[2]), one)


def s3_part_corrupted_on_the_way(c, px, s3, label):
    """A byte of the part changes between r2mpu and the store (moto, which
    ignores Content-MD5, told so: R2MPU_S3_CHECKS_MD5=0). r2mpu's MD5 of what
    it sent is not the store's ETag (the MD5 of what it got): 502, never that
    etag, with or without the client's Content-MD5. Told that the store checks
    Content-MD5 (CGI only, per request), r2mpu hashes nothing and compares the
    store's ETag with the client's digest: 400 BadDigest, as R2 or radosgw,
    which do check it, would answer themselves."""
    import base64
    body = data(300 * 1024, 77)
    digest = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    variants = [("", None, None, 502, "StoreDigestMismatch"),
                (" (Content-MD5)", digest, None, 502, "StoreDigestMismatch")]
    if label == "cgi":
        variants.append((" (Content-MD5, the store said to check it)", digest,
                         {"R2MPU_S3_CHECKS_MD5": "1"}, 400, "BadDigest"))
    for i, (what, headers, env, status, code) in enumerate(variants):
        key = "faults/%s/flipped-%d" % (label, i)

        def one():
            uid = create(c, key)
            px.forget()
            px.fault(op="uploadpart", action="flip", after=123456)
            try:
                r = c.request("PUT", part_target(key, uid, 1), body=body, headers=headers, env=env)
            finally:
                px.clear()
            assert any(e.get("flipped") for e in px.log()), "no byte was flipped: %r" % px.log()
            expect(r, status, code=code)
            assert md5(body).encode() not in r.body and r.header("etag") is None, r
            # Sent again, untouched, it is stored and reads back whole.
            p = put_part(c, key, uid, 1, body)
            expect(complete(c, key, uid, [p]), 200)
            assert expect(get(c, key), 200).body == body, "read-back differs"
        test("s3 %s: a part corrupted on its way to the store%s" % (label, what), one)


def s3_complete_faults(c, px, s3, label):
    faults = [E500, E503, STALL, HTML500, GARBAGE200, cut200("CompleteMultipartUploadResult"),
              HANGUP]
    for i, fault in enumerate(faults):
        key = "faults/%s/complete-%d" % (label, i)
        body = data(200 * 1024, 30 + i)

        def one():
            uid = create(c, key)
            p = put_part(c, key, uid, 1, body)
            s3_fault(c, px, "complete", fault, lambda: complete(c, key, uid, [p]))
            # Nothing stored: no object, and the upload with its part as it was.
            expect(get(c, key), 404, code="NoSuchKey")
            assert not store_has_object(s3, key), "an object after a failed complete"
            assert store_parts(s3, key, uid) == {1: (len(body), md5(body))}, "the upload changed"
            r = expect(complete(c, key, uid, [p]), 200)
            assert r.header("etag") == '"%s"' % api.mp_etag([body]), r
            assert expect(get(c, key), 200).body == body, "read-back differs"
        test("s3 %s: mpu-complete, store %s -> %d" % (label, fault[0], fault[2]), one)

    # The store completes, then its answer is lost or lies. The object must be
    # whole or absent; for a 500 r2mpu checks the ETag and answers 200.
    def store_completed(fault, expect_200):
        key = "faults/%s/complete-fwd-%s" % (label, fault[0].split()[0])
        body = data(200 * 1024, 77)
        uid = create(c, key)
        p = put_part(c, key, uid, 1, body)
        px.fault(op="complete", forward=True, **{k: v for k, v in fault[1].items()
                                                 if k != "forward"})
        try:
            r = complete(c, key, uid, [p])
        finally:
            px.clear()
        g = get(c, key)
        assert g.status == 404 or g.body == body, "torn object: %r" % g
        if expect_200:
            expect(r, 200)
            assert r.header("etag") == '"%s"' % api.mp_etag([body]), r
        else:
            assert r.status == 200 or (r.status >= 500 and r.header("x-r2mpu-error")), r
            if r.status != 200 and g.status == 200:
                note("s3 %s: the store completed, its answer was %s: the client got %d %s, "
                     "though the object is there" % (label, fault[0], r.status,
                                                     r.header("x-r2mpu-error")))
    test("s3 %s: mpu-complete, the store completes then answers 500 -> 200" % label,
         store_completed, E500, True)

    # r2mpu takes a matching ETag after a 500 as "the complete happened". When
    # the key already held these very bytes, it did not: a 200 then would
    # leave the upload open at the store, with a client that thinks it done.
    def same_object_there():
        key = "faults/%s/complete-same" % label
        body = data(200 * 1024, 88)
        api.upload(c, key, [body])
        uid = create(c, key)
        p = put_part(c, key, uid, 1, body)
        px.fault(op="complete", **E500[1])
        try:
            r = complete(c, key, uid, [p])
        finally:
            px.clear()
        parts = store_parts(s3, key, uid)
        if r.status == 200:
            assert parts is None, ("200 to a complete the store refused: the upload is still "
                                   "open there, with its parts %r" % parts)
        else:
            gateway_error(r, 502, "StoreError")
            assert parts == {1: (len(body), md5(body))}, parts
            expect(complete(c, key, uid, [p]), 200)
        assert get(c, key).body == body
    test("s3 %s: mpu-complete, store 500 when the key already holds the same bytes -> "
         "no 200 unless the upload is done" % label, same_object_there)
    test("s3 %s: mpu-complete, the store completes then answers garbage -> whole or nothing"
         % label, store_completed, GARBAGE200, False)
    test("s3 %s: mpu-complete, the store completes then the answer is cut -> whole or nothing"
         % label, store_completed, ("cut", dict(action="cut", after=20), 502, ()), False)


def s3_get_faults(c, px, s3, label):
    key = "faults/%s/get" % label
    body = data(1 * MiB, 50)
    api.upload(c, key, [body])
    for fault in [E500, E503, STALL, HTML500, TEXT503, HANGUP, CUT_HEAD]:
        def one():
            s3_fault(c, px, "get", fault, lambda: get(c, key))
            assert expect(get(c, key), 200).body == body, "read-back differs"
        test("s3 %s: get, store %s -> %d" % (label, fault[0], fault[2]), one)

    def head_fault():
        s3_fault(c, px, "head", E500, lambda: get(c, key, method="HEAD"), head=True)
        expect(get(c, key, method="HEAD"), 200)
    test("s3 %s: get (HEAD), store 500 -> 502" % label, head_fault)

    # Cut or stalled mid-body: the status is out already, so the answer must
    # end short of its Content-Length, never look like a whole object.
    for name, rule in (("cut mid-body", dict(action="cut", forward=True, after=400000)),
                       ("stalled mid-body", dict(action="stall_body", after=400000))):
        def mid_body():
            px.forget()
            px.fault(op="get", **rule)
            try:
                if hasattr(c, "port"):
                    status, headers, got, _ = streamed_exchange(
                        c.port, request_head("GET", api.path(key) + "?action=get",
                                             {"Connection": "close"}), timeout=TIMEOUT * 6 + 20)
                else:
                    r = c.request("GET", api.path(key) + "?action=get")
                    status, headers, got = r.status, r.headers, r.body
            finally:
                px.clear()
            assert px.hits("get"), "the fault was never hit"
            assert status == 200 and headers.get("content-length") == str(len(body)), \
                (status, headers)
            assert len(got) < len(body), "a whole answer from a cut store: %d bytes" % len(got)
            assert got == body[:len(got)], "the bytes that came are wrong"
            assert expect(get(c, key), 200).body == body, "read-back differs"
        test("s3 %s: get, store %s -> a short answer" % (label, name), mid_body)


def s3_abort_faults(c, px, s3, label):
    for i, fault in enumerate([E500, E503, STALL, HTML500, HANGUP]):
        key = "faults/%s/abort-%d" % (label, i)

        def one():
            uid = create(c, key)
            put_part(c, key, uid, 1, b"one")
            s3_fault(c, px, "abort", fault, lambda: abort(c, key, uid))
            # Not aborted, not half aborted: the upload and its part are there.
            assert store_parts(s3, key, uid) == {1: (3, md5(b"one"))}, "the upload changed"
            put_part(c, key, uid, 2, b"two")
            expect(abort(c, key, uid), 204)
            expect(c.request("PUT", part_target(key, uid, 3), body=b"x"), 404,
                   code="NoSuchUpload")
        test("s3 %s: mpu-abort, store %s -> %d" % (label, fault[0], fault[2]), one)


def health_poll(c, status, seconds=12):
    """?action=health until it answers `status` (each process probes the store at
    most every 5 s, so a change shows within that), or the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        r = c.request("GET", "/?action=health")
        if r.status == status or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def s3_health(c, px, s3, label):
    """?action=health: 503 while the store fails, naming nothing of it; 200 after."""
    def one():
        px.forget()
        px.fault(op="get", **E500[1])     # ListMultipartUploads, the probe, is a GET
        try:
            r = health_poll(c, 503)
        finally:
            px.clear()
        expect(r, 503, code="StoreUnavailable")
        for secret in (s3["R2MPU_S3_ENDPOINT"].split("//")[1], s3["R2MPU_S3_BUCKET"]):
            assert secret not in r.text, r
        assert px.hits("get"), "the probe never reached the store"
        expect(health_poll(c, 200), 200, body=b"ok\n")
    test("s3 %s: health 503 while the store fails, 200 after" % label, one)


def s3_matrix(c, px, s3, label):
    # Through the proxy with no fault, everything works: moto accepts the
    # signature of the Host the proxy passed on.
    def passthrough():
        px.forget()
        api.upload(c, "faults/%s/plain" % label, [data(5 * MiB, 1), data(1000, 2)])
        assert get(c, "faults/%s/plain" % label).body == data(5 * MiB, 1) + data(1000, 2)
        assert not any(e["fault"] for e in px.log())
    test("s3 %s: no fault through the proxy" % label, passthrough)
    s3_create_faults(c, px, s3, label)
    s3_part_faults(c, px, s3, label)
    s3_part_corrupted_on_the_way(c, px, s3, label)
    s3_complete_faults(c, px, s3, label)
    s3_get_faults(c, px, s3, label)
    s3_abort_faults(c, px, s3, label)
    s3_health(c, px, s3, label)


# ---- a client that goes away mid-part --------------------------------------------------------

def client_gone_mid_part(c, label, root=None, px=None, s3=None):
    key = "faults/gone-%s" % label
    uid = create(c, key)
    pids = c.server.r2mpu_pids()
    if px:
        px.forget()
    c.send_truncated(part_target(key, uid, 1), 8 * MiB, 3 * MiB)
    deadline = time.time() + 10
    while time.time() < deadline:
        if root and not leftovers(root):
            break
        if px and any(e["op"] == "uploadpart" and e["client_gone"] for e in px.log()):
            break
        time.sleep(0.1)
    if root:
        assert not leftovers(root), "left behind: %r" % leftovers(root)
        assert not os.path.exists(os.path.join(root, "uploads", uid, "part.00001"))
    if px:
        ups = [e for e in px.log() if e["op"] == "uploadpart"]
        assert ups and ups[-1]["forwarded"] < 8 * MiB and ups[-1]["client_gone"], \
            "the store should have seen the part end early: %r" % ups
        assert store_parts(s3, key, uid) == {}, "the store kept some of the part"
    # The part does not exist ...
    for etag in (md5(b"x" * (8 * MiB)), md5(b"x" * (3 * MiB))):
        expect(complete(c, key, uid, [{"partNumber": 1, "etag": etag}]), 400, code="InvalidPart")
    # ... and the same processes serve the next requests: the part again, whole.
    body = data(2 * MiB, 60)
    p = put_part(c, key, uid, 1, body)
    expect(complete(c, key, uid, [p]), 200)
    assert expect(get(c, key), 200).body == body, "read-back differs"
    assert c.server.r2mpu_pids() == pids, "r2mpu processes changed: %r -> %r" % (
        pids, c.server.r2mpu_pids())


# ---- moto killed mid-part --------------------------------------------------------------------

def moto_rekey(s3, seed=4242):
    """An access key moto gives again after a restart: moto's random numbers
    seeded, then a second key made for the test user. moto.sh's own key is
    random, so a restarted moto would refuse the running r2mpu's."""
    port = s3["R2MPU_S3_ENDPOINT"].rpartition(":")[2]
    urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%s/moto-api/seed?a=%d" % (port, seed), method="POST"), timeout=10).read()
    p = subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:iam",
                        "--user", "%s:%s" % (s3["R2MPU_S3_ACCESS_KEY_ID"],
                                             s3["R2MPU_S3_SECRET_ACCESS_KEY"]),
                        "-d", "Action=CreateAccessKey&UserName=r2mpu-test&Version=2010-05-08",
                        "http://127.0.0.1:%s/" % port], capture_output=True, timeout=30)
    doc = ET.fromstring(p.stdout)
    found = {el.tag.rpartition("}")[2]: el.text for el in doc.iter()}
    return dict(s3, R2MPU_S3_ACCESS_KEY_ID=found["AccessKeyId"],
                R2MPU_S3_SECRET_ACCESS_KEY=found["SecretAccessKey"])


def moto_killed_mid_part(sandbox):
    work = os.path.join(sandbox, "kill")
    os.makedirs(work)
    script = os.path.join(TOP, "tests", "s3", "moto.sh")
    motodir = os.path.join(work, "moto")
    with servers.S3Server("moto", work) as first:
        s3 = moto_rekey(first)
        port = s3["R2MPU_S3_ENDPOINT"].rpartition(":")[2]
        settings = dict(BASE, R2MPU_PROCS="1", R2MPU_MAX_PART_SIZE="64M",
                        R2MPU_S3_TIMEOUT="5", **s3)
        with lighttpd(settings, os.path.join(sandbox, "kill-lighttpd.log"), "lighttpd") as c:
            key = "faults/killed"
            uid = create(c, key)
            pids = c.server.r2mpu_pids()
            body = data(64 * MiB, 70)
            killed = []

            def kill_at(sent):
                if sent >= 12 * MiB and not killed:
                    pid = int(open(os.path.join(motodir, "moto.pid")).read())
                    os.kill(pid, signal.SIGKILL)
                    killed.append((pid, sent))
            t0 = time.monotonic()
            status, headers, answer, sent = streamed_exchange(
                c.port, request_head("PUT", part_target(key, uid, 1),
                                     {"Connection": "close", "Content-Length": len(body)}),
                chunks_of(body), pause=0.02, on_sent=kill_at, timeout=60)
            took = time.monotonic() - t0

            def answered():
                assert killed, "moto was never killed (sent %d bytes)" % sent
                r = Response(status, headers, answer)
                note("moto killed after %d MiB of 64 were sent: the client got %d %s in %.1f s"
                     % (killed[0][1] >> 20, r.status, r.header("x-r2mpu-error"), took))
                assert r.status in (502, 504), r
                gateway_error(r, r.status, ("StoreUnreachable", "StoreTimeout", "StoreError"))
                assert took < 40, "the answer took %.1f s" % took
            test("moto killed mid-part (lighttpd): a clear 502/504", answered)
            check("moto killed mid-part: the r2mpu process did not die",
                  c.server.r2mpu_pids() == pids, "%r -> %r" % (pids, c.server.r2mpu_pids()))

            def while_down():
                t = time.monotonic()
                gateway_error(c.request("POST", "/faults/down?action=mpu-create", body=b""),
                              502, "StoreUnreachable")
                assert time.monotonic() - t < 10, "an unreachable store took %.1f s" % (
                    time.monotonic() - t)
            test("moto down: the next request is a quick 502 StoreUnreachable", while_down)

            def restarted():
                subprocess.run([script, "start", motodir, port], check=True,
                               stdout=subprocess.DEVNULL)
                again = moto_rekey(dict(first, **servers.read_env(os.path.join(motodir, "env"))))
                assert again["R2MPU_S3_ACCESS_KEY_ID"] == s3["R2MPU_S3_ACCESS_KEY_ID"], \
                    "the restarted moto gave another key"
                # moto lost its state (the upload with it); the next ones work.
                api.upload(c, key, [data(5 * MiB, 71), data(1234, 72)])
                assert get(c, key).body == data(5 * MiB, 71) + data(1234, 72), "read-back differs"
                assert c.server.r2mpu_pids() == pids, "r2mpu processes changed"
            test("moto restarted: the same r2mpu process serves the next upload", restarted)


# ---- the disk fills up -----------------------------------------------------------------------

def free_bytes(root):
    st = os.statvfs(root)
    return st.f_bavail * st.f_frsize


def disk_full(c, root, label):
    """An 8 MiB tmpfs: a part and a create that do not fit, a complete that needs
    no room for a copy, and one on a disk with no room at all."""
    three = [data(3 * MiB, 80 + i) for i in range(3)]

    def setup():
        api.upload(c, "full/other", [three[0]])          # 3 MiB in use
    test("disk full %s: an object of 3 MiB fits" % label, setup)
    uid = create(c, "full/obj")
    p1 = put_part(c, "full/obj", uid, 1, three[1])       # 6 MiB in use

    def part_too_big():
        before = free_bytes(root)
        gateway_error(c.request("PUT", part_target("full/obj", uid, 2), body=three[2]),
                      507, "InsufficientStorage")
        assert not leftovers(root), "left behind: %r" % leftovers(root)
        assert free_bytes(root) >= before, "space not given back: %d -> %d" % (
            before, free_bytes(root))
        assert not os.path.exists(os.path.join(root, "uploads", uid, "part.00002"))
        expect(complete(c, "full/obj", uid, [{"partNumber": 2, "etag": md5(three[2])}]), 400,
               code="InvalidPart")
    test("disk full %s: a part that does not fit -> 507, nothing stored" % label, part_too_big)

    def create_on_full_disk():
        filler = os.path.join(root, "filler")
        with open(filler, "wb") as f:
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        try:
            gateway_error(c.request("POST", "/full/new?action=mpu-create", body=b""),
                          507, "InsufficientStorage")
            assert not leftovers(root), "left behind: %r" % leftovers(root)
            expect(health_poll(c, 503), 503, code="StoreUnavailable")
            assert root not in health_poll(c, 503).text
        finally:
            os.unlink(filler)
        expect(health_poll(c, 200), 200, body=b"ok\n")
    test("disk full %s: mpu-create on a full disk -> 507, nothing left; health 503, then 200"
         % label,
         create_on_full_disk)

    def complete_needs_no_copy():
        before = free_bytes(root)
        assert before < len(three[1]), "the premise: no room for a copy (%d free)" % before
        r = expect(complete(c, "full/obj", uid, [p1]), 200)
        assert r.header("etag") == '"%s"' % api.mp_etag([three[1]])
        assert expect(get(c, "full/obj"), 200).body == three[1], "read-back differs"
        assert free_bytes(root) >= before - 64 * 1024, "the complete took %d bytes" % (
            before - free_bytes(root))
        assert not leftovers(root), "left behind: %r" % leftovers(root)
    test("disk full %s: a complete with no room for a copy of its object -> 200 (none is made)"
         % label, complete_needs_no_copy)

    def complete_on_full_disk():
        key = "full/last"
        last = create(c, key)
        small = put_part(c, key, last, 1, b"x" * 1000)
        filler = os.path.join(root, "filler")
        with open(filler, "wb", buffering=0) as f:
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 4096)
        try:
            gateway_error(complete(c, key, last, [small]), 507, "InsufficientStorage")
            assert not leftovers(root), "left behind: %r" % leftovers(root)
            expect(get(c, key), 404, code="NoSuchKey")
            assert os.path.exists(os.path.join(root, "uploads", last, "part.00001")), \
                "the upload lost its part"
        finally:
            os.unlink(filler)
        expect(complete(c, key, last, [small]), 200)
        assert expect(get(c, key), 200).body == b"x" * 1000
    test("disk full %s: a complete on a full disk -> 507, no object, the upload kept; "
         "it completes once there is room" % label, complete_on_full_disk)

    def after_freeing():
        for key in ("full/other", "full/obj", "full/last"):
            expect(c.request("DELETE", "/%s?action=delete" % key), 204)
        six = data(6 * MiB, 90)     # of 8: a complete that copied would need 12
        api.upload(c, "full/next", [six])
        assert get(c, "full/next").body == six, "read-back differs"
        assert not leftovers(root), "left behind: %r" % leftovers(root)
    test("disk full %s: space freed, a 6 MiB object completes on the 8 MiB disk" % label,
         after_freeing)


# ---- the fs store's complete killed, and its layouts ----------------------------------------

def build_crash_at(sandbox):
    """tests/blackbox/crash_at.c, built for this run (an LD_PRELOAD fixture)."""
    out = os.path.join(sandbox, "crash_at.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o", out,
                    os.path.join(TOP, "tests", "blackbox", "crash_at.c"), "-ldl"], check=True)
    return out


def cgi_run(c, method, target, body, env):
    """One CGI request with extra environment, its process's end left to the caller
    (CgiClient.request asserts an exit status of 0; a killed one has none)."""
    e = c.environ(method, target, {"Content-Type": "application/json"}, len(body), env)
    # The fixture loads before a sanitizer build's runtime: tell it that is meant.
    e["ASAN_OPTIONS"] = ":".join(filter(None, (e.get("ASAN_OPTIONS"), "verify_asan_link_order=0")))
    return subprocess.run(c.wrapper + [c.binary], input=body, env=e, capture_output=True,
                          timeout=300)


def store_aged(root, seconds):
    """Every file and directory of the fs store made `seconds` older (the uploads'
    own start times, inside their meta, are kept): what a crash left is then as old
    as it would be by the next sweep, which the next mpu-create runs."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            os.utime(p, (st.st_atime - seconds, st.st_mtime - seconds), follow_symlinks=False)


def swept(c, root):
    """Run the sweep over a store aged past every limit (30 days > the 7-day TTL)."""
    store_aged(root, 30 * 86400)
    uid = create(c, "sweep/trigger")
    expect(c.request("DELETE", "/sweep/trigger?action=mpu-abort&uploadId=" + uid), 204)


def fs_complete_killed(sandbox, how, fixture_env):
    """SIGKILL at every point where a complete changes the store, one point a run:
    the key reads as the object it replaces or the new one, whole, never torn; the
    complete sent again finishes it (or finds it finished); the sweep leaves nothing.
    fixture_env takes the store down its other paths: links refused (a copy),
    renames that cannot exchange."""
    shim = build_crash_at(sandbox)
    root = os.path.join(sandbox, "store-crash-" + how.replace(" ", "-"))
    c = cgi_client(dict(BASE, R2MPU_FS_ROOT=root), os.path.join(sandbox, "cgi-crash.log"), "cgi")
    key = "crash/obj"
    old = [data(5 * MiB, 31), data(1000, 32)]
    new = [data(5 * MiB, 33), data(3 * MiB + 7, 34)]
    whole = {b"".join(old): api.mp_etag(old), b"".join(new): api.mp_etag(new)}

    def killed_complete(env):
        api.upload(c, key, old)
        uid = create(c, key)
        parts = [put_part(c, key, uid, i + 1, b) for i, b in enumerate(new)]
        body = json.dumps({"parts": parts}).encode()
        return uid, parts, cgi_run(c, "POST", api.complete_target(key, uid), body,
                                   dict(env, LD_PRELOAD=shim, **fixture_env))

    points_log = os.path.join(sandbox, "crash-points-%s.log" % how.replace(" ", "-"))
    _, _, p = killed_complete({"R2MPU_CRASH_LOG": points_log})
    assert p.returncode == 0 and p.stdout.startswith(b"Status: 200"), p
    points = open(points_log).read().split("\n")[:-1]
    assert any(x.endswith(" linkat") for x in points) and \
        any(x.endswith(" renameat2") for x in points), "not the O(1) complete: %r" % points
    # Data directories a whole store holds: the object's, unless it was copied.
    data_dirs = 0 if "R2MPU_REFUSE_LINKS" in fixture_env else 1
    read_old = read_new = 0
    for n in range(1, len(points) + 1):
        uid, parts, p = killed_complete({"R2MPU_CRASH_AT": str(n)})
        assert p.returncode == -signal.SIGKILL, "point %s: not killed: %r" % (points[n - 1], p)
        g = expect(get(c, key), 200)
        assert g.body in whole, "point %s: torn object of %d bytes" % (points[n - 1], len(g.body))
        assert g.header("etag") == '"%s"' % whole[g.body], "point %s: %s for other bytes" % (
            points[n - 1], g.header("etag"))
        if g.body == b"".join(new):
            read_new += 1
        else:
            read_old += 1
        # Sent again down the same path (the fixture's, without the kill).
        again = CgiClient.parse(cgi_run(c, "POST", api.complete_target(key, uid),
                                        json.dumps({"parts": parts}).encode(),
                                        dict(LD_PRELOAD=shim, **fixture_env)).stdout)
        assert again.status == 200 or (again.status == 404 and g.body == b"".join(new)), \
            "point %s: the complete sent again: %r" % (points[n - 1], again)
        assert expect(get(c, key), 200).body == b"".join(new), \
            "point %s: not the new object" % points[n - 1]
        swept(c, root)
        assert not leftovers(root), "point %s left %r" % (points[n - 1], leftovers(root))
        assert len(fs_data_dirs(root)) == data_dirs, fs_data_dirs(root)
        assert not [u for u in os.listdir(os.path.join(root, "uploads")) if u != ".sweep"]
    note("complete (%s) killed at each of its %d points: %d read the object it replaces, %d the "
         "new one" % (how, len(points), read_old, read_new))
    assert read_old and read_new, "the points never cross the publication"

    if fixture_env:
        return
    # A delete killed at each of its points: the object whole or gone, and nothing left.
    os.unlink(points_log)
    p = cgi_run(c, "DELETE", api.path(key) + "?action=delete", b"",
                {"LD_PRELOAD": shim, "R2MPU_CRASH_LOG": points_log})
    assert p.returncode == 0 and p.stdout.startswith(b"Status: 204"), p
    points = open(points_log).read().split("\n")[:-1]
    for n in range(1, len(points) + 1):
        api.upload(c, key, new)
        p = cgi_run(c, "DELETE", api.path(key) + "?action=delete", b"",
                    {"LD_PRELOAD": shim, "R2MPU_CRASH_AT": str(n)})
        assert p.returncode == -signal.SIGKILL, "delete point %s: not killed: %r" % (
            points[n - 1], p)
        g = get(c, key)
        assert g.status == 404 or (g.status == 200 and g.body == b"".join(new)), \
            "delete point %s: %r" % (points[n - 1], g)
        expect(c.request("DELETE", api.path(key) + "?action=delete"), 204)
        swept(c, root)
        assert not leftovers(root) and not fs_data_dirs(root), "delete point %s left %r" % (
            points[n - 1], leftovers(root) or fs_data_dirs(root))
    note("delete killed at each of its %d points: whole or gone, nothing left" % len(points))


def fs_layouts(sandbox):
    """R2MPUOB1 objects (written before manifests, or where links are refused) read,
    replace and are replaced; a GET reading an object keeps its data while the object
    is replaced and deleted under it; the sweep removes that data afterwards."""
    shim = build_crash_at(sandbox)
    root = os.path.join(sandbox, "store-layouts")
    log_path = os.path.join(sandbox, "cgi-layouts.log")
    c = cgi_client(dict(BASE, R2MPU_FS_ROOT=root), log_path, "cgi")
    parts = [data(5 * MiB, 41), data(5 * MiB, 42), data(11, 43)]
    body = b"".join(parts)

    def reads_as(key, content, etag):
        g = expect(get(c, key), 200, body=content)
        assert g.header("etag") == '"%s"' % etag, g.headers
        b1 = len(parts[0])
        for first, last in ((b1 - 3, b1 + 2), (b1, b1), (b1 - 1, len(content) - 1), (0, 0),
                            (2 * b1 - 1, 2 * b1 + 5)):
            expect(get(c, key, {"Range": "bytes=%d-%d" % (first, last)}), 206,
                   body=content[first:last + 1])
        expect(get(c, key, {"Range": "bytes=-13"}), 206, body=content[-13:])
        h = expect(get(c, key, method="HEAD"), 200, body=b"")
        assert h.header("content-length") == str(len(content)), h.headers

    def written_before_manifests():
        key = "layout/v1"
        h = hashlib.sha256(key.encode()).hexdigest()
        header = json.dumps({"key": key, "etag": api.mp_etag(parts), "size": len(body),
                             "http": {"Content-Type": "text/plain"}}).encode()
        os.makedirs(os.path.join(root, "objects", h[:2]), exist_ok=True)
        with open(os.path.join(root, "objects", h[:2], h), "wb") as f:
            f.write(b"R2MPUOB1" + len(header).to_bytes(4, "big") + header + body)
        reads_as(key, body, api.mp_etag(parts))
        assert get(c, key).header("content-type") == "text/plain"
        other = [data(5 * MiB, 44), data(9, 45)]
        api.upload(c, key, other)
        assert fs_object(root, key)[0] == b"R2MPUOB2"
        assert expect(get(c, key), 200).body == b"".join(other)
        expect(c.request("DELETE", "/layout/v1?action=delete"), 204)
        expect(get(c, key), 404, code="NoSuchKey")
        assert not leftovers(root) and not fs_data_dirs(root), leftovers(root)
    test("fs layouts: an object in the layout before manifests reads, ranges and is replaced",
         written_before_manifests)

    def replaced_with(key, env):
        """A manifest object at key, with its data, replaced by `parts` completed
        with the fixture in `env`."""
        api.upload(c, key, parts[:1])
        assert fs_object(root, key)[0] == b"R2MPUOB2" and fs_data_dirs(root)
        uid = create(c, key)
        listed = [put_part(c, key, uid, i + 1, b) for i, b in enumerate(parts)]
        p = cgi_run(c, "POST", api.complete_target(key, uid),
                    json.dumps({"parts": listed}).encode(), dict(env, LD_PRELOAD=shim))
        assert p.returncode == 0 and p.stdout.startswith(b"Status: 200"), p

    def links_refused():
        key = "layout/nolinks"
        replaced_with(key, {"R2MPU_REFUSE_LINKS": "1"})
        assert fs_object(root, key)[0] == b"R2MPUOB1", fs_object(root, key)
        assert not fs_data_dirs(root), "the replaced manifest's data is left: %r" % (
            fs_data_dirs(root))
        reads_as(key, body, api.mp_etag(parts))
        api.upload(c, key, parts)
        assert fs_object(root, key)[0] == b"R2MPUOB2"
        reads_as(key, body, api.mp_etag(parts))
        expect(c.request("DELETE", "/layout/nolinks?action=delete"), 204)
        assert not leftovers(root) and not fs_data_dirs(root), leftovers(root)
    test("fs layouts: where links are refused the complete copies (R2MPUOB1), and it reads",
         links_refused)

    def stalled_get(key):
        """A GET of key whose answer nobody reads yet: it stops on a full pipe,
        holding its object's data locked. Its first byte comes after the lock."""
        with open(log_path, "ab") as log:       # a sanitizer's report too
            reader = subprocess.Popen([c.binary], env=c.environ("GET", api.path(key) + "?action=get"),
                                      stdout=subprocess.PIPE, stderr=log, bufsize=0)
        return reader, reader.stdout.read(1)

    def read_while_replaced():
        key = "layout/busy"
        other = [data(5 * MiB, 46), data(5, 47)]
        api.upload(c, key, parts)
        first_data = fs_data_dirs(root)
        readers = []
        try:
            readers.append(stalled_get(key) + (body,))
            api.upload(c, key, other)                  # replaced under the first GET
            second_data = sorted(set(fs_data_dirs(root)) - set(first_data))
            assert set(first_data) <= set(fs_data_dirs(root)), "data removed under a GET"
            readers.append(stalled_get(key) + (b"".join(other),))
            expect(c.request("DELETE", "/layout/busy?action=delete"), 204)  # under the second
            expect(get(c, key), 404, code="NoSuchKey")
            swept(c, root)
            assert fs_data_dirs(root) == sorted(first_data + second_data), (
                "%r, not %r" % (fs_data_dirs(root), first_data + second_data))
            for reader, first, expected in readers:
                r = CgiClient.parse(first + reader.communicate(timeout=60)[0])
                assert r.status == 200 and r.body == expected, "a GET got %r" % r
                assert reader.returncode == 0, "a GET exited %d" % reader.returncode
        finally:
            for reader, _, _ in readers:
                if reader.poll() is None:
                    reader.kill()
                    reader.wait()
        swept(c, root)
        assert not leftovers(root) and not fs_data_dirs(root), leftovers(root)
    test("fs layouts: GETs read their objects whole while one is replaced and the next deleted; "
         "the sweep removes their data after", read_while_replaced)

    def no_exchange():
        key = "layout/noexchange"
        replaced_with(key, {"R2MPU_REFUSE_EXCHANGE": "1"})
        reads_as(key, body, api.mp_etag(parts))
        assert len(fs_data_dirs(root)) == 1 and not leftovers(root), (
            fs_data_dirs(root), leftovers(root))
        expect(c.request("DELETE", "/layout/noexchange?action=delete"), 204)
        assert not fs_data_dirs(root)
    test("fs layouts: where renames cannot exchange, the replaced object's data goes all the same",
         no_exchange)


def mount_tmpfs(path, size):
    """A tmpfs of `size` at path; the mount's error text, or None when mounted."""
    os.makedirs(path)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True, text=True)
    return p.stderr.strip() or "mount failed" if p.returncode != 0 else None


# ---- main --------------------------------------------------------------------------------------

def s3_part(sandbox):
    try:
        server = servers.S3Server("moto", sandbox)
        s3 = server.__enter__()
    except servers.S3Server.Unavailable as e:
        print("skip S3 faults: %s" % e)
        return
    try:
        upstream = s3["R2MPU_S3_ENDPOINT"].partition("://")[2]
        with FaultyProxy(upstream, os.path.join(sandbox, "proxy.log")) as px:
            settings = dict(BASE, R2MPU_S3_TIMEOUT=str(TIMEOUT), R2MPU_MAX_PART_SIZE="16M",
                            **dict(s3, R2MPU_S3_ENDPOINT="http://127.0.0.1:%d" % px.port))
            log = os.path.join(sandbox, "cgi-s3.log")
            c = cgi_client(settings, log, "cgi")
            s3_matrix(c, px, s3, "cgi")
            # r2mpu's stderr is caught (so are sanitizer reports): the faults are in it.
            text = open(log, errors="replace").read() if os.path.exists(log) else ""
            check("s3 cgi: store faults are in r2mpu's log", "502 StoreError" in text and
                  "504 StoreTimeout" in text, text[-500:])
            with lighttpd(dict(settings, R2MPU_PROCS="2"), os.path.join(sandbox, "lighttpd-s3.log"),
                          "lighttpd") as c:
                pids = c.server.r2mpu_pids()
                s3_matrix(c, px, s3, "lighttpd")
                test("s3 lighttpd: client gone mid-part", client_gone_mid_part, c, "s3", None, px, s3)
                check("s3 lighttpd: no r2mpu process died in any of it", c.server.r2mpu_pids() == pids,
                      "%r -> %r" % (pids, c.server.r2mpu_pids()))
    finally:
        server.__exit__(None, None, None)
    try:
        moto_killed_mid_part(sandbox)
    except servers.S3Server.Unavailable as e:
        print("skip moto killed mid-part: %s" % e)


def fs_part(sandbox):
    root = os.path.join(sandbox, "store-gone")
    settings = dict(BASE, R2MPU_FS_ROOT=root, R2MPU_PROCS="2", R2MPU_MAX_PART_SIZE="16M")
    with lighttpd(settings, os.path.join(sandbox, "lighttpd-fs.log"), "lighttpd") as c:
        test("fs lighttpd: client gone mid-part", client_gone_mid_part, c, "fs", root)
    if os.geteuid() != 0:
        print("skip disk full: mounting a tmpfs needs root")
        return
    for mode in ("cgi", "lighttpd"):
        root = os.path.join(sandbox, "tmpfs-" + mode)
        why = mount_tmpfs(root, "8m")
        if why:
            print("skip disk full: cannot mount a tmpfs: %s" % why)
            return
        try:
            settings = dict(BASE, R2MPU_FS_ROOT=root, R2MPU_MAX_PART_SIZE="16M")
            if mode == "cgi":
                disk_full(cgi_client(settings, os.path.join(sandbox, "cgi-fs.log"), "cgi"),
                          root, mode)
                continue
            with lighttpd(dict(settings, R2MPU_PROCS="1"),
                          os.path.join(sandbox, "lighttpd-full.log"), "lighttpd") as c:
                pids = c.server.r2mpu_pids()
                disk_full(c, root, mode)
                check("disk full lighttpd: the r2mpu process did not die",
                      c.server.r2mpu_pids() == pids, "%r -> %r" % (pids, c.server.r2mpu_pids()))
        finally:
            subprocess.run(["umount", "-l", root])


def fs_crash(sandbox):
    for how, env in (("linking", {}), ("copying", {"R2MPU_REFUSE_LINKS": "1"}),
                     ("without exchange", {"R2MPU_REFUSE_EXCHANGE": "1"})):
        test("fs: a complete (%s) killed at each point it changes the store" % how,
             fs_complete_killed, sandbox, how, env)
    fs_layouts(sandbox)


def main():
    global BIN
    if not os.access(BUILT, os.X_OK):
        print("faults: build first (make): no %s" % BUILT)
        return 1
    t0 = time.monotonic()
    sandbox = tempfile.mkdtemp(prefix="r2mpu-faults-")
    try:
        os.makedirs(os.path.join(sandbox, "bin"))
        BIN = os.path.join(sandbox, "bin", "r2mpu.fcgi")
        shutil.copy2(BUILT, BIN)
        for part in (fs_part, fs_crash, s3_part):
            try:
                part(sandbox)
            except Exception:
                check(part.__name__, False, traceback.format_exc()[-2000:])
        reports = [line for log in LOGS for line in sanitizer_reports(log)]
        check("no sanitizer reports from r2mpu", not reports, "\n".join(reports[:20]))
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    print("faults: %d passed, %d failed (%.0f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
