# SPDX-License-Identifier: MIT
"""tests/blackbox/cases.py: the one black-box case list, run in every setting.

Each case is a function (client, env) that raises AssertionError on failure.
`env.root` is the store directory (so cases can prove nothing leaked out of
it); `env.cgi` is true when there is no web server in between. Cases that a
setting cannot express say so with `skip(...)`. The requests are made with
lib.api's calls (create, put_part, complete, ...), as every suite makes them.
"""

import calendar
import concurrent.futures
import hashlib
import json
import os
import random
import time
import urllib.parse

from lib.api import (MiB, abort, complete, complete_target, create, data, expect, get, md5,
                     mp_etag, part_target, path, put_part, upload)
from lib.checks import skip

CASES = []
MAX_PART = 16 * MiB   # R2MPU_MAX_PART_SIZE the runners configure


def skip_on_moto(env, why):
    """moto checks signatures against the decoded path and query, so keys
    with non-ASCII or reserved characters fail there; radosgw covers them."""
    if env.store == "moto":
        skip("moto: " + why)


def case(fn):
    CASES.append(fn)
    return fn


# ---- helpers -----------------------------------------------------------------

def assert_length(r, n):
    """Content-Length n, or none at all with chunked encoding (Apache's mod_cgid
    drops a CGI's Content-Length and chunks the body)."""
    cl = r.header("content-length")
    assert cl == str(n) or (cl is None and r.header("transfer-encoding") == "chunked"), \
        (n, r.headers)


def expect_refused(r, env, status, server_statuses=(), **kw):
    """An error r2mpu must answer, unless a web server in front refused the
    request first (it never reaches r2mpu then): with no X-R2mpu-Error
    header, one of server_statuses is accepted too."""
    if not env.cgi and r.header("x-r2mpu-error") is None and r.status in server_statuses:
        return r
    return expect(r, status, **kw)


# ---- the Worker's routes and texts -------------------------------------------

@case
def missing_action(c, env):
    for m in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        expect(c.request(m, "/k", body=b"" if m in ("POST", "PUT") else None), 400,
               body="Missing action type", code="MissingAction")
    expect(c.request("GET", "/k?foo=bar"), 400, body="Missing action type")


@case
def health(c, env):
    """?action=health: 200 "ok" while the store answers, on any path, never cached,
    naming nothing of the store; HEAD alike, and only GET and HEAD."""
    for target in ("/?action=health", "/any/key/at/all?action=health"):
        r = expect(c.request("GET", target), 200, body=b"ok\n")
        assert r.header("cache-control") == "no-store", r
        assert r.header("content-type").startswith("text/plain"), r
    r = expect(c.request("HEAD", "/?action=health"), 200, body=b"")
    expect(c.request("POST", "/?action=health", body=b""), 400, code="UnknownAction")


@case
def metrics(c, env):
    """?action=metrics (open access here: this machine): Prometheus text on any
    path, a request just answered counted, never cached; not for a POST."""
    expect(c.request("GET", "/metrics/none?action=get"), 404)
    for target in ("/?action=metrics", "/any/key?action=metrics"):
        r = expect(c.request("GET", target), 200)
        assert r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8", r
        assert r.header("cache-control") == "no-store", r
        text = r.body.decode()
        assert "# TYPE r2mpu_requests_total counter\n" in text, text[:300]
        assert 'r2mpu_requests_total{action="get",status="404"} ' in text, text[:600]
        assert 'r2mpu_store_latency_seconds_count{operation="get"} ' in text, text[:300]
    expect(c.request("POST", "/?action=metrics", body=b""), 400, code="UnknownAction")


@case
def request_id(c, env):
    """X-Request-Id: a well-formed one comes back as sent; any other, or none, gets
    a new one (16 hex digits), different for each request."""
    r = c.request("GET", "/rid/none?action=get", headers={"X-Request-Id": "trace-42.a:b_c"})
    assert r.header("x-request-id") == "trace-42.a:b_c", r
    made = []
    for sent in ("bad id", "x" * 65, "<script>", None):
        r = c.request("GET", "/rid/none?action=get",
                      headers={"X-Request-Id": sent} if sent else None)
        got = r.header("x-request-id") or ""
        assert len(got) == 16 and all(ch in "0123456789abcdef" for ch in got), (sent, r)
        made.append(got)
    assert len(set(made)) == len(made), made


@case
def method_not_allowed(c, env):
    allowed = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
    for m in ("PATCH", "PROPFIND", "BREW"):
        # lighttpd answers 501 itself for methods it does not know (BREW).
        r = expect_refused(c.request(m, "/k?action=get"), env, 405, (501,),
                           body="Method Not Allowed")
        if r.status == 405:
            assert r.header("allow") == allowed, r
    # OPTIONS without Origin is not a CORS preflight: it says what is served.
    r = c.request("OPTIONS", "/k?action=get")
    if env.server != "nginx" or r.header("allow"):
        expect(r, 204)
        assert r.header("allow") == allowed, r


@case
def unknown_actions(c, env):
    for m, a in (("POST", "bogus"), ("POST", "get"), ("PUT", "mpu-create"),
                 ("GET", "mpu-create"), ("GET", ""), ("DELETE", "mpu-complete")):
        expect(c.request(m, "/k?action=" + a, body=b"" if m in ("POST", "PUT") else None),
               400, body="Unknown action %s for %s" % (a, m), code="UnknownAction")


@case
def missing_parameters(c, env):
    expect(c.request("POST", "/k?action=mpu-complete", body=b"{}"), 400, body="Missing uploadId")
    expect(c.request("DELETE", "/k?action=mpu-abort"), 400, body="Missing uploadId")
    for q in ("uploadId=abc", "partNumber=1", ""):
        expect(c.request("PUT", "/k?action=mpu-uploadpart&" + q, body=b"x"), 400,
               body="Missing partNumber or uploadId")


@case
def duplicate_and_malformed_query(c, env):
    expect(c.request("GET", "/k?action=get&action=delete"), 400, contains="more than once")
    if env.cgi:   # lighttpd re-encodes a stray '%' as %25 before r2mpu sees it
        expect(c.request("GET", "/k?action=g%zzet"), 400, contains="percent-encoding")
    expect(c.request("GET", "/k?action=" + "a" * 2000), 400, contains="too long")
    # Unknown parameters are ignored; '+' in a query value is a space.
    expect(c.request("GET", "/missing-key?x=1&action=get&y"), 404, body="Object Not Found")


# ---- the upload itself ---------------------------------------------------------

@case
def multipart_roundtrip(c, env):
    key = "flows/my dir/ü file.bin" if env.store != "moto" else "flows/my dir/u file.bin"
    chunks = [data(5 * MiB, 1), data(5 * MiB, 2), data(123, 3)]
    r = upload(c, key, chunks)
    g = expect(get(c, key), 200)
    assert g.body == b"".join(chunks), "read-back differs"
    assert g.header("etag") == '"%s"' % mp_etag(chunks), g.headers
    assert_length(g, sum(map(len, chunks)))
    # With no Content-Type given, the store's default (S3's may be binary/octet-stream).
    assert g.header("content-type") in ("application/octet-stream", "binary/octet-stream"), g.headers
    assert r.header("etag") == g.header("etag")
    h = expect(get(c, key, method="HEAD"), 200, body=b"")
    if h.header("content-length") is not None:
        assert h.header("content-length") == str(sum(map(len, chunks))), h.headers
    assert h.header("etag") == g.header("etag")


