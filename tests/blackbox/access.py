#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/access.py: who may do what, through every web server r2mpu ships a config for.

    access.py [--mode cgi,lighttpd,apache-cgi,apache-fcgid,apache-proxy-fcgi,nginx]
              [--store fs|moto]

r2mpu runs with a tokens file, a signing secret and allowed CORS origins
(no open access), and each case attacks it: no credentials, wrong tokens,
a token for a/ used on b/, a/../b and a%2F..%2Fb, signed URLs with their
expiry, key, rights or size changed, replayed on another key; CORS
preflights from allowed and refused origins; writes from other sites'
pages (refused) and from the gateway's own page. Then r2mpu runs with open
access, which must serve this machine only (a loopback peer and Host) and
refuse other sites' writes too; with CORS "*" it must not start at all.
Signed URLs are minted by `r2mpu.fcgi sign` and, for the forged ones, by
sign_url() below, an independent implementation of the same HMAC (so the
format is checked too).
"""

import argparse
import contextlib
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

from lib import BIN, memcheck, servers
from lib.api import MiB, abort, complete, data, expect, md5, path, part_target
from lib.checks import run_cases, sanitizer_reports, skip
from lib.clients import CgiClient, raw_exchange

SECRET = "s3cret-for-the-tests-0123456789abcdef"
TOKEN_A_RW = "tok-a-rw-7f3e9c2a41d85b60"        # rw under a/
TOKEN_READ_ALL = "tok-r-all-0c5d8e1f2a3b4c5d"   # r on every key
TOKEN_ADMIN = "tok-admin-9a8b7c6d5e4f3a2b"      # rwd on every key
TOKENS = """# token                 rights  prefix
%s  rw  a/
%s  r   *
%s  rwd *
""" % (TOKEN_A_RW, TOKEN_READ_ALL, TOKEN_ADMIN)
ORIGIN_OK = "https://app.example"
ORIGIN_BAD = "https://evil.example"
CASES = []        # with tokens and a signing secret
OPEN_CASES = []   # with R2MPU_OPEN_ACCESS=yes


def case(fn):
    CASES.append(fn)
    return fn


def open_case(fn):
    OPEN_CASES.append(fn)
    return fn


def bearer(token):
    return {"Authorization": "Bearer " + token}


def sign_url(key, rights="w", expires=None, max_size=0, prefix=None, secret=SECRET):
    """The query of a signed URL, computed here (not by r2mpu) from the documented format."""
    expires = int(time.time()) + 3600 if expires is None else expires
    letters = "".join(c for c in "rwd" if c in rights)
    scope = prefix if prefix is not None else key
    msg = ("r2mpu-signed-url-v1\n%s\n%s\n%d\n%d\n" % (
        letters, "prefix" if prefix is not None else "key", expires, max_size)).encode() + \
        scope.encode()
    sig = hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()
    q = []
    if prefix is not None:
        q.append(("r2mpu-prefix", prefix))
    q += [("r2mpu-rights", letters), ("r2mpu-expires", str(expires))]
    if max_size:
        q.append(("r2mpu-max", str(max_size)))
    q.append(("r2mpu-signature", sig))
    return urllib.parse.urlencode(q, quote_via=urllib.parse.quote)


def changed_digit(sig, at):
    """The signature with hex digit `at` changed (still lower-case hex)."""
    return sig[:at] + ("1" if sig[at] == "0" else "0") + sig[at + 1:]


def minted(key, *args):
    """`r2mpu.fcgi sign ... KEY`: the path and query it prints."""
    env = dict(os.environ, R2MPU_SIGNING_SECRET=SECRET)
    p = subprocess.run([BIN, "sign"] + list(args) + [key], env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    url = p.stdout.strip()
    assert url.startswith("/") and "r2mpu-signature=" in url, url
    return url


def with_action(url, action):
    return url + ("&" if "?" in url else "?") + action


def denied(r, status, env, server_statuses=()):
    """r2mpu refused (401/403 with its code), or the web server refused first."""
    if not env.cgi and r.header("x-r2mpu-error") is None and r.status in server_statuses:
        return r
    expect(r, status, code="Unauthorized" if status == 401 else "AccessDenied")
    if status == 401:
        assert r.header("www-authenticate") == 'Bearer realm="r2mpu"', r
    return r


# ---- bearer tokens -----------------------------------------------------------------

@case
def no_credentials_is_401(c, env):
    for method, target in (("POST", "/a/k?action=mpu-create"), ("GET", "/a/k?action=get"),
                           ("DELETE", "/a/k?action=delete"),
                           ("GET", "/?action=mpu-list")):
        denied(c.request(method, target, body=b"" if method == "POST" else None), 401, env)
    # Another scheme is no credential r2mpu knows.
    denied(c.request("GET", "/a/k?action=get", headers={"Authorization": "Basic YTpi"}), 401,
           env)


@case
def health_needs_no_credentials(c, env):
    """A monitor asks ?action=health without a token: the answer says only "ok"."""
    expect(c.request("GET", "/a/k?action=health"), 200, body=b"ok\n")
    # A wrong token is no reason to refuse it either: it is not looked at.
    expect(c.request("GET", "/?action=health", headers=bearer("x" * 24)), 200, body=b"ok\n")


@case
def wrong_tokens_are_403(c, env):
    for token in ("x" * 24, TOKEN_A_RW + "x", TOKEN_A_RW[:-1], TOKEN_A_RW.upper()):
        denied(c.request("GET", "/a/k?action=get", headers=bearer(token)), 403, env)
    denied(c.request("GET", "/a/k?action=get",
                     headers={"Authorization": "Bearer %s extra" % TOKEN_A_RW}), 403, env)


@case
def token_works_inside_its_prefix(c, env):
    h = bearer(TOKEN_A_RW)
    key = "a/token/obj.bin"
    uid = expect(c.request("POST", path(key) + "?action=mpu-create", headers=h, body=b""),
                 200).json()["uploadId"]
    body = data(64 * 1024, 3)
    r = expect(c.request("PUT", part_target(key, uid, 1), headers=h, body=body), 200)
    assert r.json()["etag"] == md5(body), r
    listed = expect(c.request("GET", "%s?action=mpu-listparts&uploadId=%s" % (path(key), uid),
                              headers=h), 200).json()
    assert [p["partNumber"] for p in listed["parts"]] == [1], listed
    expect(c.request("POST", "%s?action=mpu-complete&uploadId=%s" % (path(key), uid), headers=h,
                     body=('{"parts":[{"partNumber":1,"etag":"%s"}]}' % md5(body)).encode()),
           200)
    assert expect(c.request("GET", path(key) + "?action=get", headers=h), 200).body == body
    # rw, no d: the token may not delete.
    denied(c.request("DELETE", path(key) + "?action=delete", headers=h), 403, env)
    expect(c.request("DELETE", path(key) + "?action=delete", headers=bearer(TOKEN_ADMIN)), 204)


@case
def token_never_leaves_its_prefix(c, env):
    h = bearer(TOKEN_A_RW)
    # Plainly outside, or made to look inside: a (no slash), ab/, b/.
    for key in ("b/x", "a", "ab/x", "A/x"):
        denied(c.request("POST", path(key) + "?action=mpu-create", headers=h, body=b""), 403,
               env)
    # Dot segments and encoded slashes. A server that resolves ".." first
    # turns these into /b/x (403 from r2mpu too); nothing may create b/x.
    for target in ("/a/../b/x", "/a/%2E%2E/b/x", "/a%2F..%2Fb%2Fx", "/a/./../b/x",
                   "/a/%2e%2e%2fb/x", "/a/.%2E/b/x", "/a/x/../../b/x"):
        r = c.request("POST", target + "?action=mpu-create", headers=h, body=b"")
        denied(r, 403, env, (400, 404))
    r = c.request("GET", "/b/x?action=get", headers=bearer(TOKEN_ADMIN))
    expect(r, 404)
    if env.store == "moto":
        return    # moto checks signatures over a decoded path: no "%" in keys there
    # The key is decoded exactly once: %252E%252E is the literal key "a/%2E%2E/b".
    r = expect(c.request("POST", "/a/%252E%252E/b?action=mpu-create", headers=h, body=b""), 200)
    assert r.json()["key"] == "a/%2E%2E/b", r
    expect(abort(c, "a/%2E%2E/b", r.json()["uploadId"]), 401)  # no token: refused
    expect(c.request("DELETE", "/a/%252E%252E/b?action=mpu-abort&uploadId=" +
                     r.json()["uploadId"], headers=h), 204)


@case
def read_only_token(c, env):
    h = bearer(TOKEN_READ_ALL)
    expect(c.request("GET", "/b/nothing?action=get", headers=h), 404)
    denied(c.request("POST", "/b/x?action=mpu-create", headers=h, body=b""), 403, env)
    denied(c.request("DELETE", "/b/x?action=delete", headers=h), 403, env)
    # Listing uploads is reading; the whole store with the empty key.
    expect(c.request("GET", "/?action=mpu-list", headers=h), 200)
    denied(c.request("GET", "/?action=mpu-list", headers=bearer(TOKEN_A_RW)), 403, env)
    if env.store != "moto":    # moto: no "/" in a signed query (prefix=a/)
        expect(c.request("GET", "/a/?action=mpu-list", headers=bearer(TOKEN_A_RW)), 200)


# ---- signed URLs -------------------------------------------------------------------------

@case
def signed_url_uploads_one_key(c, env):
    key = "signed/one key.bin"
    url = minted(key, "--rights", "w", "--expires-in", "1h")
    assert url.startswith(path(key) + "?"), url
    assert sign_url(key, "w", expires=int(urllib.parse.parse_qs(
        urllib.parse.urlsplit(url).query)["r2mpu-expires"][0])) == url.split("?", 1)[1], \
        "r2mpu sign and the documented format disagree: " + url
    r = expect(c.request("POST", with_action(url, "action=mpu-create"), body=b""), 200)
    uid = r.json()["uploadId"]
    chunks = [data(5 * MiB, 5), data(1000, 6)]
    parts = []
    for n, b in enumerate(chunks, 1):
        r = expect(c.request("PUT", with_action(url, "action=mpu-uploadpart&uploadId=%s"
                                                "&partNumber=%d" % (uid, n)), body=b), 200)
        parts.append(r.json())
    r = expect(c.request("POST", with_action(url, "action=mpu-complete&uploadId=" + uid),
                         body=('{"parts":%s}' % str(parts).replace("'", '"')).encode()), 200)
    # w does not read: the object is read with a token.
    denied(c.request("GET", with_action(url, "action=get")), 403, env)
    got = expect(c.request("GET", path(key) + "?action=get", headers=bearer(TOKEN_ADMIN)), 200)
    assert got.body == b"".join(chunks)


@case
def signed_url_tampering_is_403(c, env):
    key = "signed/tamper"
    exp = int(time.time()) + 600
    good = sign_url(key, "w", expires=exp, max_size=MiB)
    expect(c.request("POST", path(key) + "?" + good + "&action=mpu-create", body=b""), 200)
    q = urllib.parse.parse_qs(good)

    def variant(**change):
        d = {k: v[0] for k, v in q.items()}
        d.update(change)
        return urllib.parse.urlencode(d, quote_via=urllib.parse.quote)
    attempts = {
        "expiry moved": (path(key), variant(**{"r2mpu-expires": str(exp + 3600)})),
        "rights widened": (path(key), variant(**{"r2mpu-rights": "rwd"})),
        "size raised": (path(key), variant(**{"r2mpu-max": str(100 * MiB)})),
        "size removed": (path(key), urllib.parse.urlencode(
            {k: v[0] for k, v in q.items() if k != "r2mpu-max"})),
        "made a prefix": (path(key), variant(**{"r2mpu-prefix": "signed/"})),
        "replayed on another key": (path("signed/other"), good),
        "replayed under the key": (path(key + "/x"), good),
        "signature's first digit changed": (path(key), variant(**{
            "r2mpu-signature": changed_digit(q["r2mpu-signature"][0], 0)})),
        # Every digit counts: a compare over the first half only must not pass.
        "signature's digit 40 changed": (path(key), variant(**{
            "r2mpu-signature": changed_digit(q["r2mpu-signature"][0], 40)})),
        "signature's last digit changed": (path(key), variant(**{
            "r2mpu-signature": changed_digit(q["r2mpu-signature"][0], 63)})),
        "signature short": (path(key), variant(**{"r2mpu-signature": "abc"})),
        "no signature": (path(key), urllib.parse.urlencode(
            {k: v[0] for k, v in q.items() if k != "r2mpu-signature"})),
        "other secret": (path(key), sign_url(key, "w", expires=exp, max_size=MiB,
                                              secret=SECRET + "x")),
        "expired": (path(key), sign_url(key, "w", expires=int(time.time()) - 5)),
        "junk expiry": (path(key), variant(**{"r2mpu-expires": "-1"})),
    }
    for name, (p, query) in attempts.items():
        r = c.request("POST", p + "?" + query + "&action=mpu-create", body=b"")
        try:
            denied(r, 403, env)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (name, e))
    # The method: a read-only URL cannot write, a write URL cannot delete.
    ro = sign_url(key, "r")
    denied(c.request("POST", path(key) + "?" + ro + "&action=mpu-create", body=b""), 403, env)
    denied(c.request("DELETE", path(key) + "?" + good + "&action=delete"), 403, env)


@case
def signed_url_size_limit(c, env):
    key = "signed/limited"
    q = sign_url(key, "w", max_size=6 * MiB)
    base = path(key) + "?" + q
    uid = expect(c.request("POST", base + "&action=mpu-create", body=b""), 200).json()["uploadId"]
    # One part above the limit: 413 before a byte is stored.
    r = c.request("PUT", base + "&action=mpu-uploadpart&uploadId=%s&partNumber=1" % uid,
                  body=data(6 * MiB + 1, 7))
    expect(r, 413, code="EntityTooLarge")
    # Parts within it that add up to more: complete refuses.
    parts = []
    for n in (1, 2):
        b = data(5 * MiB, 7 + n)
        r = expect(c.request("PUT", base + "&action=mpu-uploadpart&uploadId=%s&partNumber=%d"
                             % (uid, n), body=b), 200)
        parts.append(r.json())
    body = ('{"parts":%s}' % str(parts).replace("'", '"')).encode()
    expect(c.request("POST", base + "&action=mpu-complete&uploadId=" + uid, body=body), 413,
           code="EntityTooLarge")
    within = c.request("POST", base + "&action=mpu-complete&uploadId=" + uid,
                       body=('{"parts":[%s]}' % str(parts[0]).replace("'", '"')).encode())
    if env.store == "radosgw":
        # radosgw refuses a complete that leaves out a part it holds ("total parts
        # mismatch"), which R2 and S3 allow: its answer, not r2mpu's.
        expect(within, 400, code="InvalidPart")
    else:
        expect(within, 200)


@case
def signed_key_url_lists_nothing(c, env):
    """mpu-list reads below its key: a URL for one key must not list its neighbours."""
    uid = expect(c.request("POST", "/videos/talk.mp4.private?action=mpu-create",
                           headers=bearer(TOKEN_ADMIN), body=b""), 200).json()["uploadId"]
    q = minted("videos/talk.mp4", "--rights", "r").split("?", 1)[1]
    denied(c.request("GET", "/videos/talk.mp4?" + q + "&action=mpu-list"), 403, env)
    q = sign_url("", "r")
    denied(c.request("GET", "/?" + q + "&action=mpu-list"), 403, env)
    expect(c.request("DELETE", "/videos/talk.mp4.private?action=mpu-abort&uploadId=" + uid,
                     headers=bearer(TOKEN_ADMIN)), 204)


@case
def signed_prefix_url(c, env):
    q = minted("uploads/user-7/", "--prefix", "--rights", "rw").split("?", 1)[1]
    expect(c.request("POST", "/uploads/user-7/photo.jpg?" + q + "&action=mpu-create",
                     body=b""), 200)
    if env.store != "moto":    # moto: no "/" in a signed query (prefix=uploads/user-7/)
        expect(c.request("GET", "/uploads/user-7/?" + q + "&action=mpu-list"), 200)
    for target in ("/uploads/user-8/photo.jpg", "/uploads/user-7", "/uploads/user-70/x"):
        denied(c.request("POST", target + "?" + q + "&action=mpu-create", body=b""), 403, env)
    for target in ("/uploads/user-7/../user-8/x", "/uploads/user-7%2F..%2Fuser-8%2Fx"):
        denied(c.request("POST", target + "?" + q + "&action=mpu-create", body=b""), 403, env,
               (400, 404))


@case
def pending_cap_counts_the_scope(c, env):
    """R2MPU_MAX_PENDING_UPLOADS counts the credential's scope only."""
    if not env.cgi:
        skip("R2MPU_MAX_PENDING_UPLOADS set per request: CGI mode only")
    if env.store == "moto":
        skip('moto: no "/" in a signed query (the scope a/ is the listing\'s prefix)')
    admin, h = bearer(TOKEN_ADMIN), bearer(TOKEN_A_RW)
    two = {"R2MPU_MAX_PENDING_UPLOADS": "2"}

    def make(target, headers=None, env2=two):
        return c.request("POST", target + ("&" if "?" in target else "?") + "action=mpu-create",
                         headers=headers, body=b"", env=env2)

    def drop_all():
        for u in expect(c.request("GET", "/?action=mpu-list", headers=admin), 200).json()["uploads"]:
            c.request("DELETE", "%s?action=mpu-abort&uploadId=%s" % (path(u["key"]), u["uploadId"]),
                      headers=admin)

    drop_all()
    # Three elsewhere (under the default cap) do not count for a/ ...
    for i in range(3):
        expect(make("/b/other-%d" % i, admin, None), 200)
    expect(make("/a/pending-1", h), 200)
    expect(make("/a/pending-2", h), 200)
    r = expect(make("/a/pending-3", h), 429, code="TooManyUploads")
    assert b"R2MPU_MAX_PENDING_UPLOADS" in r.body, r
    # ... while every key is the admin token's scope: 5 are pending there.
    expect(make("/b/other-3", admin), 429, code="TooManyUploads")
    # A signed URL's prefix is its scope; one for one key counts that key only.
    q = sign_url("", "w", prefix="c/")
    expect(make("/c/1?" + q), 200)
    expect(make("/c/2?" + q), 200)
    expect(make("/c/3?" + q), 429, code="TooManyUploads")
    q = sign_url("c/1", "w")
    expect(make("/c/1?" + q), 200)       # c/1: one pending (c/2 is not its key)
    expect(make("/c/1?" + q), 429, code="TooManyUploads")
    drop_all()


