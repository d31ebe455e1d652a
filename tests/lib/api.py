# SPDX-License-Identifier: MIT
"""tests/lib/api.py: r2mpu's HTTP API in a few calls, with the answers checked.

Each call takes a client (lib.clients: CgiClient, HttpClient or anything with
their request()). create(), put_part() and upload() check r2mpu's answer and
raise AssertionError when it is not what a correct gateway gives: create()
returns the upload id, put_part() the part's {partNumber, etag}. complete(),
get() and abort() return the answer, for the caller to expect(). The
black-box case list (blackbox/cases.py) is written in them, and so are the
suites that load, fault or slow the gateway.
"""

import hashlib
import json
import random
import urllib.parse

MiB = 1024 * 1024


def path(key):
    """The request path for a key: every byte that needs it percent-encoded."""
    return "/" + urllib.parse.quote(key, safe="/")


def data(n, seed=0):
    """n bytes of test data, the same for the same (n, seed)."""
    return random.Random(seed * 7919 + n).randbytes(n)


def md5(b):
    return hashlib.md5(b).hexdigest()


def mp_etag(parts):
    """The ETag of a multipart object made of these parts (S3's and R2's rule)."""
    return hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-%d" % len(parts)


def expect(r, status, body=None, contains=None, code=None):
    """The answer r, if it has this status (and body, a part of it, the
    X-R2mpu-Error code); else AssertionError. An error of r2mpu's must say
    what is wrong in plain text."""
    ok = r.status == status
    if ok and body is not None:
        ok = r.body == (body.encode() if isinstance(body, str) else body)
    if ok and contains is not None:
        ok = contains.encode() in r.body
    if ok and code is not None:
        ok = r.header("x-r2mpu-error") == code
    if not ok:
        raise AssertionError("expected %d%s%s%s, got %r" % (
            status, " body %r" % body if body is not None else "",
            " containing %r" % contains if contains else "",
            " code %s" % code if code else "", r))
    if status >= 400 and r.header("x-r2mpu-error"):
        # Every error of r2mpu's says what is wrong, in plain text.
        assert r.body and r.header("content-type").startswith("text/plain"), r
    return r


def create(c, key, headers=None):
    r = expect(c.request("POST", path(key) + "?action=mpu-create", headers=headers, body=b""), 200)
    assert r.header("content-type") == "application/json", r
    j = r.json()
    assert j["key"] == key, (j, key)
    assert isinstance(j["uploadId"], str) and j["uploadId"], j
    return j["uploadId"]


def part_target(key, uid, n):
    return "%s?action=mpu-uploadpart&uploadId=%s&partNumber=%s" % (
        path(key), urllib.parse.quote(uid, safe=""), n)


def put_part(c, key, uid, n, body):
    r = expect(c.request("PUT", part_target(key, uid, n), body=body), 200)
    assert r.header("content-type") == "application/json", r
    j = r.json()
    assert j == {"partNumber": int(n), "etag": md5(body)}, (j, md5(body))
    return j


def complete_target(key, uid):
    return "%s?action=mpu-complete&uploadId=%s" % (path(key), urllib.parse.quote(uid, safe=""))


def complete(c, key, uid, parts):
    return c.request("POST", complete_target(key, uid),
                     headers={"Content-Type": "application/json"},
                     body=json.dumps({"parts": parts}).encode())


def get(c, key, headers=None, method="GET"):
    return c.request(method, path(key) + "?action=get", headers=headers)


def upload(c, key, chunks, headers=None):
    uid = create(c, key, headers)
    parts = [put_part(c, key, uid, i + 1, b) for i, b in enumerate(chunks)]
    r = expect(complete(c, key, uid, parts), 200, body=b"")
    assert r.header("etag") == '"%s"' % mp_etag(chunks) if chunks else True, r
    return r


def abort(c, key, uid):
    return c.request("DELETE", "%s?action=mpu-abort&uploadId=%s" % (path(key), uid))