@case
def single_small_part(c, env):
    key = "flows/one part"
    upload(c, key, [b"hello world"])
    assert get(c, key).body == b"hello world"


@case
def empty_parts_list_makes_empty_object(c, env):
    key = "flows/empty"
    uid = create(c, key)
    r = expect(complete(c, key, uid, []), 200, body=b"")
    assert r.header("etag") == '"%s"' % md5(b""), r.headers
    g = expect(get(c, key), 200, body=b"")
    assert_length(g, 0)


@case
def quoted_etags_and_unlisted_parts(c, env):
    if env.store == "radosgw":
        skip("radosgw refuses a Complete that leaves out an uploaded part (R2 and S3 drop it)")
    key = "flows/quoted"
    uid = create(c, key)
    a, b = data(5 * MiB, 4), data(10, 5)
    p1 = put_part(c, key, uid, 1, a)
    put_part(c, key, uid, 2, data(10, 6))     # uploaded, not listed: dropped
    p3 = put_part(c, key, uid, 3, b)
    p1["etag"] = '"%s"' % p1["etag"]
    expect(complete(c, key, uid, [p1, p3]), 200)
    assert get(c, key).body == a + b


@case
def part_resent_replaces(c, env):
    key = "flows/resend"
    uid = create(c, key)
    put_part(c, key, uid, 1, b"first version")
    p = put_part(c, key, uid, 1, b"second")
    expect(complete(c, key, uid, [p]), 200)
    assert get(c, key).body == b"second"


@case
def overwrite_object(c, env):
    key = "flows/overwrite"
    upload(c, key, [b"one"])
    upload(c, key, [b"two two"])
    assert get(c, key).body == b"two two"


@case
def create_response_is_json(c, env):
    skip_on_moto(env, "a key with \" and \\")
    r = expect(c.request("POST", "/json/k%22quote%5C?action=mpu-create", body=b""), 200)
    assert r.header("content-type") == "application/json"
    assert r.json()["key"] == 'json/k"quote\\', r.body


# ---- abort and unknown uploads ---------------------------------------------------

@case
def abort_really_aborts(c, env):
    key = "abort/k"
    uid = create(c, key)
    p = put_part(c, key, uid, 1, b"data")
    expect(abort(c, key, uid), 204, body=b"")
    expect(complete(c, key, uid, [p]), 404, code="NoSuchUpload", contains="NoSuchUpload")
    expect(c.request("PUT", part_target(key, uid, 2), body=b"x"), 404, code="NoSuchUpload")
    expect(abort(c, key, uid), 404, code="NoSuchUpload")
    expect(get(c, key), 404, body="Object Not Found")


@case
def unknown_upload_ids(c, env):
    key = "unknown/k"
    for uid in ("0" * 32, "f" * 32, "nope", "../../../etc", "%2e%2e%2fuploads",
                "A" * 32, "0" * 31, "0" * 33, " " + "0" * 31):
        q = urllib.parse.quote(uid, safe="%")
        expect(c.request("PUT", "%s?action=mpu-uploadpart&uploadId=%s&partNumber=1"
                         % (path(key), q), body=b"x"), 404, code="NoSuchUpload")
        expect(c.request("POST", "%s?action=mpu-complete&uploadId=%s" % (path(key), q),
                         body=b'{"parts":[]}'), 404, code="NoSuchUpload")
        expect(c.request("DELETE", "%s?action=mpu-abort&uploadId=%s" % (path(key), q)),
               404, code="NoSuchUpload")


@case
def upload_id_of_another_key(c, env):
    if env.store == "moto":
        skip("moto: an uploadId is not tied to its key")
    uid = create(c, "owner/a")
    expect(c.request("PUT", part_target("owner/b", uid, 1), body=b"x"), 404, code="NoSuchUpload")
    expect(complete(c, "owner/b", uid, []), 404, code="NoSuchUpload")
    expect(abort(c, "owner/b", uid), 404, code="NoSuchUpload")
    expect(abort(c, "owner/a", uid), 204)


# ---- partNumber ------------------------------------------------------------------

@case
def part_numbers(c, env):
    key = "pn/k"
    uid = create(c, key)
    for bad in ("0", "10001", "1.5", "1abc", "1e3", "0x10", "-1", "", "+1", "%201",
                "1%20", "99999999999999999999", "%EF%BC%91"):
        expect(c.request("PUT", "%s?action=mpu-uploadpart&uploadId=%s&partNumber=%s"
                         % (path(key), uid, bad), body=b"x"),
               400, contains="Invalid partNumber", code="InvalidArgument")
    put_part(c, key, uid, 10000, b"last")
    put_part(c, key, uid, "00007", b"seven")
    expect(abort(c, key, uid), 204)


# ---- bodies ------------------------------------------------------------------------

@case
def part_body_length_rules(c, env):
    key = "body/k"
    uid = create(c, key)
    t = part_target(key, uid, 1)
    expect(c.request("PUT", t, body=b"", content_length=0), 400, body="Missing request body")
    r = c.request("PUT", t, body=b"abc", content_length="absent")
    if env.cgi or r.status != 200:
        expect_refused(r, env, 411, (411,))
    else:   # lighttpd de-chunks a body that arrived whole and passes its length
        assert r.json() == {"partNumber": 1, "etag": md5(b"abc")}, r
    if not env.server.startswith("apache"):
        # Refused from the Content-Length alone, before a byte of the body.
        expect(c.request("PUT", t, content_length=MAX_PART + 1), 413, code="EntityTooLarge")
    elif env.server == "apache-fcgid":
        # mod_fcgid hands a body over LimitRequestBody on as an EMPTY one:
        # refused, never stored as an empty part.
        expect(c.request("PUT", t, body=b"x" * (MAX_PART + 1)), 400, code="MissingBody")
    else:
        # Apache reads (mod_cgid: refuses with LimitRequestBody) or streams the body.
        expect_refused(c.request("PUT", t, body=b"x" * (MAX_PART + 1)), env, 413, (413,),
                       code="EntityTooLarge")
    if env.server not in ("apache-fcgid", "apache-proxy-fcgi"):
        # (mod_fcgid would hand it on empty, as above; mod_proxy_fcgi waits
        # for the body this request never sends.)
        expect_refused(c.request("PUT", t, content_length=1 << 40), env, 413, (413,),
                       code="EntityTooLarge")
    p = put_part(c, key, uid, 1, data(MAX_PART, 9))   # exactly the maximum is fine
    expect(complete(c, key, uid, [p]), 200)


@case
def invalid_content_length(c, env):
    if not env.cgi:
        skip("web servers refuse these themselves")
    key = "body/cl"
    uid = create(c, key)
    for cl in ("-1", "1e3", "abc", " 5", "99999999999999999999999"):
        expect(c.request("PUT", part_target(key, uid, 1), body=b"x", content_length=cl),
               400, body="Invalid Content-Length")


@case
def short_body_stores_nothing(c, env):
    key = "body/short"
    uid = create(c, key)
    if env.cgi:
        expect(c.request("PUT", part_target(key, uid, 1), body=b"x" * 1000,
                         content_length=5000), 400, code="IncompleteBody")
    else:
        c.send_truncated(part_target(key, uid, 1), 3 * MiB, 1 * MiB)
        time.sleep(0.5)
    # Nothing was stored: part 1 does not exist for complete.
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(b"x" * 1000)}]), 400,
           code="InvalidPart")
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(b"x" * MiB)}]), 400,
           code="InvalidPart")
    expect(abort(c, key, uid), 204)