# ---- CORS ------------------------------------------------------------------------------

@case
def cors_preflight(c, env):
    pre = {"Origin": ORIGIN_OK, "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "authorization, content-md5, content-type"}
    r = expect(c.request("OPTIONS", "/a/k?action=mpu-uploadpart&uploadId=x&partNumber=1",
                         headers=pre), 204)
    assert r.header("access-control-allow-origin") == ORIGIN_OK, r
    assert "PUT" in r.header("access-control-allow-methods"), r
    allowed = r.header("access-control-allow-headers").lower()
    for h in ("authorization", "content-md5", "content-type"):
        assert h in allowed, r
    assert "origin" in (r.header("vary") or "").lower(), r
    # A refused origin, method or header: 403 and nothing that lets a browser on.
    for h in ({"Origin": ORIGIN_BAD}, {"Access-Control-Request-Method": "PATCH"},
              {"Access-Control-Request-Headers": "x-evil"}, {"Origin": "null"}):
        r = expect(c.request("OPTIONS", "/a/k?action=get", headers=dict(pre, **h)), 403)
        if h.get("Origin") != ORIGIN_OK and "Origin" in h:
            assert r.header("access-control-allow-origin") is None, r


@case
def cors_on_answers(c, env):
    h = dict(bearer(TOKEN_A_RW), Origin=ORIGIN_OK)
    uid = expect(c.request("POST", "/a/cors?action=mpu-create", headers=h, body=b""),
                 200).json()["uploadId"]
    r = expect(c.request("PUT", part_target("a/cors", uid, 1), headers=h, body=b"xyz"), 200)
    assert r.header("access-control-allow-origin") == ORIGIN_OK, r
    assert "ETag" in r.header("access-control-expose-headers"), r
    assert r.header("etag") == '"%s"' % md5(b"xyz"), r
    # Errors too, so the page can read why.
    r = expect(c.request("GET", "/a/cors?action=get", headers={"Origin": ORIGIN_OK}), 401)
    assert r.header("access-control-allow-origin") == ORIGIN_OK, r
    r = c.request("GET", "/a/cors?action=get", headers=dict(h, Origin=ORIGIN_BAD))
    assert r.header("access-control-allow-origin") is None, r
    expect(c.request("DELETE", "/a/cors?action=mpu-abort&uploadId=" + uid, headers=h), 204)


# Origins that extend or resemble an allowed one: an origin is allowed only as written.
LOOKALIKE_ORIGINS = (ORIGIN_OK + ".evil", ORIGIN_OK + ":8443", "http://app.example",
                     "https://app.exampl", "https://sub.app.example", ORIGIN_OK + "/")


@case
def cors_origins_match_exactly(c, env):
    pre = {"Access-Control-Request-Method": "PUT"}
    for origin in LOOKALIKE_ORIGINS:
        r = expect(c.request("OPTIONS", "/a/k?action=get", headers=dict(pre, Origin=origin)),
                   403, code="CorsOriginRefused")
        assert r.header("access-control-allow-origin") is None, (origin, r)
        r = expect(c.request("GET", "/a/nothing?action=get",
                             headers=dict(bearer(TOKEN_A_RW), Origin=origin)), 404)
        assert r.header("access-control-allow-origin") is None, (origin, r)


# ---- cross-site writes: refused whatever the access mode --------------------------------

def own_origin(c, env):
    """The gateway's own origin as a browser on it would send it, and the
    headers that make it so (CGI: the Host a server would pass)."""
    if env.cgi:    # a loopback name: open access serves no other
        return "http://localhost:8080", {"Host": "localhost:8080"}
    return "http://127.0.0.1:%d" % c.port, {}


def xsite_refused(r, origin):
    expect(r, 403, code="CorsOriginRefused")
    assert r.header("access-control-allow-origin") is None, (origin, r)


def cross_site_writes(c, env, key, headers):
    """Every request that changes the store, from pages on other sites: 403
    CorsOriginRefused before anything is stored; then the same from the
    gateway's own page and from an allowed one go through."""
    uid = expect(c.request("POST", path(key) + "?action=mpu-create", headers=headers,
                           body=b""), 200).json()["uploadId"]
    body = data(1000, 11)
    etag = expect(c.request("PUT", part_target(key, uid, 1), headers=headers, body=body),
                  200).json()["etag"]
    done = ('{"parts":[{"partNumber":1,"etag":"%s"}]}' % etag).encode()
    writes = (
        ("POST", path(key) + "?action=mpu-create", b""),
        # A form on another site: a simple request, no preflight.
        ("POST", path(key) + "?action=mpu-create", b"a=b"),
        ("PUT", part_target(key, uid, 2), data(1000, 12)),
        ("POST", "%s?action=mpu-complete&uploadId=%s" % (path(key), uid), done),
        ("DELETE", "%s?action=mpu-abort&uploadId=%s" % (path(key), uid), None),
        ("DELETE", path(key) + "?action=delete", None),
    )
    for origin in (ORIGIN_BAD, "null") + LOOKALIKE_ORIGINS:
        for method, target, b in writes:
            h = dict(headers, Origin=origin)
            if b == b"a=b":
                h["Content-Type"] = "application/x-www-form-urlencoded"
            try:
                xsite_refused(c.request(method, target, headers=h, body=b), origin)
            except AssertionError as e:
                raise AssertionError("%s %s from %s: %s" % (method, target, origin, e))
    # Nothing changed: one upload, one part, no object.
    listed = expect(c.request("GET", "%s?action=mpu-listparts&uploadId=%s" % (path(key), uid),
                              headers=headers), 200).json()
    assert [p["partNumber"] for p in listed["parts"]] == [1], listed
    expect(c.request("GET", path(key) + "?action=get", headers=headers), 404)
    if env.store != "moto":    # moto: no "/" in a signed query (the prefix)
        ups = expect(c.request("GET", path(key) + "?action=mpu-list", headers=headers),
                     200).json()["uploads"]
        assert [u["uploadId"] for u in ups if u["key"] == key] == [uid], ups
    # The gateway's own page writes (browsers send Origin on same-origin POSTs too).
    own, host = own_origin(c, env)
    h = dict(headers, Origin=own, **host)
    expect(c.request("POST", "%s?action=mpu-complete&uploadId=%s" % (path(key), uid),
                     headers=h, body=done), 200)
    # An allowed origin deletes it.
    expect(c.request("DELETE", path(key) + "?action=delete",
                     headers=dict(headers, Origin=ORIGIN_OK)), 204)


@case
def cross_site_writes_refused_with_token(c, env):
    cross_site_writes(c, env, "a/xsite-token", bearer(TOKEN_ADMIN))
    # Refused before the credentials are looked at: none, or a signed URL.
    xsite_refused(c.request("POST", "/a/x?action=mpu-create", headers={"Origin": ORIGIN_BAD},
                            body=b""), ORIGIN_BAD)
    q = sign_url("a/x", "w")
    xsite_refused(c.request("POST", "/a/x?" + q + "&action=mpu-create",
                            headers={"Origin": ORIGIN_BAD}, body=b""), ORIGIN_BAD)
    expect(c.request("POST", "/a/x?" + q + "&action=mpu-create",
                     headers={"Origin": ORIGIN_OK}, body=b""), 200)
    # Reads are not writes: answered, without CORS headers for the page.
    r = expect(c.request("GET", "/a/x?action=get",
                         headers=dict(bearer(TOKEN_ADMIN), Origin=ORIGIN_BAD)), 404)
    assert r.header("access-control-allow-origin") is None, r


@case
def same_origin_scheme_and_port(c, env):
    """The own origin is scheme, host and port: the same host by another scheme or port is
    another site. CGI only, where the test says how the request came in."""
    if not env.cgi:
        skip("CGI only: the test sets HTTPS and REQUEST_SCHEME")
    h = dict(bearer(TOKEN_ADMIN), Host="gw.example:8443")
    for origin, extra, ok in (
            ("https://gw.example:8443", {"HTTPS": "on"}, True),
            ("https://gw.example:8443", {"REQUEST_SCHEME": "https"}, True),
            ("http://gw.example:8443", {"HTTPS": "on"}, False),
            ("https://gw.example:8443", {}, False),
            ("http://gw.example:8443", {}, True),
            ("https://gw.example", {"HTTPS": "on"}, False),
            ("https://gw.example:443", {"HTTPS": "on"}, False)):
        r = c.request("POST", "/a/scheme?action=mpu-create", body=b"",
                      headers=dict(h, Origin=origin), env=extra)
        try:
            if ok:
                uid = expect(r, 200).json()["uploadId"]
                expect(c.request("DELETE", "/a/scheme?action=mpu-abort&uploadId=" + uid,
                                 headers=bearer(TOKEN_ADMIN)), 204)
            else:
                xsite_refused(r, origin)
        except AssertionError as e:
            raise AssertionError("%s with %s: %s" % (origin, extra, e))


# ---- open access (R2MPU_OPEN_ACCESS=yes): this machine only --------------------------------

@open_case
def open_access_serves_this_machine(c, env):
    key = "open/local.bin"
    uid = expect(c.request("POST", path(key) + "?action=mpu-create", body=b""),
                 200).json()["uploadId"]
    body = data(2000, 21)
    etag = expect(c.request("PUT", part_target(key, uid, 1), body=body), 200).json()["etag"]
    expect(complete(c, key, uid, [{"partNumber": 1, "etag": etag}]), 200)
    assert expect(c.request("GET", path(key) + "?action=get"), 200).body == body
    expect(c.request("DELETE", path(key) + "?action=delete"), 204)


@open_case
def open_access_refuses_other_peers(c, env):
    """REMOTE_ADDR not loopback: 403, whatever the Host says. CGI only: through a
    server the peer is this test, on 127.0.0.1."""
    if not env.cgi:
        skip("CGI only: through a server the peer is this test, on 127.0.0.1")
    for addr in ("192.0.2.7", "10.0.0.1", "::ffff:192.0.2.7", "2001:db8::1", "fe80::1",
                 "128.0.0.1", "", "localhost"):
        for method, target in (("GET", "/open/k?action=get"),
                               ("POST", "/open/k?action=mpu-create")):
            r = c.request(method, target, body=b"" if method == "POST" else None,
                          env={"REMOTE_ADDR": addr})
            expect(r, 403, code="AccessDenied", contains="peer address")
    for addr in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        expect(c.request("GET", "/open/nothing?action=get", env={"REMOTE_ADDR": addr}), 404)


@open_case
def open_access_needs_a_host(c, env):
    """No Host (HTTP/1.0): 403, as the DNS-rebinding check cannot be made."""
    if env.cgi:
        for method, target in (("GET", "/open/k?action=get"),
                               ("POST", "/open/k?action=mpu-create")):
            r = c.request(method, target, body=b"" if method == "POST" else None,
                          env={"HTTP_HOST": ""})
            expect(r, 403, code="AccessDenied", contains="Host header")
        return
    prefix = getattr(c, "prefix", "")
    for method, target in (("GET", "/open/k?action=get"),
                           ("POST", "/open/k?action=mpu-create")):
        raw = ("%s %s%s HTTP/1.0\r\n%s\r\n" % (
            method, prefix, target, "Content-Length: 0\r\n" if method == "POST" else "")).encode()
        r = raw_exchange(c.port, raw, False)
        if r.header("x-r2mpu-error") is None and r.status == 400:
            print("     %s: the server itself refuses HTTP/1.0 without Host (400)" % env.server)
            continue
        expect(r, 403, code="AccessDenied", contains="Host header")


@open_case
def open_access_refuses_cross_site_writes(c, env):
    cross_site_writes(c, env, "open/xsite", {})


# ---- the runner -------------------------------------------------------------------------

def refuses_to_start(name, sandbox, settings, words):
    """r2mpu with these settings does not serve: as CGI it exits 1 before an
    answer, standalone (--listen, for nginx and mod_proxy_fcgi) it exits 1
    without listening; both say why, naming each of `words`."""
    env = dict({"PATH": os.environ["PATH"], "R2MPU_FS_ROOT": os.path.join(sandbox, name)},
               **settings)
    cgi = dict(env, REQUEST_METHOD="GET", REQUEST_URI="/k?action=get", QUERY_STRING="action=get",
               GATEWAY_INTERFACE="CGI/1.1", HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    ok = True
    listen = "127.0.0.1:%d" % servers.free_port()
    for how, argv, e in (("cgi", [BIN], cgi), ("--listen", [BIN, "--listen", listen], env)):
        # Its own session: a --listen that does start is stopped with its workers.
        p = subprocess.Popen(argv, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            err += b" (still running after 10 s: it started)"
        said = all(w.encode() in err for w in words)
        good = p.returncode == 1 and said and out == b""
        ok = ok and good
        print("%s %s [%s]: exit %d, %r" % ("ok  " if good else "FAIL", name, how, p.returncode,
                                           err[-300:]))
    return ok


def no_rules_refuses_to_start(sandbox):
    """Without any access setting r2mpu does not serve."""
    return refuses_to_start("no_rules_refuses_to_start", sandbox, {}, ["R2MPU_OPEN_ACCESS"])


def open_to_any_origin_refuses_to_start(sandbox):
    """Open access with R2MPU_CORS_ORIGINS=*: every page a local browser visits could
    read, write and delete. r2mpu does not serve; the message names both settings."""
    ok = True
    for origins in ("*", ORIGIN_OK + ", *"):
        ok = refuses_to_start("open_to_any_origin_refuses_to_start", sandbox,
                              {"R2MPU_OPEN_ACCESS": "yes", "R2MPU_CORS_ORIGINS": origins},
                              ["R2MPU_OPEN_ACCESS", "R2MPU_CORS_ORIGINS=*"]) and ok
    return ok


def settings_for(sandbox, mode):
    tokens = servers.write_tokens(os.path.join(sandbox, "tokens-" + mode), TOKENS, mode)
    return {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-" + mode),
            "R2MPU_MAX_PART_SIZE": "16M", "R2MPU_TOKENS_FILE": tokens,
            "R2MPU_SIGNING_SECRET": SECRET, "R2MPU_CORS_ORIGINS": ORIGIN_OK + ", http://x.test"}


def open_settings(sandbox, mode):
    """Open access, as `make run` has it, with one page allowed by CORS."""
    return {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-" + mode),
            "R2MPU_MAX_PART_SIZE": "16M", "R2MPU_OPEN_ACCESS": "yes",
            "R2MPU_CORS_ORIGINS": ORIGIN_OK}


def log_names_credentials_not_secrets(log, label, open_access):
    """The server log after the cases: a line per request, naming the credential
    (a token by its line, a signed URL, open access), and no token, secret or
    signature anywhere in it."""
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    # CgiClient puts "[METHOD target] " before what a request wrote: the test's, not r2mpu's.
    text = re.sub(r"(?m)^\[[A-Z]+ .*?\] (?=\d{4}-\d\d-\d\dT)", "", text)
    lines = [l for l in text.splitlines() if " request method=" in l]
    leaked = [s for s in (TOKEN_A_RW, TOKEN_READ_ALL, TOKEN_ADMIN, SECRET) if s in text]
    leaked += re.findall(r"r2mpu-signature=[0-9a-f]{16,}", text)
    named = ['credential="open"'] if open_access else ['credential="token line ',
                                                       'credential="signed URL"']
    ok = lines and not leaked and all(any(n in l for l in lines) for n in named)
    print("%s log: %d request lines, credentials named, no secret in it [%s]%s" % (
        "ok  " if ok else "FAIL", len(lines), label,
        "" if ok else ": leaked %r, named %r" % (leaked, [n for n in named if not any(
            n in l for l in lines)])))
    return ok


def run_mode(mode, store, s3, sandbox, valgrind=False, open_access=False):
    """CASES with tokens and a secret, or OPEN_CASES with open access (in a
    sandbox of their own: a server's state directory is made anew)."""
    if open_access:
        sandbox = os.path.join(sandbox, "open")
        os.makedirs(sandbox, mode=0o755, exist_ok=True)
    settings = (open_settings if open_access else settings_for)(sandbox, mode)
    settings.update(s3)
    if store == "moto":
        # moto checks a signature over the decoded query, so a listing whose
        # prefix has a "/" (a/, the scope a create counts its pending uploads
        # in) fails there: no cap on moto. fs and radosgw test the cap.
        settings["R2MPU_MAX_PENDING_UPLOADS"] = "0"
    log = os.path.join(sandbox, "server-%s.log" % mode)
    todo = OPEN_CASES if open_access else CASES
    label = mode + (" open" if open_access else "")

    class E:
        pass
    env = E()
    env.cgi = mode == "cgi"
    env.store = store
    env.server = mode
    with contextlib.ExitStack() as stack:
        if mode == "cgi":
            # Open access: the Host a server passes for an HTTP/1.1 request to 127.0.0.1.
            client = CgiClient(BIN, dict(settings, HTTP_HOST="127.0.0.1") if open_access
                               else settings, memcheck.CGI_WRAPPER if valgrind else (),
                               logfile=log)
            client.name = mode
        else:
            procs = {"R2MPU_PROCS": "4"} if mode == "lighttpd" else {}
            if valgrind:
                vglogs = os.path.join(sandbox, "valgrind-" + mode)
                procs.update(memcheck.fcgi_settings(vglogs))
            client = stack.enter_context(servers.web_server(mode, dict(settings, **procs), log,
                                                            sandbox))
        _, failed, skipped = run_cases(todo, client, env, label)
    if valgrind and mode != "cgi":
        said = memcheck.reports(vglogs)   # the server has stopped
        if said:
            failed += 1
            print("FAIL valgrind [%s]:\n%s" % (label, said))
    reports = sanitizer_reports(log)
    if reports:
        failed += 1
        print("FAIL sanitizer reports [%s]:\n%s" % (label, "\n".join(reports)))
    failed += 0 if log_names_credentials_not_secrets(log, label, open_access) else 1
    print("%s: %d passed, %d failed, %d skipped" % (
        label, len(todo) - skipped - min(failed, len(todo)), failed, skipped))
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="cgi,lighttpd")
    ap.add_argument("--store", choices=("fs", "moto", "radosgw"), default="fs")
    ap.add_argument("--only")
    ap.add_argument("--valgrind", action="store_true",
                    help="r2mpu under valgrind memcheck (lib/memcheck.py)")
    args = ap.parse_args()
    if args.only:
        CASES[:] = [f for f in CASES if args.only in f.__name__]
        OPEN_CASES[:] = [f for f in OPEN_CASES if args.only in f.__name__]
    sandbox = tempfile.mkdtemp(prefix="r2mpu-access-")
    failed = 0
    try:
        failed += 0 if no_rules_refuses_to_start(sandbox) else 1
        failed += 0 if open_to_any_origin_refuses_to_start(sandbox) else 1
        with contextlib.ExitStack() as stack:
            s3 = {}
            if args.store != "fs":
                try:
                    s3 = stack.enter_context(servers.S3Server(args.store, sandbox))
                except servers.S3Server.Unavailable as e:
                    print("%s: skipped: %s" % (args.store, e))
                    return 0
            for mode in args.mode.split(","):
                if CASES:
                    failed += run_mode(mode, args.store, s3, sandbox, args.valgrind)
                if OPEN_CASES:
                    failed += run_mode(mode, args.store, s3, sandbox, args.valgrind, True)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