@case
def complete_body_errors(c, env):
    key = "cbody/k"
    uid = create(c, key)
    p = put_part(c, key, uid, 1, b"abc")
    t = complete_target(key, uid)
    expect(c.request("POST", t, body=b"", content_length=0), 400, body="Missing or incomplete body")
    if env.cgi:   # lighttpd collects a chunked POST body and passes its length
        expect(c.request("POST", t, body=b"{}", content_length="absent"), 411)
    bad = [b"{", b"null", b"[]", b"\"parts\"", b"{\"parts\":{}}", b"{\"parts\":null}",
           b"{\"parts\":[1]}", b"{\"parts\":[{\"partNumber\":\"1\",\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":1.5,\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":1e0,\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":0,\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":10001,\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":1}]}", b"{\"parts\":[{\"etag\":\"x\"}]}",
           b"{\"parts\":[{\"partNumber\":1,\"etag\":7}]}",
           b"{\"parts\":[{\"partNumber\":1,\"etag\":\"\"}]}",
           b"{\"parts\":[]} trailing", b"{\"parts\":[]}{}", b"\xff\xfe",
           b"[" * 5000 + b"]" * 5000,
           b"{\"parts\":[{\"partNumber\":2,\"etag\":\"x\"},{\"partNumber\":1,\"etag\":\"y\"}]}",
           b"{\"parts\":[{\"partNumber\":1,\"etag\":\"x\"},{\"partNumber\":1,\"etag\":\"x\"}]}"]
    for b in bad:
        r = expect(c.request("POST", t, body=b), 400)
        assert r.header("x-r2mpu-error") in ("MalformedJSON", "InvalidArgument",
                                             "InvalidPart", "InvalidPartOrder"), (b[:60], r)
    order = expect(c.request("POST", t, body=bad[-1]), 400)
    assert order.header("x-r2mpu-error") == "InvalidPartOrder", order
    expect(c.request("POST", t, body=b" " * (1024 * 1024 + 1)), 413, code="EntityTooLarge")
    # None of that hurt the upload.
    expect(complete(c, key, uid, [p]), 200)
    assert get(c, key).body == b"abc"


@case
def r2_part_rules(c, env):
    key = "rules/k"
    uid = create(c, key)
    five = data(5 * MiB, 11)
    p1 = put_part(c, key, uid, 1, five)
    p2 = put_part(c, key, uid, 2, data(5 * MiB, 12))
    p3 = put_part(c, key, uid, 3, b"tail")
    p4 = put_part(c, key, uid, 4, data(5 * MiB + 1, 13))
    p5 = put_part(c, key, uid, 5, data(100, 14))
    p6 = put_part(c, key, uid, 6, data(6 * MiB, 15))
    cases = [
        ([p1, {"partNumber": 9, "etag": p1["etag"]}], "InvalidPart"),       # never uploaded
        ([p1, dict(p2, etag=md5(b"other"))], "InvalidPart"),                # wrong etag
        ([p3, p5], "EntityTooSmall"),                                        # small non-last part
        ([p1, p4, p5], "InvalidPart"),                                       # non-uniform sizes
        ([p1, p6], "InvalidPart"),                                           # last larger
    ]
    for parts, code in cases:
        expect(complete(c, key, uid, parts), 400, code=code, contains=code)
    expect(abort(c, key, uid), 204)
    # The same parts, all listed and by the rules, complete (quoted etags too).
    uid = create(c, key)
    parts = [put_part(c, key, uid, i + 1, b) for i, b in enumerate([five, data(5 * MiB, 12), b"tail"])]
    parts[1]["etag"] = '"%s"' % parts[1]["etag"]
    expect(complete(c, key, uid, parts), 200)
    assert get(c, key).body == five + data(5 * MiB, 12) + b"tail"


# ---- keys ----------------------------------------------------------------------------

@case
def key_decoding(c, env):
    skip_on_moto(env, "keys with %, + and non-ASCII")
    # Decoded exactly once: %2520 is the key "a%20b"; + in a path is a plus.
    for raw, key in (("/keys/a%2520b", "keys/a%20b"), ("/keys/a+b", "keys/a+b"),
                     ("/keys/x%2Fy", "keys/x/y"), ("/keys/%C3%BC", "keys/ü"),
                     ("//keys/lead", "/keys/lead"), ("/keys/sp%20ace", "keys/sp ace")):
        r = expect(c.request("POST", raw + "?action=mpu-create", body=b""), 200)
        assert r.json()["key"] == key, (raw, r.json())
        expect(abort(c, key, r.json()["uploadId"]), 204)
    upload(c, "keys/a%20b", [b"encoded"])
    expect(c.request("GET", "/keys/a%2520b?action=get"), 200, body=b"encoded")
    expect(c.request("GET", "/keys/a%20b?action=get"), 404)


@case
def reserved_characters_in_keys(c, env):
    skip_on_moto(env, "keys with reserved characters")
    for key in ("chars/a b", "chars/ü é 日本", "chars/+ ( ) ! * ' = & ? %", "chars/100% sure?",
                "chars/a+b=c&d", "chars/~tilde~", "chars/semi;colon,comma", "chars/#hash",
                "chars/[brackets]{braces}", "chars/ends with space "):
        upload(c, key, [key.encode()])
        expect(get(c, key), 200, body=key.encode())
        expect(c.request("DELETE", path(key) + "?action=delete"), 204)
        expect(get(c, key), 404)


@case
def key_validation(c, env):
    for raw in ("/", "", "/%FF", "/a%C3", "/%C0%AF", "/%ED%A0%80", "/a%00b", "/a%01b",
                "/a%0Ab", "/a%0D%0Ab", "/a%7Fb", "/a%C2%85b", "/a%zz", "/a%4"):
        for m, a in (("POST", "mpu-create"), ("GET", "get"), ("DELETE", "delete")):
            r = c.request(m, (raw or "/") + "?action=" + a, body=b"" if m == "POST" else None)
            # lighttpd refuses some of these itself (invalid UTF-8, %00), Apache with 404.
            expect_refused(r, env, 400, (400, 404))
            assert r.header("x-r2mpu-error") in ("InvalidKey", "InvalidURI") or \
                not env.cgi, (raw, r)
    long_key = "k" * 1025
    expect(c.request("POST", "/" + long_key + "?action=mpu-create", body=b""), 400,
           code="KeyTooLongError")
    r = expect(c.request("POST", "/" + "k" * 1024 + "?action=mpu-create", body=b""), 200)
    expect(abort(c, "k" * 1024, r.json()["uploadId"]), 204)
    # 1024 bytes of multi-byte characters is fine, one byte more is not.
    if env.store != "moto":
        expect(c.request("POST", path("é" * 512) + "?action=mpu-create", body=b""), 200)
    expect(c.request("POST", path("é" * 512 + "x") + "?action=mpu-create", body=b""), 400)


@case
def keys_cannot_escape_the_store(c, env):
    skip_on_moto(env, "keys with dot segments and %")
    if env.server.startswith("apache") or env.server == "nginx":
        skip("the server resolves dot segments in the path before r2mpu sees it")
    before = snapshot_outside(env)
    for key in ("..", "../../outside", "../uploads/x", "a/../../b", "/etc/passwd",
                "./.", "tmp/../objects", "..%2f..%2fescape"):
        upload(c, key, [key.encode()])
        assert get(c, key).body == key.encode()
    for raw in ("/%2e%2e/%2e%2e/x", "/..%2F..%2Fy"):
        r = expect(c.request("POST", raw + "?action=mpu-create", body=b""), 200)
        expect(abort(c, r.json()["key"], r.json()["uploadId"]), 204)
    assert snapshot_outside(env) == before, "files appeared outside the store"


def snapshot_outside(env):
    if env.root is None:
        return set()       # an S3 store: nothing local to escape from
    parent = os.path.dirname(env.root)
    out = set()
    for dirpath, dirnames, filenames in os.walk(parent):
        if dirpath.startswith(env.root):
            continue
        for f in filenames:
            out.add(os.path.join(dirpath, f))
    return out


# ---- reading like a web server --------------------------------------------------------

@case
def ranges(c, env):
    key = "range/k"
    body = data(1000, 21)
    upload(c, key, [body])
    etag = get(c, key).header("etag")
    for rng, first, last in (("bytes=0-9", 0, 9), ("bytes=990-", 990, 999), ("bytes=-5", 995, 999),
                             ("bytes=500-5000", 500, 999), ("bytes=-2000", 0, 999),
                             ("bytes=7-7", 7, 7)):
        r = expect(get(c, key, {"Range": rng}), 206, body=body[first:last + 1])
        assert r.header("content-range") == "bytes %d-%d/1000" % (first, last), (rng, r.headers)
        assert_length(r, last - first + 1)
    for rng in ("bytes=1000-", "bytes=5000-6000", "bytes=-0"):
        r = expect(get(c, key, {"Range": rng}), 416, code="InvalidRange")
        assert r.header("content-range") == "bytes */1000", r.headers
    for rng in ("bytes=0-1,5-6", "bytes=abc", "items=0-1", "bytes=5-1"):
        expect(get(c, key, {"Range": rng}), 200, body=body)
    expect(get(c, key, {"Range": "bytes=0-3", "If-Range": etag}), 206, body=body[:4])
    expect(get(c, key, {"Range": "bytes=0-3", "If-Range": '"other"'}), 200, body=body)
    h = expect(get(c, key, {"Range": "bytes=0-3"}, method="HEAD"), 206, body=b"")
    assert h.header("content-range") == "bytes 0-3/1000"


@case
def ranges_across_parts(c, env):
    """A multipart object's ranges at and across its parts' edges (the fs store
    reads them from the parts' own files)."""
    key = "range/parts"
    parts = [data(5 * MiB, 24), data(5 * MiB, 25), data(3, 26)]
    body = b"".join(parts)
    upload(c, key, parts)
    b1, b2, size = len(parts[0]), len(parts[0]) + len(parts[1]), len(body)
    for first, last in ((b1 - 1, b1 - 1), (b1, b1), (b1 - 2, b1 + 1), (b2 - 1, b2),
                        (b1 - 5, b2 + 1), (0, size - 1), (b2, size - 1), (size - 1, size - 1)):
        r = expect(get(c, key, {"Range": "bytes=%d-%d" % (first, last)}), 206,
                   body=body[first:last + 1])
        assert r.header("content-range") == "bytes %d-%d/%d" % (first, last, size), r.headers
    expect(get(c, key, {"Range": "bytes=-5"}), 206, body=body[-5:])
    expect(get(c, key, {"Range": "bytes=%d-" % (b1 + 7)}), 206, body=body[b1 + 7:])
    assert expect(get(c, key), 200).body == body


@case
def conditional_get(c, env):
    key = "cond/k"
    upload(c, key, [b"conditional"])
    etag = get(c, key).header("etag")
    r = expect(get(c, key, {"If-None-Match": etag}), 304, body=b"")
    assert r.header("etag") == etag
    expect(get(c, key, {"If-None-Match": "W/" + etag}), 304)
    expect(get(c, key, {"If-None-Match": '"x", ' + etag}), 304)
    expect(get(c, key, {"If-None-Match": "*"}), 304)
    expect(get(c, key, {"If-None-Match": '"other"'}), 200, body=b"conditional")
    expect(get(c, key, {"If-Match": etag}), 200, body=b"conditional")
    expect(get(c, key, {"If-Match": "*"}), 200)
    expect(get(c, key, {"If-Match": '"other"'}), 412, code="PreconditionFailed")
    expect(get(c, key, {"If-Match": "W/" + etag}), 412, code="PreconditionFailed")
    expect(get(c, key, {"If-Match": '"other"', "If-None-Match": etag}), 412,
           code="PreconditionFailed")


@case
def http_metadata_roundtrip(c, env):
    key = "meta/report.pdf"
    meta = {"Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="report.pdf"',
            "Content-Encoding": "identity",
            "Content-Language": "de-CH",
            "Cache-Control": "max-age=3600, public",
            "Expires": "Wed, 21 Oct 2037 07:28:00 GMT"}
    upload(c, key, [b"%PDF-1.7"], headers=meta)
    for method in ("GET", "HEAD"):
        r = expect(get(c, key, method=method), 200)
        for name, value in meta.items():
            assert r.header(name) == value, (method, name, r.headers)
    expect_refused(c.request("POST", "/meta/big?action=mpu-create",
                             headers={"Cache-Control": "x" * 9000}, body=b""),
                   env, 400, (400, 431), code="MetadataTooLarge")
    if env.cgi:   # a web server never hands over a raw control character
        expect(c.request("POST", "/meta/ctl?action=mpu-create",
                         headers={"Content-Disposition": "a\x01b"}, body=b""), 400)


@case
def large_metadata_with_range(c, env):
    # 8000 bytes of metadata (R2 keeps 8192) still leave room for every header of a 206.
    key = "meta/large"
    meta = {"Content-Disposition": 'attachment; filename="' + "d" * 3960 + '"',
            "Cache-Control": "private, " + "x" * 3991}
    upload(c, key, [b"0123456789"], headers=meta)
    r = expect(get(c, key, {"Range": "bytes=2-5"}), 206, body=b"2345")
    assert r.header("content-range") == "bytes 2-5/10", r.headers
    for name, value in meta.items():
        assert r.header(name) == value, (name, len(r.header(name) or ""))


# What r2mpu sends with every stored object (src/http.c, http_serve_csp).
STRICT_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
MEDIA_CSP = ("default-src 'none'; media-src 'self'; sandbox allow-same-origin; "
             "frame-ancestors 'none'")


def served_as(r, disposition, csp=STRICT_CSP):
    """nosniff, the CSP and the Content-Disposition (None: no such header), exactly."""
    got = (r.header("x-content-type-options"), r.header("content-security-policy"),
           r.header("content-disposition"))
    assert got == ("nosniff", csp, disposition), (got, r.headers)


def served_every_way(c, key, body, content_type, disposition, csp=STRICT_CSP, csp_304=None):
    """GET, HEAD, a Range and a 304 of key: the type as stored, and served_as() on each.
    A 304 has no Content-Disposition (representation metadata) but the CSP."""
    for method in ("GET", "HEAD"):
        r = expect(get(c, key, method=method), 200, body=body if method == "GET" else b"")
        # Apache writes the type in lower case.
        assert (r.header("content-type") or "").lower() in [t.lower() for t in content_type], \
            (content_type, r.headers)
        served_as(r, disposition, csp)
    r = expect(get(c, key, {"Range": "bytes=1-3"}), 206, body=body[1:4])
    served_as(r, disposition, csp)
    r = expect(get(c, key, {"If-None-Match": r.header("etag")}), 304, body=b"")
    served_as(r, None, csp_304 or csp)


@case
def stored_documents_are_attachments(c, env):
    # Anyone with "w" picks the bytes and the type; on the gateway's origin a
    # browser must download them (and the CSP sandbox would stop any script).
    page = b"<script>parent.document.title = localStorage.length</script>"
    for key, meta, disposition in (
            ("web/page.html", {"Content-Type": "text/html"}, "attachment"),
            ("web/image.svg", {"Content-Type": "image/svg+xml"}, "attachment"),
            ("web/upper.html", {"Content-Type": "TEXT/HTML; charset=x"}, "attachment"),
            ("web/own.html", {"Content-Type": "text/html",
                              "Content-Disposition": "inline; filename=a.html"},
             "attachment; filename=a.html"),
            ("web/kept.xml", {"Content-Type": "application/xml",
                              "Content-Disposition": 'attachment; filename="k.xml"'},
             'attachment; filename="k.xml"'),
            ("web/two-types", {"Content-Type": "text/plain, text/html"}, "attachment"),
            ("web/no-type", {}, "attachment")):
        upload(c, key, [page], headers=meta)
        types = (meta["Content-Type"],) if meta else ("application/octet-stream",
                                                       "binary/octet-stream")
        served_every_way(c, key, page, types, disposition)


@case
def shown_types_stay_inline(c, env):
    png = b"\x89PNG\r\n\x1a\n" + data(200, 31)
    for key, meta, disposition, csp in (
            ("show/a.png", {"Content-Type": "image/png"}, None, STRICT_CSP),
            ("show/b.png", {"Content-Type": "image/png",
                            "Content-Disposition": "inline; filename=b.png"},
             "inline; filename=b.png", STRICT_CSP),
            ("show/c.png", {"Content-Type": "IMAGE/PNG",
                            "Content-Disposition": 'attachment; filename="c.png"'},
             'attachment; filename="c.png"', STRICT_CSP),
            ("show/t.txt", {"Content-Type": "text/plain; charset=utf-8"}, None, STRICT_CSP),
            ("show/v.mp4", {"Content-Type": "video/mp4"}, None, MEDIA_CSP)):
        upload(c, key, [png], headers=meta)
        # An S3 store's 304 may name no type: r2mpu then sends the strict CSP.
        csp_304 = s3_304_csp(c, key) if env.store != "fs" and csp == MEDIA_CSP else None
        served_every_way(c, key, png, (meta["Content-Type"],), disposition, csp, csp_304)


def s3_304_csp(c, key):
    """The CSP of a 304 from an S3 store: the media one if it repeats the type, else strict."""
    etag = get(c, key, method="HEAD").header("etag")
    csp = get(c, key, {"If-None-Match": etag}).header("content-security-policy")
    assert csp in (MEDIA_CSP, STRICT_CSP), csp
    return csp


@case
def metadata_must_be_utf8(c, env):
    for name, value in (("Content-Disposition", b"attachment; filename=caf\xe9.txt"),
                        ("Content-Type", b"text/plain; x=\xc0\xaf"),
                        ("Content-Encoding", b"x\xe0\x80\xaf"),
                        ("Cache-Control", b"\xed\xa0\x80"),
                        ("Content-Language", b"en\xf4\x90\x80\x80"),
                        ("Expires", b"Wed, 21 Oct 2037 07:28:00 GMT\xe2\x82")):
        r = expect_refused(c.request("POST", "/utf8-meta?action=mpu-create",
                                     headers={name: value}, body=b""),
                           env, 400, (400,), code="InvalidArgument")
        assert r.header("x-r2mpu-error") is None or \
            r.body == b"Header %s is not valid UTF-8" % name.encode(), r
    listed = expect(c.request("GET", "/utf8-meta?action=mpu-list"), 200).json()
    assert listed["uploads"] == [], listed
    if env.store == "fs":   # well-formed UTF-8 is kept as sent (S3 stores: not asked here)
        key = "meta/utf8-ok"
        cd = "attachment; filename=caf\u00e9.txt".encode()
        upload(c, key, [b"ok"], headers={"Content-Disposition": cd})
        r = expect(get(c, key), 200, body=b"ok")
        assert r.header("content-disposition").encode("latin-1") == cd, r.headers


@case
def delete_object(c, env):
    key = "del/k"
    upload(c, key, [b"bye"])
    expect(c.request("DELETE", path(key) + "?action=delete"), 204, body=b"")
    expect(get(c, key), 404, body="Object Not Found")
    expect(c.request("DELETE", path(key) + "?action=delete"), 204)


# ---- many processes at once ------------------------------------------------------------

@case
def parallel_25_parts(c, env):
    key = "parallel/25 parts.bin"
    uid = create(c, key)
    chunks = [data(5 * MiB, 100 + i) for i in range(24)] + [data(777, 200)]
    with concurrent.futures.ThreadPoolExecutor(25) as ex:
        parts = list(ex.map(lambda i: put_part(c, key, uid, i + 1, chunks[i]), range(25)))
    r = expect(complete(c, key, uid, parts), 200)
    assert r.header("etag") == '"%s"' % mp_etag(chunks)
    g = expect(get(c, key), 200)
    assert hashlib.sha256(g.body).hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


def uploaded(c, key, seed, n):
    """An upload of key with n parts of 5 MiB already in it: (uid, chunks, parts)."""
    uid = create(c, key)
    chunks = [data(5 * MiB, seed + i) for i in range(n)]
    return uid, chunks, [put_part(c, key, uid, i + 1, b) for i, b in enumerate(chunks)]


def race(*calls):
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as ex:
        futures = [ex.submit(f) for f in calls]
        return [f.result() for f in futures]


@case
def two_completes_race(c, env):
    for round_ in range(3):
        key = "race/complete-%d" % round_
        uid, chunks, parts = uploaded(c, key, 300, 3)
        a, b = race(lambda: complete(c, key, uid, parts), lambda: complete(c, key, uid, parts))
        if env.store == "fs":
            assert sorted([a.status, b.status]) == [200, 404], (a, b)
            assert (a if a.status == 404 else b).header("x-r2mpu-error") == "NoSuchUpload"
        else:
            # An S3 store may answer a repeated Complete with success too.
            assert 200 in (a.status, b.status) and {a.status, b.status} <= {200, 404}, (a, b)
        assert get(c, key).body == b"".join(chunks)


@case
def complete_races_abort(c, env):
    for round_ in range(int(os.environ.get("R2MPU_RACE_ROUNDS", "4"))):
        key = "race/abort-%d" % round_
        uid, chunks, parts = uploaded(c, key, 400, 3)
        done, aborted = race(lambda: complete(c, key, uid, parts), lambda: abort(c, key, uid))
        if done.status == 200:
            # The complete won: the abort finds no upload. (moto and radosgw answer
            # an abort inside a complete with a 500; r2mpu waits for the complete
            # to settle and answers what happened.) radosgw's own race, which r2mpu
            # cannot see: an abort that lands while it completes may remove the
            # upload's meta object and answer 204 ("failed to remove object ...
            # .meta" in its log), the complete succeeding all the same.
            if env.store == "radosgw" and aborted.status == 204:
                pass
            elif env.store == "moto" and aborted.status == 204:
                # moto's own race: its abort closes the parts' buffers under the
                # running complete, which fails ("ValueError: I/O operation on closed
                # file" in its log) after it has put the object in place with the
                # parts' ETag. r2mpu, seeing that ETag and the upload gone, says 200;
                # moto's object then cannot be read. R2 and S3 serialise the two.
                continue
            else:
                expect(aborted, 404, code="NoSuchUpload")
            assert get(c, key).body == b"".join(chunks)
        else:
            assert (done.status, aborted.status) == (404, 204), (done, aborted)
            g = get(c, key)
            if env.store == "fs":
                expect(g, 404)
            else:
                # radosgw may finish a Complete it reported as failed ("completion
                # already in progress") after the abort: never torn, though.
                assert g.status == 404 or g.body == b"".join(chunks), g


@case
def part_resent_during_complete(c, env):
    for round_ in range(3):
        key = "race/resend-%d" % round_
        uid, chunks, parts = uploaded(c, key, 500, 4)
        other = data(5 * MiB, 999)
        done, resent = race(lambda: complete(c, key, uid, parts),
                            lambda: c.request("PUT", part_target(key, uid, 2), body=other))
        now = get(c, key)
        body = now.body
        if done.status == 200:
            # Either the object is exactly the listed parts, or the re-sent part
            # landed first and complete saw a changed etag: never a mixture.
            assert body == b"".join(chunks), "torn object"
            if env.store == "fs":
                # The re-sent part waited for complete's lock, then found no upload.
                assert resent.status == 404, resent
            else:
                assert resent.status in (200, 404), resent
        elif env.store == "moto" and done.status == 502:
            # moto fails a complete racing an UploadPart of its own accord (HTTP
            # 500, "read of closed file"): a store fault, and nothing torn.
            assert now.status == 404 or body == b"".join(chunks), "torn object"
            abort(c, key, uid)
        else:
            assert done.status == 400 and done.header("x-r2mpu-error") == "InvalidPart", done
            # moto may fail the re-sent part too, racing its own complete (502).
            assert resent.status == 200 or (env.store == "moto" and resent.status == 502), \
                resent
            expect(abort(c, key, uid), 204)


# ---- expiry (CGI: it sets a short TTL per request) -------------------------------------

@case
def open_access_is_for_loopback_only(c, env):
    """A page on a name that resolves to 127.0.0.1 (DNS rebinding) gets nothing."""
    if not env.cgi:
        skip("the Host header is the client library's own through a server")
    for host in ("rebound.example", "rebound.example:8080", "127.0.0.1.nip.example"):
        expect(c.request("GET", "/k?action=get", headers={"Host": host}), 403,
               code="AccessDenied")
    for host in ("127.0.0.1:8080", "localhost", "[::1]:80"):
        expect(c.request("GET", "/nothing-here?action=get", headers={"Host": host}), 404)


# ---- beyond the Worker: resuming, listing, integrity -----------------------------

def list_parts(c, key, uid):
    r = expect(c.request("GET", "%s?action=mpu-listparts&uploadId=%s"
                         % (path(key), urllib.parse.quote(uid, safe=""))), 200)
    assert r.header("content-type") == "application/json", r
    return r.json()


def content_md5(b):
    import base64
    return base64.b64encode(hashlib.md5(b).digest()).decode()


@case
def resume_from_listparts(c, env):
    """A client that lost its state finishes the upload from mpu-listparts alone."""
    key = "resume/crashed %d.bin" % random.randrange(1 << 30)
    chunks = [data(5 * MiB, 41), data(5 * MiB, 42), data(5 * MiB, 43), data(1234, 44)]
    uid = create(c, key)
    assert list_parts(c, key, uid) == {"key": key, "uploadId": uid, "parts": []}
    put_part(c, key, uid, 3, chunks[2])
    put_part(c, key, uid, 1, chunks[0])
    # ... the client crashes here; a new one asks what the store has.
    listed = list_parts(c, key, uid)
    assert listed["key"] == key and listed["uploadId"] == uid, listed
    assert listed["parts"] == [
        {"partNumber": 1, "etag": md5(chunks[0]), "size": len(chunks[0])},
        {"partNumber": 3, "etag": md5(chunks[2]), "size": len(chunks[2])}], listed
    have = {p["partNumber"] for p in listed["parts"]}
    for n in (1, 2, 3, 4):
        if n not in have:
            put_part(c, key, uid, n, chunks[n - 1])
    parts = [{"partNumber": p["partNumber"], "etag": p["etag"]}
             for p in list_parts(c, key, uid)["parts"]]
    assert [p["partNumber"] for p in parts] == [1, 2, 3, 4], parts
    expect(complete(c, key, uid, parts), 200)
    assert expect(get(c, key), 200).body == b"".join(chunks)
    # Finished: listing it is NoSuchUpload, like every other action.
    expect(c.request("GET", "%s?action=mpu-listparts&uploadId=%s" % (path(key), uid)), 404,
           code="NoSuchUpload")


@case
def listparts_errors(c, env):
    expect(c.request("GET", "/k?action=mpu-listparts"), 400, code="MissingParameter")
    expect(c.request("GET", "/k?action=mpu-listparts&uploadId=nonexistent0000"), 404,
           code="NoSuchUpload")
    uid = create(c, "listparts/owner")
    if env.store != "moto":    # moto does not tie an upload id to its key
        expect(c.request("GET", "/listparts/other?action=mpu-listparts&uploadId=" +
                         urllib.parse.quote(uid, safe="")), 404, code="NoSuchUpload")
    expect(abort(c, "listparts/owner", uid), 204)


@case
def list_uploads_in_progress(c, env):
    """mpu-list: uploads under the key as prefix, with their start times."""
    # No "/" in the prefixes: moto checks signatures over a decoded query.
    base = "inprogress-%d-" % random.randrange(1 << 30)
    before = time.time()
    ids = {k: create(c, base + k) for k in ("b", "a-1", "a-2")}
    other = create(c, "elsewhere-%d" % random.randrange(1 << 30))
    r = expect(c.request("GET", path(base) + "?action=mpu-list"), 200)
    j = r.json()
    assert j["prefix"] == base and j["truncated"] is False, j
    got = [(u["key"], u["uploadId"]) for u in j["uploads"]]
    assert got == sorted((base + k, ids[k]) for k in ids), (got, ids)
    for u in j["uploads"]:
        t = calendar.timegm(time.strptime(u["initiated"], "%Y-%m-%dT%H:%M:%SZ"))
        # moto answers every upload with one made-up time, in 2010.
        assert env.store == "moto" or before - 120 <= t <= time.time() + 120, u
    only_a = expect(c.request("GET", path(base + "a-") + "?action=mpu-list"), 200).json()
    assert [u["key"] for u in only_a["uploads"]] == [base + "a-1", base + "a-2"], only_a
    # An operator finds the abandoned ones and aborts them.
    for u in j["uploads"]:
        expect(abort(c, u["key"], u["uploadId"]), 204)
    assert expect(c.request("GET", path(base) + "?action=mpu-list"), 200).json()["uploads"] == []
    if env.store != "moto":    # moto does not tie an upload id to its key
        expect(abort(c, "elsewhere", other), 404)
    if env.store == "fs":
        # The whole store, with the empty key (/?action=mpu-list).
        every = expect(c.request("GET", "/?action=mpu-list"), 200).json()
        assert other in [u["uploadId"] for u in every["uploads"]], every
    for u in expect(c.request("GET", "/?action=mpu-list"), 200).json()["uploads"]:
        if u["uploadId"] == other:
            expect(abort(c, u["key"], other), 204)


def list_page(c, prefix, query=""):
    return expect(c.request("GET", path(prefix) + "?action=mpu-list" + query), 200).json()


@case
def list_under_the_longest_prefix(c, env):
    """mpu-list with the longest key as prefix and as key-marker, each byte of it
    %XX-encoded to an S3 store (3 KiB a value): a listing, not a 500."""
    skip_on_moto(env, "a non-ASCII prefix")
    base = "long-%d-" % random.randrange(1 << 30)
    prefix = base + "\u00e9" * ((1024 - len(base)) // 2)     # <= 1024 bytes of UTF-8
    key = prefix[:-1]
    uid = create(c, key)
    j = list_page(c, prefix[:-1])
    assert [u["uploadId"] for u in j["uploads"]] == [uid], j
    j = list_page(c, prefix, "&key-marker=" + urllib.parse.quote(prefix, safe=""))
    assert j["uploads"] == [] and j["truncated"] is False, j
    expect(abort(c, key, uid), 204)


@case
def list_uploads_in_pages(c, env):
    """mpu-list in pages: following the next markers finds every upload once, in order."""
    base = "paged-%d-" % random.randrange(1 << 30)
    made = [(base + k, create(c, base + k)) for k in ("1", "2", "2", "3", "4")]
    # Two more of key 2 a second later: start times no longer follow the ids
    # (random) in 5 of 6 runs, so a store's two orders would disagree here.
    time.sleep(1.1)
    made += [(base + "2", create(c, base + "2")) for _ in range(2)]
    # The listing's order: by key, then start time on the file store, upload id on
    # S3 (the order its upload-id-marker follows; radosgw lists so, moto is sorted).
    # A store ordering by time while its marker counts by id pages inconsistently
    # (found on radosgw: two uploads of a key a second apart, ids the other way round).
    want = [(u["key"], u["uploadId"]) for u in list_page(c, base)["uploads"]]
    assert sorted(want) == sorted(made) and [k for k, _ in want] == sorted(k for k, _ in made), \
        (want, made)
    got, query, pages = [], "&max-uploads=2", 0
    while True:
        j = list_page(c, base, query)
        pages += 1
        assert len(j["uploads"]) <= 2, j
        got += [(u["key"], u["uploadId"]) for u in j["uploads"]]
        if not j["truncated"]:
            assert "nextKeyMarker" not in j and "nextUploadIdMarker" not in j, j
            break
        last = j["uploads"][-1]
        assert (j["nextKeyMarker"], j["nextUploadIdMarker"]) == (last["key"], last["uploadId"]), j
        query = "&max-uploads=2&key-marker=%s&upload-id-marker=%s" % (
            urllib.parse.quote(j["nextKeyMarker"], safe=""),
            urllib.parse.quote(j["nextUploadIdMarker"], safe=""))
        assert pages < 10, got
    assert got == want, (got, want)
    assert pages == 4, pages
    # key-marker alone: after every upload of that key.
    after = list_page(c, base, "&key-marker=" + urllib.parse.quote(base + "2", safe=""))
    assert [u["key"] for u in after["uploads"]] == [base + "3", base + "4"], after
    for key, uid in made:
        expect(abort(c, key, uid), 204)


@case
def list_uploads_bad_page(c, env):
    for query in ("max-uploads=0", "max-uploads=10001", "max-uploads=", "max-uploads=1x",
                  "max-uploads=-1", "max-uploads=99999999999999999999", "max-uploads=%201",
                  "upload-id-marker=abc", "key-marker=", "key-marker=a%01b",
                  "key-marker=%C3%28", "key-marker=a&upload-id-marker=",
                  "key-marker=a&upload-id-marker=a%20b", "key-marker=a&upload-id-marker=%C3%A9",
                  "key-marker=" + "k" * 1025, "key-marker=a&upload-id-marker=" + "u" * 1023,
                  "max-uploads=1&max-uploads=2"):
        # (A web server may refuse a control character in the query itself.)
        r = expect_refused(c.request("GET", "/?action=mpu-list&" + query), env, 400, (400,),
                           code="InvalidArgument")
        assert b"max-uploads" in r.body or b"marker" in r.body or r.header("x-r2mpu-error") is None, \
            (query, r)


@case
def max_parts_setting(c, env):
    if not env.cgi:
        skip("R2MPU_MAX_PARTS set per request: CGI mode only")
    few = {"R2MPU_MAX_PARTS": "3"}
    key = "maxparts/k"
    uid = create(c, key)
    expect(c.request("PUT", part_target(key, uid, 3), body=b"x", env=few), 200)
    r = expect(c.request("PUT", part_target(key, uid, 4), body=b"x", env=few), 400,
               code="InvalidArgument")
    assert r.body == b"Invalid partNumber: must be a whole number from 1 to 3", r
    expect(abort(c, key, uid), 204)


@case
def max_pending_uploads_setting(c, env):
    if not env.cgi:
        skip("R2MPU_MAX_PENDING_UPLOADS set per request: CGI mode only")
    # Open access (the runners' setting) counts the whole store: start empty.
    for u in list_page(c, "")["uploads"]:
        abort(c, u["key"], u["uploadId"])
    three = {"R2MPU_MAX_PENDING_UPLOADS": "3"}
    made = []
    for i in range(3):
        r = expect(c.request("POST", "/pending-k%d?action=mpu-create" % i, body=b"", env=three), 200)
        made.append(("pending-k%d" % i, r.json()["uploadId"]))
    r = expect(c.request("POST", "/pending-k3?action=mpu-create", body=b"", env=three), 429,
               code="TooManyUploads")
    assert b"R2MPU_MAX_PENDING_UPLOADS" in r.body, r
    assert len(list_page(c, "pending-")["uploads"]) == 3    # nothing was created
    expect(abort(c, *made.pop()), 204)
    r = expect(c.request("POST", "/pending-k3?action=mpu-create", body=b"", env=three), 200)
    made.append(("pending-k3", r.json()["uploadId"]))
    for key, uid in made:
        expect(abort(c, key, uid), 204)


@case
def content_md5_is_checked(c, env):
    key = "integrity/md5"
    body = data(300 * 1024, 51)
    uid = create(c, key)
    r = expect(c.request("PUT", part_target(key, uid, 1), body=body,
                         headers={"Content-MD5": content_md5(body)}), 200)
    assert r.json() == {"partNumber": 1, "etag": md5(body)}, r
    # The part corrupted on its way: one byte flipped, the digest of the original.
    bad = bytearray(body)
    bad[1000] ^= 0x40
    expect(c.request("PUT", part_target(key, uid, 2), body=bytes(bad),
                     headers={"Content-MD5": content_md5(body)}), 400, code="BadDigest")
    # (An empty Content-MD5 is no Content-MD5: some servers drop empty headers.)
    for junk in ("nope", content_md5(body)[:-2], "A" * 24, md5(body)):
        expect_refused(c.request("PUT", part_target(key, uid, 3), body=body,
                                 headers={"Content-MD5": junk}), env, 400, (400,),
                       code="InvalidDigest")
    # Nothing of the refused parts was kept, on every store: r2mpu keeps back
    # the last bytes of a part that does not match (moto ignores Content-MD5).
    assert [p["partNumber"] for p in list_parts(c, key, uid)["parts"]] == [1]
    expect(complete(c, key, uid, [{"partNumber": 2, "etag": md5(bytes(bad))}]), 400,
           code="InvalidPart")
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(body)}]), 200)
    assert expect(get(c, key), 200).body == body


@case
def content_md5_left_to_the_store(c, env):
    if not env.cgi or env.store != "moto":
        skip("R2MPU_S3_CHECKS_MD5=1 over moto, set per request: CGI mode on moto only "
             "(radosgw, which checks Content-MD5, runs every case with it)")
    # Told, wrongly, that moto checks Content-MD5, r2mpu passes the client's on and
    # hashes nothing; a part that does not match is still refused, by the store's ETag.
    told = {"R2MPU_S3_CHECKS_MD5": "1"}
    key = "integrity/md5-store"
    body = data(300 * 1024, 52)
    bad = bytearray(body)
    bad[7] ^= 0x01
    uid = create(c, key)
    r = expect(c.request("PUT", part_target(key, uid, 1), body=body, env=told,
                         headers={"Content-MD5": content_md5(body)}), 200)
    assert r.json() == {"partNumber": 1, "etag": md5(body)}, r
    expect(c.request("PUT", part_target(key, uid, 2), body=bytes(bad), env=told,
                     headers={"Content-MD5": content_md5(body)}), 400, code="BadDigest")
    # moto keeps the refused part (R2 and radosgw would not): under an ETag the
    # client was never given, and a complete with the one it expected is refused.
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(body)},
                                  {"partNumber": 2, "etag": md5(body)}]), 400, code="InvalidPart")
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": md5(body)}]), 200)
    assert expect(get(c, key), 200).body == body


@case
def uploads_expire(c, env):
    if not env.cgi or env.store != "fs":
        skip("the fs store's TTL, set per request: CGI mode only (S3 stores expire uploads themselves)")
    # The TTL is read by each process: the upload is made and used under the
    # default (7 days), then looked at by processes told it is 1 second.
    short = {"R2MPU_UPLOAD_TTL": "1"}
    key = "ttl/k"
    uid = create(c, key)
    put_part(c, key, uid, 1, b"x")
    time.sleep(1.5)
    expect(c.request("PUT", part_target(key, uid, 1), body=b"x", env=short), 404, code="NoSuchUpload")
    expect(c.request("POST", complete_target(key, uid), body=b'{"parts":[]}', env=short), 404,
           code="NoSuchUpload")
    assert os.path.isdir(os.path.join(env.root, "uploads", uid))
    # The next create sweeps it away, without a cron job.
    expect(c.request("POST", "/ttl/other?action=mpu-create", body=b"", env=short), 200)
    assert not os.path.exists(os.path.join(env.root, "uploads", uid)), "expired upload left behind"



@case
def creator_clock_ahead(c, env):
    """An upload whose creator's clock is ahead ("created" in the future: another
    host on a shared directory, or a clock stepped back since) is young, not
    expired: it takes parts, is listed and completes, and the sweep keeps it --
    and the files such a host is still writing."""
    if env.root is None:
        skip("the fs store's files")
    key = "clock/ahead"
    uid = create(c, key)
    uploads = os.path.join(env.root, "uploads")
    meta = os.path.join(uploads, uid, "meta")
    with open(meta) as f:
        m = json.load(f)
    m["created"] = int(time.time()) + 300
    with open(meta, "w") as f:     # in place: the meta file is also the upload's lock
        json.dump(m, f)
    body = data(1000, 61)
    part = put_part(c, key, uid, 1, body)
    listed = list_page(c, key)["uploads"]
    assert [u["uploadId"] for u in listed] == [uid], listed

    # A part being written there, and an upload's directory before its meta.
    later = time.time() + 300
    writing = os.path.join(env.root, "tmp", "part-clock-ahead")
    young = os.path.join(uploads, "%032x" % random.getrandbits(128))
    try:
        open(writing, "wb").close()
        os.utime(writing, (later, later))
        os.mkdir(young)
        os.utime(young, (later, later))
        # A create sweeps when the last sweep (.sweep's time) is an interval
        # old, an hour at most: make it due.
        sweep = os.path.join(uploads, ".sweep")
        past = time.time() - 2 * 3600
        os.utime(sweep, (past, past))
        other = create(c, "clock/sweeper")
        assert os.stat(sweep).st_mtime > past + 3600, "the sweep did not run"
        gone = [p for p in (meta, writing, young) if not os.path.exists(p)]
        assert not gone, "swept away: %s" % gone
    finally:
        if os.path.exists(writing):
            os.unlink(writing)
        if os.path.isdir(young):
            os.rmdir(young)
    expect(abort(c, "clock/sweeper", other), 204)
    expect(complete(c, key, uid, [part]), 200)
    assert expect(get(c, key), 200).body == body

# ---- the S3 store's credentials ----------------------------------------------------------

@case
def wrong_secret_is_refused_by_the_store(c, env):
    if env.store == "fs":
        skip("an S3 store's signature check")
    if not env.cgi:
        skip("needs a per-request secret; covered in CGI mode")
    wrong = {"R2MPU_S3_SECRET_ACCESS_KEY": "not-the-secret-0123456789abcdefghijklmno"}
    for method, target, body in (("POST", "/cred/k?action=mpu-create", b""),
                                 ("GET", "/cred/k?action=get", None),
                                 ("DELETE", "/cred/k?action=delete", None)):
        r = expect(c.request(method, target, body=body, env=wrong), 502, code="StoreAuthFailed")
        assert b"not-the-secret" not in r.body and b"0123456789" not in r.body, r
    # And with the right one, the same requests work: the signature is what was checked.
    uid = create(c, "cred/k")
    expect(abort(c, "cred/k", uid), 204)


@case
def store_unreachable_or_stalled(c, env):
    if env.store == "fs":
        skip("an S3 store's network")
    if not env.cgi:
        skip("needs a per-request endpoint; covered in CGI mode")
    import socket
    import threading
    # Nothing listens on a port we just freed: unreachable.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    expect(c.request("POST", "/net/k?action=mpu-create", body=b"",
                     env={"R2MPU_S3_ENDPOINT": "http://127.0.0.1:%d" % closed}),
           502, code="StoreUnreachable")
    # A listener that accepts and never answers (a stall, not an S3 server).
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(8)
    held = []
    stop = threading.Event()

    def hold():
        stall.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(stall.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=hold)
    t.start()
    try:
        t0 = time.monotonic()
        expect(c.request("GET", "/net/k?action=get",
                         env={"R2MPU_S3_ENDPOINT": "http://127.0.0.1:%d" % stall.getsockname()[1],
                              "R2MPU_S3_TIMEOUT": "1"}),
               504, code="StoreTimeout")
        assert time.monotonic() - t0 < 30, "the timeout did not apply"
    finally:
        stop.set()
        t.join()
        for conn in held:
            conn.close()
        stall.close()
