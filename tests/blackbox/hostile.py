#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/hostile.py: hundreds of malformed or malicious requests.

    hostile.py [--mode cgi,lighttpd] [--only TEXT] [--list]

A table of hostile requests, grouped by family (methods, percent-encoding,
traversal, keys, query, headers, complete bodies, etags, CR/LF injection).
Each one is sent to r2mpu as plain CGI (the environment built by CgiClient,
so raw bytes reach r2mpu unfiltered) and through real lighttpd (HttpClient,
or a raw socket for bytes http.client will not send). For every request:

  - the status is a 4xx: never a 2xx, 3xx or 5xx;
  - when r2mpu answered, there is an X-R2mpu-Error header (with the code
    the table expects) and a non-empty text/plain message;
  - when lighttpd refused the request itself (its own text/html page, no
    X-R2mpu-Error), that is accepted: the request never reached r2mpu. Its
    501 for an unknown method is the one 5xx accepted, and only from lighttpd;
  - no injected header (X-Injected, Set-Cookie, ...) appears in the answer,
    and every header name is a token;
  - r2mpu did not crash: CGI exit status 0 and no sanitizer report on its
    stderr; behind lighttpd, no sanitizer report and no "child signalled" or
    "child exited" in the log, and no r2mpu process vanished.

Before the hostile requests, a few real uploads are made (their ids and
etags feed the table), and a few valid requests prove that echoed values
are escaped (the key in mpu-create's JSON, metadata served back by get).
After them:

  - the store holds exactly the files it held before (nothing created,
    changed or removed by a hostile request) and no temporary leftovers;
  - the sandbox around the store holds nothing but the store and a canary
    file, which is unchanged (r2mpu runs with the sandbox as its cwd);
  - the real upload still completes, and the object still reads back.

Set R2MPU_TEST_BIN to test another build (an ASan build, for instance).
"""

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from lib import BIN
from lib.api import MiB, md5, mp_etag, path
from lib.checks import SANITIZER_MARKS, leftovers, sanitizer_reports
from lib.clients import CgiClient, raw_exchange
from lib.servers import Lighttpd

MAX_PART = 16 * MiB
SETTINGS = {
    "R2MPU_MAX_PART_SIZE": "16M",
    # The gateway is about to require an access configuration: this one opens it.
    "R2MPU_OPEN_ACCESS": "yes",
}
# Headers r2mpu never sends: seeing one means a value split the header block.
FORBIDDEN_HEADERS = ("x-injected", "set-cookie", "location", "refresh", "x-spoof")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Statuses lighttpd answers itself when it refuses a request (it never reaches r2mpu).
SERVER_REFUSALS = (400, 411, 413, 414, 431)
INJECT = "%0D%0AX-Injected:%20yes"          # percent-encoded CR LF and a header
RAW_INJECT = "\r\nX-Injected: yes"            # the same, as raw bytes

BOTH = ("cgi", "lighttpd")
CGI = ("cgi",)
HTTP = ("lighttpd",)


def sb(b):
    """bytes -> str that round-trips through enc() (and the CGI environment)."""
    return b.decode("utf-8", "surrogateescape")


def enc(s):
    return s.encode("utf-8", "surrogateescape")


def q(s):
    return urllib.parse.quote(s, safe="")


class Req:
    """One hostile request: what to send, and what may come back."""

    def __init__(self, family, name, method, target, headers=(), body=None, cl=None,
                 env=None, settings=None, modes=BOTH, codes=None, http_codes=None, raw=None,
                 unknown_method=False, may_succeed=False):
        self.family = family
        self.name = name
        self.method = method
        self.target = target          # raw request-target (str; bytes via sb())
        self.headers = list(headers)  # [(name, value)], order kept, duplicates allowed
        self.body = body
        self.cl = cl                  # Content-Length override (see CgiClient.request)
        self.env = env                # CGI variables a server would set (CGI mode only)
        self.settings = settings or {}  # R2MPU_* for the CGI process, or for the server
        assert not env or modes == CGI, "CGI variables only reach r2mpu in CGI mode"
        self.modes = modes
        self.codes = codes            # acceptable X-R2mpu-Error codes (None: any)
        self.http_codes = http_codes  # the same behind lighttpd, when it differs
        self.raw = raw                # whole HTTP request bytes for the socket (lighttpd)
        self.unknown_method = unknown_method   # lighttpd may answer 501 itself
        # A valid request with a hostile value in it: a 2xx is right, a 5xx never.
        self.may_succeed = may_succeed

    @property
    def label(self):
        return "%s/%s" % (self.family, self.name)


# ---- sending ---------------------------------------------------------------------

def is_token(s):
    return bool(TOKEN.match(s))


def needs_raw(req):
    """True when http.client would refuse or rewrite the request."""
    if req.raw is not None or not is_token(req.method):
        return True
    if not req.target or any(not 0x21 <= ord(ch) <= 0x7e for ch in req.target):
        return True
    if isinstance(req.cl, str) and any(not 0x20 <= ord(ch) <= 0x7e for ch in req.cl):
        return True
    names = [n.lower() for n, _ in req.headers]
    if len(set(names)) != len(names):
        return True
    for n, v in req.headers:
        if not is_token(n) or any(not (0x20 <= ord(ch) <= 0x7e or ch == "\t") for ch in v):
            return True
    return False


def raw_request_bytes(req, port):
    if req.raw is not None:
        return req.raw
    lines = [enc(req.method) + b" " + enc(req.target) + b" HTTP/1.1",
             b"Host: 127.0.0.1:%d" % port]
    for n, v in req.headers:
        lines.append(enc(n) + b": " + enc(v))
    cl = req.cl
    if cl is None and req.body is not None:
        cl = len(req.body)
    if cl is not None and cl != "absent":
        lines.append(b"Content-Length: " + enc(str(cl)))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (req.body or b"")


class CgiMode:
    """r2mpu as plain CGI; its stderr goes to a file that is read after each request."""

    name = "cgi"

    def __init__(self, settings, errfile):
        self.errfile = errfile
        # What a server passes for an HTTP/1.1 request to 127.0.0.1: open
        # access refuses a request without a loopback Host.
        env = dict(settings, HTTP_HOST="127.0.0.1")
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        # CgiClient keeps stderr only when the exit status is not 0; the
        # wrapper keeps it always, so a sanitizer report is never missed.
        self.client = CgiClient(BIN, env, ["/bin/sh", "-c", 'exec "$@" 2>>"$0"', errfile])

    def send(self, req):
        open(self.errfile, "wb").close()
        try:
            r = self.client.request(req.method, req.target, headers=dict(req.headers),
                                    body=req.body, content_length=req.cl,
                                    env=dict(req.settings, **(req.env or {})))
            crash = None
        except AssertionError as e:      # CgiClient: non-zero exit, or no header end
            r, crash = None, str(e)[:300]
        err = open(self.errfile, "rb").read().decode("utf-8", "replace")
        problems = []
        if crash:
            problems.append("r2mpu failed: %s" % crash)
        reports = [line for line in err.splitlines() if any(m in line for m in SANITIZER_MARKS)]
        if reports:
            problems.append("sanitizer: %s" % " | ".join(reports[:3]))
        if problems and err.strip():
            problems.append("stderr: %s" % err.strip()[-600:])
        return r, problems


class LighttpdMode:
    """Real lighttpd from the shipped config; its log is read after each request."""

    name = "lighttpd"

    def __init__(self, server, client, logfile):
        self.server = server
        self.client = client
        self.logfile = logfile
        self.offset = os.path.getsize(logfile) if os.path.exists(logfile) else 0
        self.workers = set(server.r2mpu_pids())

    def new_log(self):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(self.offset)
                text = f.read()
        except FileNotFoundError:
            return ""
        self.offset += len(text)
        return text.decode("utf-8", "replace")

    def send(self, req):
        problems = []
        try:
            if needs_raw(req):
                r = raw_exchange(self.client.port, raw_request_bytes(req, self.client.port),
                                 req.method == "HEAD")
            else:
                r = self.client.request(req.method, req.target, headers=dict(req.headers),
                                        body=req.body, content_length=req.cl)
        except Exception as e:     # noqa: BLE001 -- a reset or timeout is a finding
            r = None
            problems.append("no answer: %s: %s" % (type(e).__name__, e))
        time.sleep(0.002)          # let a dying worker's report reach the log
        log = self.new_log()
        bad = [line for line in log.splitlines()
               if any(m in line for m in SANITIZER_MARKS + ("child signalled", "child exited"))]
        if bad:
            problems.append("server log: %s" % " | ".join(bad[:3]))
        now = set(self.server.r2mpu_pids())
        gone = self.workers - now
        if gone:
            problems.append("r2mpu process(es) %s vanished" % sorted(gone))
        self.workers = now
        return r, problems


# ---- judging ---------------------------------------------------------------------

def judge(req, r, mode):
    """Problems with one answer to a hostile request; [] when it is right.
    Returns (problems, how) with how = the r2mpu code or 'refused by lighttpd'."""
    problems = []
    code = r.header("x-r2mpu-error")
    for name in getattr(r, "header_names", r.headers.keys()):
        if not is_token(name):
            problems.append("header name %r is not a token (split header?)" % name)
        if name.lower() in FORBIDDEN_HEADERS:
            problems.append("injected header %s: %r" % (name, r.header(name)))
    if code is None and mode == "lighttpd" and r.header("content-type") == "text/html" and (
            r.status in SERVER_REFUSALS or (r.status == 501 and req.unknown_method)):
        return problems, "refused by lighttpd %d" % r.status
    if req.may_succeed and 200 <= r.status <= 299:
        return problems, "%d (valid, and answered)" % r.status
    if not 400 <= r.status <= 499:
        problems.append("status %d, expected a 4xx%s" % (r.status, " or a 2xx" if req.may_succeed else ""))
    if code is None:
        problems.append("no X-R2mpu-Error header (content-type %r, body %r)"
                        % (r.header("content-type"), r.body[:80]))
    else:
        ct = r.header("content-type") or ""
        if not ct.startswith("text/plain"):
            problems.append("error content-type %r, expected text/plain" % ct)
        if req.method == "HEAD":      # no body; its length still says there is a message
            if r.header("content-length") == "0":
                problems.append("HEAD error announces an empty message")
        elif not r.body.strip():
            problems.append("empty error message")
        if (r.header("x-content-type-options") or "").lower() != "nosniff":
            problems.append("error without X-Content-Type-Options: nosniff (it echoes input)")
        if r.status == 405 and not r.header("allow"):
            problems.append("405 without an Allow header")
        want = req.http_codes if (mode == "lighttpd" and req.http_codes) else req.codes
        if want and code not in want:
            problems.append("code %s (%r), expected %s" % (code, r.body[:100], "/".join(sorted(want))))
    return problems, "%d %s" % (r.status, code)


# ---- the world the table refers to -------------------------------------------------

class World:
    """Real uploads and an object, made before the hostile requests."""
    K = "hostile/real"
    K2 = "hostile/other"
    OBJ = "hostile/object"
    A = b"hostile part one"
    C = b"hostile part three"
    B = b"another upload's part"
    OBJ_BODY = b"hostile object body"
    # tab, NEL (U+0085) and LINE SEPARATOR (U+2028): legal in metadata, never a line end.
    DISPOSITION = b'attachment; filename="a\tb.txt"; note=\xc2\x85\xe2\x80\xa8end'
    OBJ_META = [("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Disposition", sb(DISPOSITION)),
                ("Cache-Control", "no-store")]
    # About 8000 bytes of metadata (R2 keeps 8192): what still fits through lighttpd.
    BIG = "hostile/big-metadata"
    BIG_META = [("Content-Disposition", 'attachment; filename="' + "d" * 3960 + '"'),
                ("Cache-Control", "private, " + "x" * 3991)]

    def __init__(self, sandbox, store):
        self.sandbox = sandbox
        self.store = store
        self.canary = os.path.join(sandbox, "canary.txt")
        self.e1, self.e3, self.e2 = md5(self.A), md5(self.C), md5(self.B)
        self.u = self.u2 = self.obj_etag = None


def send_ok(mode, req, status):
    r, problems = mode.send(req)
    if problems or r is None or r.status != status:
        raise AssertionError("setup %s: expected %d, got %r %s" % (req.label, status, r, problems))
    return r


def create(mode, key, headers=()):
    r = send_ok(mode, Req("setup", "create " + key, "POST", path(key) + "?action=mpu-create",
                          headers=headers, body=b""), 200)
    return r.json()["uploadId"]


def put_part(mode, key, uid, n, body):
    r = send_ok(mode, Req("setup", "part %s %d" % (key, n), "PUT",
                          "%s?action=mpu-uploadpart&uploadId=%s&partNumber=%d" % (path(key), uid, n),
                          body=body), 200)
    assert r.json() == {"partNumber": n, "etag": md5(body)}, r
    return r.json()


def complete(mode, key, uid, parts, status=200):
    return send_ok(mode, Req("setup", "complete " + key, "POST",
                             "%s?action=mpu-complete&uploadId=%s" % (path(key), uid),
                             body=json.dumps({"parts": parts}).encode()), status)


def setup_world(mode, w):
    w.u = create(mode, w.K)
    put_part(mode, w.K, w.u, 1, w.A)
    put_part(mode, w.K, w.u, 3, w.C)
    w.u2 = create(mode, w.K2)
    put_part(mode, w.K2, w.u2, 1, w.B)
    uo = create(mode, w.OBJ, w.OBJ_META)
    p = put_part(mode, w.OBJ, uo, 1, w.OBJ_BODY)
    w.obj_etag = mp_etag([w.OBJ_BODY])
    r = complete(mode, w.OBJ, uo, [p])
    assert r.header("etag") == '"%s"' % w.obj_etag, r.headers
    ub = create(mode, w.BIG, w.BIG_META)
    complete(mode, w.BIG, ub, [put_part(mode, w.BIG, ub, 1, w.OBJ_BODY)])


# ---- valid requests whose answers echo hostile values ---------------------------------

def echo_checks(mode, w):
    """(name, problems) for valid requests that echo a hostile value back."""
    results = []

    def headers_clean(r):
        out = []
        for name in getattr(r, "header_names", r.headers.keys()):
            if not is_token(name):
                out.append("header name %r is not a token" % name)
            if name.lower() in FORBIDDEN_HEADERS:
                out.append("injected header %s" % name)
        return out

    # The key in mpu-create's JSON answer: quotes, backslashes, </script>, U+2028.
    key = 'hostile/echo "},"uploadId":"0","x":"\\ </script>\u2028 \u00fc {"'
    r, problems = mode.send(Req("echo", "key-in-create-json", "POST",
                                path(key) + "?action=mpu-create", body=b""))
    if r is not None and not problems:
        problems += headers_clean(r)
        try:
            j = r.json()
            uid_ok = re.fullmatch(r"[0-9a-f]{32}", j.get("uploadId", ""))
            if r.status != 200 or j.get("key") != key or not uid_ok:
                problems.append("answer %r" % r)
            elif set(j) != {"key", "uploadId"}:
                problems.append("the key added JSON members: %r" % j)
            else:
                a, p2 = mode.send(Req("echo", "abort", "DELETE", "%s?action=mpu-abort&uploadId=%s"
                                      % (path(key), j["uploadId"])))
                if a is None or a.status != 204:
                    problems.append("abort: %r %s" % (a, p2))
        except ValueError:
            problems.append("answer is not JSON: %r" % r.body[:200])
    results.append(("key-in-create-json", problems))

    # Metadata with a tab, NEL and U+2028, served back by GET and HEAD on one line each.
    want = {"content-type": "text/plain; charset=utf-8",
            "content-disposition": w.DISPOSITION.replace(b"\t", b" ").decode("latin-1"),
            "cache-control": "no-store"}
    for method in ("GET", "HEAD"):
        r, problems = mode.send(Req("echo", "metadata-" + method, method, path(w.OBJ) + "?action=get"))
        if r is not None and not problems:
            problems += headers_clean(r)
            if r.status != 200:
                problems.append("status %d" % r.status)
            for name, value in want.items():
                if r.header(name) != value:
                    problems.append("%s: %r, expected %r" % (name, r.header(name), value))
            if method == "GET" and r.body != w.OBJ_BODY:
                problems.append("body %r" % r.body[:60])
        results.append(("metadata-served-by-" + method, problems))

    if mode.name == "lighttpd":
        # An obs-fold line: lighttpd joins it to the value (RFC 9112 5.2), so
        # r2mpu sees one line. Stored, then served back: still one header.
        raw = (b"POST /hostile/folded?action=mpu-create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Length: 0\r\nContent-Type: text/plain\r\n X-Injected: yes\r\n"
               b"Connection: close\r\n\r\n")
        r, problems = mode.send(Req("echo", "obs-fold", "POST", "/hostile/folded?action=mpu-create",
                                    raw=raw))
        if r is not None and not problems and r.status == 200:
            uid = r.json()["uploadId"]
            p = put_part(mode, "hostile/folded", uid, 1, b"folded")
            complete(mode, "hostile/folded", uid, [p])
            g, problems = mode.send(Req("echo", "obs-fold-get", "GET", "/hostile/folded?action=get"))
            if g is not None and not problems:
                problems += headers_clean(g)
                if "\r" in (g.header("content-type") or "") or "\n" in (g.header("content-type") or ""):
                    problems.append("content-type %r" % g.header("content-type"))
            send_ok(mode, Req("echo", "obs-fold-delete", "DELETE", "/hostile/folded?action=delete"), 204)
        elif r is not None and not problems and r.status >= 500:
            problems.append("status %d" % r.status)
        results.append(("obs-fold-metadata-served-back", problems))
    return results


# ---- the table -------------------------------------------------------------------------

def family_methods(w):
    fam, t, out = "methods", "/hostile/m?action=get", []
    # (OPTIONS is not here: it is a CORS preflight, or 204 with Allow; see family_cors.)
    for m in ("TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",
              "LOCK", "UNLOCK", "SEARCH", "PURGE", "LINK", "UNLINK", "REPORT", "ACL", "MERGE",
              "BREW", "QUERY"):
        out.append(Req(fam, "verb-" + m, m, t, codes={"MethodNotAllowed"}, unknown_method=True))
    # lighttpd turns CONNECT's target into an authority: no query reaches r2mpu.
    out.append(Req(fam, "verb-CONNECT", "CONNECT", t, codes={"MethodNotAllowed"},
                   http_codes={"MethodNotAllowed", "MissingAction"}, unknown_method=True))
    for m in ("get", "head", "put", "post", "delete", "Get", "gEt", "pOST", "DELETe"):
        out.append(Req(fam, "case-" + m, m, t, codes={"MethodNotAllowed"}, unknown_method=True))
    for name, m in (("overlong-1000", "A" * 1000), ("overlong-GETx400", "GET" * 400),
                    ("overlong-70000", "X" * 70000)):
        out.append(Req(fam, name, m, t, codes={"MethodNotAllowed"}, unknown_method=True))
    for name, m in (("ctl-G\\x01T", "G\x01T"), ("tab-GET\\tPUT", "GET\tPUT"), ("del-GET\\x7f", "GET\x7f"),
                    ("bytes-ff-fe", sb(b"\xff\xfe")), ("utf8-G\u00cbT", "G\u00cbT"),
                    ("crlf-header", "GET" + RAW_INJECT), ("empty", ""), ("leading-space", " GET"),
                    ("trailing-space", "GET "), ("dash", "-"), ("star", "*"), ("digit", "0"),
                    ("slashed", "GET/1.1"), ("protocol", "HTTP/1.1"), ("nul-inside", "GE\0T")):
        # Raw bytes in a method: CGI gets them in REQUEST_METHOD (NUL cannot
        # be in an environment); lighttpd refuses most of them itself.
        out.append(Req(fam, "garbage-" + name, m, t, codes={"MethodNotAllowed"},
                       modes=HTTP if "\0" in m else BOTH, unknown_method=True))
    for m, action in (("HEAD", "mpu-create"), ("GET", "mpu-abort"), ("GET", "delete"),
                      ("PUT", "get"), ("PUT", "mpu-complete"), ("POST", "delete"),
                      ("POST", "mpu-uploadpart"), ("DELETE", "get"), ("DELETE", "mpu-create"),
                      ("HEAD", "delete"), ("GET", "mpu-uploadpart"), ("HEAD", "mpu-complete")):
        body = b"" if m in ("PUT", "POST") else None
        out.append(Req(fam, "wrong-action-%s-%s" % (m, action), m, "/hostile/m?action=" + action,
                       body=body, codes={"UnknownAction"}))
    return out


def family_percent(w):
    fam, out = "percent", []
    get = "?action=get"
    # Bad escapes in the path: InvalidURI (lighttpd may refuse first).
    for name, p in (("zz", "/a%zz"), ("short-%2", "/a%2"), ("lone", "/a%"), ("only-%", "/%"),
                    ("double-%%", "/%%"), ("g0", "/%g0"), ("0g", "/%0g"), ("%%41", "/%%41"),
                    ("minus", "/%-1"), ("plus", "/%+1"), ("split-%2%30", "/%2%30"),
                    ("space-after", "/a%2 b")):
        out.append(Req(fam, "path-" + name, "GET", p + get, codes={"InvalidURI"},
                       http_codes={"InvalidURI", "InvalidKey", "NoSuchKey"}))
    for name, p in (("a%00b", "/a%00b"), ("%00", "/%00"), ("%00-traversal", "/%00/../canary.txt"),
                    ("ext-%00", "/a.txt%00.jpg")):
        out.append(Req(fam, "nul-" + name, "GET", p + get, codes={"InvalidKey"}))
        out.append(Req(fam, "nul-create-" + name, "POST", p + "?action=mpu-create", body=b"",
                       codes={"InvalidKey"}))
    for name, p in (("C0AE-dots", "/%C0%AE%C0%AE/canary.txt"), ("C0AF-slash", "/a%C0%AFb"),
                    ("E080AE", "/%E0%80%AE%E0%80%AE/x"), ("F08080AE", "/%F0%80%80%AE"),
                    ("C1BF", "/%C1%BF"), ("C080-nul", "/a%C0%80b"), ("E0809F", "/%E0%80%9F")):
        out.append(Req(fam, "overlong-utf8-" + name, "GET", p + get, codes={"InvalidKey"}))
    for name, p in (("FF", "/%FF"), ("FEFF", "/%FE%FF"), ("lone-continuation", "/%80"),
                    ("truncated-C3", "/a%C3"), ("truncated-E282", "/%E2%82"),
                    ("surrogate", "/%ED%A0%80"), ("above-10FFFF", "/%F4%90%80%80"),
                    ("5-byte", "/%F8%88%80%80%80"), ("C328", "/%C3%28"), ("F5", "/%F5%80%80%80")):
        out.append(Req(fam, "invalid-utf8-" + name, "GET", p + get, codes={"InvalidKey"}))
    out.append(Req(fam, "invalid-utf8-create", "POST", "/%FF%FE?action=mpu-create", body=b"",
                   codes={"InvalidKey"}))
    # Decoded exactly once: these are harmless keys that do not exist.
    for name, p in (("double-encoded-dots", "/%252e%252e/%252e%252e/canary.txt"),
                    ("double-encoded-percent", "/%25"), ("double-encoded-nul", "/%2500"),
                    ("double-encoded-zz", "/%25zz"), ("encoded-dots", "/%2e%2e/%2e%2e/canary.txt"),
                    ("encoded-dots-slashes", "/%2E%2E%2F%2E%2E%2Fcanary.txt"),
                    ("mixed-dots", "/.%2e/canary.txt"), ("slash-dotdot-slash", "/x%2F..%2F..%2Fcanary.txt"),
                    ("leading-encoded-slash", "/%2F%2E%2E%2Fcanary.txt"),
                    ("backslash-encoded", "/..%5C..%5Ccanary.txt")):
        out.append(Req(fam, name, "GET", p + get, codes={"NoSuchKey"}))
    # The query.
    for name, qs, codes, http in (
            ("action-zz", "action=g%zzet", {"InvalidURI"}, {"InvalidURI", "UnknownAction"}),
            ("action-trailing-%", "action=get%", {"InvalidURI"}, {"InvalidURI", "UnknownAction"}),
            ("action-only-%", "action=%", {"InvalidURI"}, {"InvalidURI", "UnknownAction"}),
            ("name-zz", "action%zz=get", {"InvalidURI"}, {"InvalidURI", "MissingAction"}),
            ("action-nul", "action=get%00", {"InvalidArgument"}, None),
            ("action-leading-nul", "action=%00get", {"InvalidArgument"}, None),
            ("action-overlong-utf8", "action=%C0%E7et", {"UnknownAction"}, None),
            ("action-double-encoded", "action=%2567et", {"UnknownAction"}, None),
            ("action-plus", "action=ge+t", {"UnknownAction"}, None),
            ("action-encoded-name", "%61ction=get", {"NoSuchKey"}, None),
            ("action-encoded-value", "action=%67%65%74", {"NoSuchKey"}, None)):
        out.append(Req(fam, "query-" + name, "GET", "/hostile/pq?" + qs, codes=codes, http_codes=http))
    part = "/hostile/real?action=mpu-uploadpart"
    for name, qs, codes, http in (
            ("uploadId-zz", "&uploadId=%zz&partNumber=1", {"InvalidURI"}, {"InvalidURI", "NoSuchUpload"}),
            ("partNumber-short", "&uploadId=%s&partNumber=%%2" % w.u, {"InvalidURI"},
             {"InvalidURI", "InvalidArgument"}),
            ("uploadId-overlong-utf8", "&uploadId=%C0%AE%C0%AE&partNumber=1", {"NoSuchUpload"}, None),
            ("uploadId-double-encoded", "&uploadId=%s%%2500&partNumber=1" % w.u, {"NoSuchUpload"}, None)):
        out.append(Req(fam, "query-" + name, "PUT", part + qs, body=b"x", codes=codes, http_codes=http))
    return out


def family_traversal(w):
    fam, out = "traversal", []
    sandbox_abs = w.sandbox.lstrip("/")
    obj_hash = hashlib.sha256(w.OBJ.encode()).hexdigest()
    keys = ["..", "../", "../canary.txt", "../../canary.txt", "./../canary.txt",
            "a/../../canary.txt", "..\\canary.txt", "..\\..\\canary.txt", "....//....//canary.txt",
            ".", "...", "./.", "tmp", "uploads", "objects", "uploads/.sweep",
            "uploads/%s/meta" % w.u, "uploads/%s/part.00001" % w.u, "tmp/../uploads/%s/meta" % w.u,
            "../store/uploads/%s/meta" % w.u, "objects/%s/%s" % (obj_hash[:2], obj_hash),
            "/" + sandbox_abs + "/canary.txt", "/etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa",
            "C:\\Windows\\win.ini", "\\\\server\\share\\x", "file:///etc/passwd"]
    for k in keys:
        out.append(Req(fam, "get-" + k, "GET", path(k) + "?action=get", codes={"NoSuchKey"}))
    for k in ("../canary.txt", "uploads/%s/meta" % w.u, "/etc/passwd"):
        out.append(Req(fam, "head-" + k, "HEAD", path(k) + "?action=get", codes={"NoSuchKey"}))
    ids = ["../../canary.txt", "..", "../uploads/" + w.u, w.u + "/../" + w.u, w.u + "/..",
           "./" + w.u, w.store + "/uploads/" + w.u, w.u + "/meta", "../../" + sandbox_abs,
           "....//" + w.u]
    for uid in ids:
        out.append(Req(fam, "part-uploadId-" + uid, "PUT",
                       "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=1" % q(uid),
                       body=b"x", codes={"NoSuchUpload"}))
    body = json.dumps({"parts": [{"partNumber": 1, "etag": w.e1}]}).encode()
    for uid in ids[:6]:
        out.append(Req(fam, "complete-uploadId-" + uid, "POST",
                       "/hostile/real?action=mpu-complete&uploadId=%s" % q(uid),
                       body=body, codes={"NoSuchUpload"}))
        out.append(Req(fam, "abort-uploadId-" + uid, "DELETE",
                       "/hostile/real?action=mpu-abort&uploadId=%s" % q(uid), codes={"NoSuchUpload"}))
    # The real upload id under another spelling of its key: keys are never normalized.
    for k in ("../hostile/real", "hostile/./real", "hostile//real", "hostile/real/", "/hostile/real",
              "hostile/real/.", "Hostile/real"):
        out.append(Req(fam, "part-key-" + k, "PUT", "%s?action=mpu-uploadpart&uploadId=%s&partNumber=1"
                       % (path(k), w.u), body=b"x", codes={"NoSuchUpload"}))
    out.append(Req(fam, "unencoded-dotdot-target", "GET", "/a/../../canary.txt?action=get",
                   codes={"NoSuchKey"}))
    out.append(Req(fam, "absolute-form-target", "GET", "http://127.0.0.1/../canary.txt?action=get",
                   codes={"NoSuchKey"}))
    # CGI variables a misconfigured server might hand over.
    for name, env in (
            ("path-info-only", {"REQUEST_URI": "", "PATH_INFO": "/../../canary.txt"}),
            ("script-name-prefix", {"SCRIPT_NAME": "/hostile", "PATH_INFO": "/../canary.txt",
                                    "REQUEST_URI": "/hostile/../canary.txt?action=get"}),
            ("script-name-longer", {"SCRIPT_NAME": "/hostile/m/very/long/script",
                                    "PATH_INFO": "/../canary.txt"}),
            ("path-info-absolute", {"REQUEST_URI": "", "PATH_INFO": w.canary})):
        out.append(Req(fam, "cgi-env-" + name, "GET", "/hostile/m?action=get", env=env, modes=CGI,
                       codes={"NoSuchKey"}))
    # Below a mount point (R2MPU_MOUNT): only paths
    # under it are keys, matched on the raw path, never after decoding.
    mount = {"R2MPU_MOUNT": "/files"}
    for name, target, codes in (("prefix-of-a-longer-name", "/filesystem/x?action=get", {"NotUnderMount"}),
                                ("shorter-than-mount", "/file?action=get", {"NotUnderMount"}),
                                ("encoded-mount", "/%66iles/x?action=get", {"NotUnderMount"}),
                                ("dotdot-out-of-mount", "/x/../files/x?action=get", {"NotUnderMount"}),
                                ("mount-only", "/files?action=get", {"InvalidKey"}),
                                ("dotdot-below-mount", "/files/../canary.txt?action=get", {"NoSuchKey"})):
        out.append(Req(fam, "mount-" + name, "GET", target, settings=mount, codes=codes))
    return out


def family_keys(w):
    fam, out = "keys", []
    for m, action in (("GET", "get"), ("POST", "mpu-create"), ("DELETE", "delete"), ("HEAD", "get")):
        out.append(Req(fam, "empty-" + action + "-" + m, m, "/?action=" + action,
                       body=b"" if m == "POST" else None, codes={"InvalidKey"}))
    out.append(Req(fam, "empty-request-uri", "GET", "/?action=get",
                   env={"REQUEST_URI": "", "PATH_INFO": ""}, modes=CGI, codes={"InvalidKey"}))
    out.append(Req(fam, "no-leading-slash-empty", "GET", "?action=get", codes={"InvalidKey"}))
    too_long = {"KeyTooLongError"}
    out.append(Req(fam, "1025-get", "GET", "/" + "k" * 1025 + "?action=get", codes=too_long))
    out.append(Req(fam, "1025-create", "POST", "/" + "k" * 1025 + "?action=mpu-create", body=b"",
                   codes=too_long))
    out.append(Req(fam, "1025-delete", "DELETE", "/" + "k" * 1025 + "?action=delete", codes=too_long))
    out.append(Req(fam, "1025-part", "PUT", "/" + "k" * 1025 + "?action=mpu-uploadpart&uploadId=%s"
                   "&partNumber=1" % w.u, body=b"x", codes=too_long))
    out.append(Req(fam, "2000-create", "POST", "/" + "k" * 2000 + "?action=mpu-create", body=b"",
                   codes=too_long))
    out.append(Req(fam, "1026-bytes-of-e-acute", "POST", path("\u00e9" * 513) + "?action=mpu-create",
                   body=b"", codes=too_long))
    out.append(Req(fam, "1025-percent-encoded", "POST", "/" + "%41" * 1025 + "?action=mpu-create",
                   body=b"", codes=too_long))
    out.append(Req(fam, "64KiB-uri", "GET", "/" + "k" * 65536 + "?action=get", codes=too_long))
    out.append(Req(fam, "64KiB-uri-encoded", "GET", "/" + "%C3%A9" * 10900 + "?action=get",
                   codes=too_long))
    out.append(Req(fam, "1024-then-control", "GET", "/" + "k" * 1023 + "%01?action=get",
                   codes={"InvalidKey"}))
    for c in (0x01, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B, 0x1F, 0x7F):
        out.append(Req(fam, "control-%02X" % c, "GET", "/ctl/a%%%02Xb?action=get" % c,
                       codes={"InvalidKey"}))
    for c1 in ("%C2%80", "%C2%85", "%C2%9B", "%C2%9F"):
        out.append(Req(fam, "c1-" + c1.replace("%", ""), "GET", "/ctl/a%sb?action=get" % c1,
                       codes={"InvalidKey"}))
    for c in ("%09", "%1B%5B2J", "%C2%9B"):
        out.append(Req(fam, "control-create-" + c.replace("%", ""), "POST",
                       "/ctl/a%sb?action=mpu-create" % c, body=b"", codes={"InvalidKey"}))
    # Unencoded control bytes in the request-target (CGI: as a server might pass them).
    for name, raw in (("raw-01", "/ctl/a\x01b"), ("raw-tab", "/ctl/a\tb"), ("raw-esc", "/ctl/\x1b[31mred"),
                      ("raw-del", "/ctl/a\x7fb"), ("raw-ff", "/ctl/" + sb(b"\xff"))):
        out.append(Req(fam, name, "GET", raw + "?action=get", codes={"InvalidKey"}))
    return out


def family_query(w):
    fam, out = "query", []
    missing = {"MissingAction"}
    for m, t, body in (("GET", "/hostile/q", None), ("HEAD", "/hostile/q", None),
                       ("PUT", "/hostile/q", b"x"), ("POST", "/hostile/q", b"{}"),
                       ("DELETE", "/hostile/q", None)):
        out.append(Req(fam, "no-action-" + m, m, t, body=body, codes=missing))
    for name, qs in (("empty-query", ""), ("ampersands", "&&&"), ("bare-equals", "="),
                     ("nameless-get", "=get"), ("ACTION", "ACTION=get"), ("Action", "Action=get"),
                     ("name-trailing-space", "action%20=get"), ("name-leading-space", "%20action=get"),
                     ("actions", "actions=get"), ("action-semicolon", "x=1;action=get")):
        out.append(Req(fam, "missing-" + name, "GET", "/hostile/q?" + qs, codes=missing))
    dup = {"InvalidArgument"}
    for name, qs in (("action-same", "action=get&action=get"), ("action-other", "action=get&action=delete"),
                     ("action-empty-second", "action=get&action"),
                     ("action-empty-first", "action&action=get"),
                     ("action-encoded-name", "action=get&%61ction=get")):
        out.append(Req(fam, "duplicate-" + name, "GET", "/hostile/q?" + qs, codes=dup))
    out.append(Req(fam, "duplicate-uploadId", "PUT", "/hostile/real?action=mpu-uploadpart&uploadId=%s"
                   "&partNumber=1&uploadId=%s" % (w.u, w.u), body=b"x", codes=dup))
    out.append(Req(fam, "duplicate-partNumber", "PUT", "/hostile/real?action=mpu-uploadpart&uploadId=%s"
                   "&partNumber=1&partNumber=1" % w.u, body=b"x", codes=dup))
    for a in ("bogus", "GET", "mpu-create%20", "mpu_create", "mpu-uploadPart", "MPU-CREATE",
              "get;delete", "get,delete", "*", "..%2Fget", "", "%20get", "get%09"):
        out.append(Req(fam, "unknown-action-" + (a or "empty"), "GET", "/hostile/q?action=" + a,
                       codes={"UnknownAction"}))
    out.append(Req(fam, "action-nul-only", "GET", "/hostile/q?action=%00", codes={"InvalidArgument"}))
    many = "&".join("p%d=%d" % (i, i) for i in range(10000))
    out.append(Req(fam, "10000-params-then-action", "GET", "/hostile/q?" + many + "&action=bogus",
                   codes={"UnknownAction"}))
    out.append(Req(fam, "10000-params-no-action", "GET", "/hostile/q?" + many, codes=missing))
    out.append(Req(fam, "10000-empty-params", "GET", "/hostile/q?" + "&" * 10000 + "action=bogus",
                   codes={"UnknownAction"}))
    some = "&".join("p%d=1" % i for i in range(800))
    out.append(Req(fam, "800-params-then-action", "GET", "/hostile/q?" + some + "&action=bogus",
                   codes={"UnknownAction"}))
    out.append(Req(fam, "10000-actions", "GET", "/hostile/q?" + "&".join(["action=get"] * 10000),
                   codes=dup))
    out.append(Req(fam, "action-1025", "GET", "/hostile/q?action=" + "a" * 1025, codes=dup))
    out.append(Req(fam, "action-5000", "GET", "/hostile/q?action=" + "a" * 5000, codes=dup))
    part = "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=%s"
    out.append(Req(fam, "uploadId-1025", "PUT", part % ("0" * 1025, "1"), body=b"x", codes=dup))
    out.append(Req(fam, "uploadId-1024", "PUT", part % ("0" * 1024, "1"), body=b"x",
                   codes={"NoSuchUpload"}))
    out.append(Req(fam, "uploadId-3000-encoded", "PUT", part % ("%41" * 3000, "1"), body=b"x", codes=dup))
    out.append(Req(fam, "partNumber-1025-digits", "PUT", part % (w.u, "1" * 1025), body=b"x", codes=dup))
    out.append(Req(fam, "partNumber-1024-digits", "PUT", part % (w.u, "1" * 1024), body=b"x",
                   codes={"InvalidArgument"}))
    no_upload = {"NoSuchUpload"}
    for name, uid in (("empty", ""), ("crlf", w.u + "%0D%0A"), ("trailing-space", w.u + "%20"),
                      ("leading-space", "%20" + w.u), ("plus", "+" + w.u), ("uppercase", w.u.upper()),
                      ("31-chars", w.u[:31]), ("33-chars", w.u + "0"), ("0x-prefix", "0x" + w.u[:30]),
                      ("minus-one", "-1"), ("huge-number", "9" * 40), ("star", "*"), ("encoded-star", "%2A"),
                      ("slash", "%2F"), ("dotdot", ".."), ("other-upload", w.u2),
                      ("unicode-digits", "%EF%BC%90" * 32), ("semicolon", w.u + ";x"),
                      ("tab", w.u + "%09")):
        out.append(Req(fam, "uploadId-" + name, "PUT", part % (uid, "1"), body=b"x", codes=no_upload))
    out.append(Req(fam, "uploadId-nul-inside", "PUT", part % (w.u[:16] + "%00" + w.u[16:], "1"),
                   body=b"x", codes=dup))
    bad_pn = {"InvalidArgument"}
    for name, pn in (("0", "0"), ("-1", "-1"), ("10001", "10001"), ("1e3", "1e3"), ("0x10", "0x10"),
                     ("encoded-space-1", "%201"), ("1-encoded-space", "1%20"), ("plus-as-space", "+1"),
                     ("encoded-plus", "%2B1"), ("20-nines", "9" * 20), ("empty", ""), ("00000", "00000"),
                     ("010001", "010001"), ("1.0", "1.0"), ("1.5", "1.5"), ("arabic-one", "%D9%A1"),
                     ("fullwidth-one", "%EF%BC%91"), ("list", "1,2"), ("2^32+1", "4294967297"),
                     ("2^64+1", "18446744073709551617"), ("-0", "-0"), ("0x1", "0x1"), ("NaN", "NaN"),
                     ("Infinity", "Infinity"), ("1e0", "1e0"), ("tab", "%09"), ("1-LF", "1%0A"),
                     ("1-slash", "1/"), ("dot-slash-1", ".%2F1"), ("roman", "I"), ("word", "one"),
                     ("underscore", "1_0"), ("superscript", "%C2%B9"), ("1-nul", "1%00"),
                     ("nul-1", "%001")):
        codes = dup if "%00" in pn else bad_pn
        out.append(Req(fam, "partNumber-" + name, "PUT", part % (w.u, pn), body=b"x", codes=codes))
    for name, raw_pn in (("raw-space-before", " 1"), ("raw-space-after", "1 ")):
        # A literal space: CGI takes it as is; over HTTP it breaks the request line.
        out.append(Req(fam, "partNumber-" + name, "PUT", part % (w.u, raw_pn), body=b"x", codes=bad_pn))
    mp = {"MissingParameter"}
    for name, qs in (("only-uploadId", "&uploadId=%s" % w.u), ("only-partNumber", "&partNumber=1"),
                     ("neither", "")):
        out.append(Req(fam, "part-missing-" + name, "PUT", "/hostile/real?action=mpu-uploadpart" + qs,
                       body=b"x", codes=mp))
    out.append(Req(fam, "complete-missing-uploadId", "POST", "/hostile/real?action=mpu-complete",
                   body=b'{"parts":[]}', codes=mp))
    out.append(Req(fam, "abort-missing-uploadId", "DELETE", "/hostile/real?action=mpu-abort", codes=mp))
    return out


def family_headers(w):
    fam, out = "headers", []
    missing = "/hostile/absent?action=get"
    obj = path(w.OBJ) + "?action=get"
    part = "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=1" % w.u
    cpl = "/hostile/real?action=mpu-complete&uploadId=%s" % w.u
    nokey = {"NoSuchKey"}
    out.append(Req(fam, "overlong-x-header-9000", "GET", missing, [("X-Big", "a" * 9000)], codes=nokey))
    out.append(Req(fam, "overlong-x-header-100000", "GET", missing, [("X-Big", "a" * 100000)], codes=nokey))
    out.append(Req(fam, "overlong-cookie", "GET", missing, [("Cookie", "c=" + "x" * 50000)], codes=nokey))
    out.append(Req(fam, "200-headers", "GET", missing,
                   [("X-H%d" % i, "v" * 30) for i in range(200)], codes=nokey))
    out.append(Req(fam, "overlong-range-missing-key", "GET", missing, [("Range", "bytes=" + "9" * 9000)],
                   codes=nokey))
    bad_cl = {"InvalidContentLength"}
    for name, cl in (("negative", "-1"), ("minus-zero", "-0"), ("plus", "+1"), ("exponent", "1e3"),
                     ("hex", "0x10"), ("letters", "abc"), ("decimal", "1.0"), ("20-nines", "9" * 20),
                     ("2^64", "18446744073709551616"), ("2^63", "9223372036854775808"),
                     ("list", "1,1"), ("list-space", "1, 1"), ("arabic-digit", "\u0661"),
                     ("fraction", "\u00bd")):
        out.append(Req(fam, "content-length-" + name, "PUT", part, body=b"x", cl=cl, codes=bad_cl))
    # Whitespace around a length: a web server trims it, so it is CGI's alone.
    for name, cl in (("leading-space", " 1"), ("trailing-space", "1 "), ("tab", "\t1"),
                     ("crlf", "1" + RAW_INJECT)):
        out.append(Req(fam, "content-length-" + name, "PUT", part, body=b"x", cl=cl, modes=CGI,
                       codes=bad_cl))
    out.append(Req(fam, "content-length-negative-on-get", "GET", missing, body=b"", cl="-5", codes=bad_cl))
    out.append(Req(fam, "content-length-negative-on-complete", "POST", cpl, body=b"{}", cl="-1",
                   codes=bad_cl))
    out.append(Req(fam, "content-length-int64-max", "PUT", part, cl="9223372036854775807",
                   codes={"EntityTooLarge"}))
    out.append(Req(fam, "content-length-over-max-part", "PUT", part, cl=str(MAX_PART + 1),
                   codes={"EntityTooLarge"}))
    out.append(Req(fam, "content-length-2^40", "PUT", part, cl=str(1 << 40), codes={"EntityTooLarge"}))
    out.append(Req(fam, "content-length-5GiB+1", "PUT", part, cl=str((5 << 30) + 1),
                   codes={"EntityTooLarge"}))
    out.append(Req(fam, "content-length-zero-part", "PUT", part, body=b"", cl=0, codes={"MissingBody"}))
    out.append(Req(fam, "content-length-absent-part", "PUT", part, body=b"x", cl="absent", modes=CGI,
                   codes={"MissingContentLength"}))
    out.append(Req(fam, "content-length-absent-complete", "POST", cpl, body=b"{}", cl="absent",
                   modes=CGI, codes={"MissingContentLength"}))
    out.append(Req(fam, "content-length-empty-part", "PUT", part, body=b"x", cl="", modes=CGI,
                   codes={"MissingContentLength"}))
    out.append(Req(fam, "body-shorter-than-length-part", "PUT", part, body=b"x" * 1000, cl=5000,
                   modes=CGI, codes={"IncompleteBody"}))
    out.append(Req(fam, "body-shorter-than-length-complete", "POST", cpl, body=b'{"parts":[', cl=100,
                   modes=CGI, codes={"IncompleteBody"}))
    out.append(Req(fam, "body-longer-than-length-complete", "POST", cpl,
                   body=b'{"parts":[{"partNumber":1,"etag":"%s"}]}' % w.e1.encode(), cl=12,
                   modes=CGI, codes={"MalformedJSON"}))
    host = b"Host: 127.0.0.1\r\n"
    raw_part = b"PUT " + part.encode() + b" HTTP/1.1\r\n" + host
    for name, extra in (("duplicate-content-length-same", b"Content-Length: 1\r\nContent-Length: 1\r\n"),
                        ("duplicate-content-length-differ", b"Content-Length: 1\r\nContent-Length: 2\r\n"),
                        ("chunked-and-content-length",
                         b"Transfer-Encoding: chunked\r\nContent-Length: 1\r\n"),
                        ("content-length-bare-cr", b"Content-Length: 1\rX-Injected: yes\r\n"),
                        ("content-length-nul", b"Content-Length: 1\x00\r\n")):
        out.append(Req(fam, "raw-" + name, "PUT", part, modes=HTTP,
                       raw=raw_part + extra + b"Connection: close\r\n\r\nx"))
    # If-Match that cannot match (strong comparison, whole list well-formed): 412.
    e = w.obj_etag
    for name, v in (("lone-quote", '"'), ("unterminated", '"' + e), ("W-slash-only", "W/"),
                    ("commas", ",,,,"), ("star-and-tag", '*, "x"'), ("5000-quotes", '"' * 5000),
                    ("weak-of-the-etag", 'W/"%s"' % e), ("bare-etag", e), ("uppercase", '"%s"' % e.upper()),
                    ("etag-then-garbage", '"%s" garbage' % e), ("etag-glued", '"%s"x' % e),
                    ("empty-tag", '""'), ("20000-tags", '"x",' * 5000 + '"y"'),
                    ("etag-of-part", '"%s"' % w.e1), ("utf8-quotes", "\u201c%s\u201d" % e)):
        out.append(Req(fam, "if-match-" + name, "GET", obj, [("If-Match", v)]))
    out.append(Req(fam, "if-match-crlf", "GET", obj, [("If-Match", '"x"' + RAW_INJECT)]))
    out.append(Req(fam, "if-match-head", "HEAD", obj, [("If-Match", '"nope"')]))
    out.append(Req(fam, "if-match-with-if-none-match-garbage", "GET", obj,
                   [("If-Match", '"nope"'), ("If-None-Match", "\x01" * 10)]))
    out.append(Req(fam, "if-match-with-range-garbage", "GET", obj,
                   [("If-Match", '"nope"'), ("Range", "bytes=--1,a-b,99999999999999999999999-")]))
    out.append(Req(fam, "if-match-with-if-range-garbage", "GET", obj,
                   [("If-Match", '"nope"'), ("Range", "bytes=0-0"), ("If-Range", "W/\"" + "x" * 3000)]))
    # Ranges that cannot be satisfied, numbers at and past 2^64: 416.
    for name, v in (("2^64-1-open", "bytes=18446744073709551615-"),
                    ("2^64-2-to-2^64-1", "bytes=18446744073709551614-18446744073709551615"),
                    ("past-end", "bytes=1000000-"), ("suffix-zero", "bytes=-0"),
                    ("past-end-closed", "bytes=99999-99999"), ("ows-past-end", "bytes= 100000-")):
        out.append(Req(fam, "range-" + name, "GET", obj, [("Range", v)]))
    for name, v in (("nul-ish", "bytes=\x01-\x02"), ("huge-number", "bytes=" + "9" * 100 + "-"),
                    ("many-ranges", "bytes=" + "0-0," * 2000 + "0-0"), ("negative", "bytes=-1-2"),
                    ("crlf", "bytes=0-1" + RAW_INJECT)):
        out.append(Req(fam, "range-garbage-missing-key-" + name, "GET", missing, [("Range", v)],
                       codes=nokey))
    bad_meta = {"InvalidArgument"}
    too_big = {"MetadataTooLarge"}
    out.append(Req(fam, "metadata-cache-control-9000", "POST", "/hostile/meta?action=mpu-create",
                   [("Cache-Control", "x" * 9000)], body=b"", codes=too_big))
    out.append(Req(fam, "metadata-disposition-8193", "POST", "/hostile/meta?action=mpu-create",
                   [("Content-Disposition", "x" * 8193)], body=b"", codes=too_big))
    out.append(Req(fam, "metadata-six-headers-8400", "POST", "/hostile/meta?action=mpu-create",
                   [(n, "v" * 1400) for n in ("Content-Type", "Content-Disposition", "Content-Encoding",
                                              "Content-Language", "Cache-Control", "Expires")],
                   body=b"", codes=too_big))
    for name, v in (("01", "a\x01b"), ("esc", "\x1b[2J"), ("del", "a\x7fb"), ("bare-lf", "a\nb"),
                    ("bare-cr", "a\rb"), ("vt", "a\x0bb")):
        out.append(Req(fam, "metadata-control-" + name, "POST", "/hostile/meta?action=mpu-create",
                       [("Content-Type", v)], body=b"", codes=bad_meta))
    return out


def complete_bodies(w):
    """(name, body, codes) for the complete of the real upload: none may succeed."""
    e1, e3 = w.e1, w.e3
    mj, ia, ip = {"MalformedJSON"}, {"InvalidArgument"}, {"InvalidPart"}
    shape = mj | ia | ip | {"MissingBody", "InvalidPartOrder"}

    def parts(*items):
        return json.dumps({"parts": list(items)}).encode()

    def p(n, e):
        return {"partNumber": n, "etag": e}

    def num(text):      # a partNumber written as given, with the right etag
        return b'{"parts":[{"partNumber":%s,"etag":"%s"}]}' % (text, e1.encode())

    # A lenient parser must not turn these into a valid list: where a
    # well-formed document is inside, its one part has a wrong etag (never
    # {"parts":[]}, which would complete the upload).
    wrong = b'{"parts":[{"partNumber":1,"etag":"0000"}]}'
    rows = [
        ("not-json-x", b"x", mj), ("not-json-brace", b"{", mj), ("close-brace", b"}", mj),
        ("nul", b"nul", mj), ("null", b"null", mj), ("true", b"true", mj), ("array", b"[]", mj),
        ("string", b'"parts"', mj), ("key-only", b'{"parts"}', mj),
        ("single-quotes", wrong.replace(b'"', b"'"), mj),
        ("unquoted-keys", b'{parts:[{partNumber:1,etag:"0"}]}', mj),
        ("bom", b"\xef\xbb\xbf" + wrong, mj), ("trailing-comma", wrong[:-1] + b",}", mj),
        ("trailing-data", wrong + b" x", mj), ("trailing-nul", wrong + b"\x00", mj),
        ("leading-nul", b"\x00" + wrong, mj), ("comment-before", b"/*c*/" + wrong, mj),
        ("comment-after", wrong + b"//c", mj), ("two-objects", wrong + wrong, mj),
        ("nan", b'{"parts":NaN}', mj), ("utf16", wrong.decode().encode("utf-16"), mj),
        ("invalid-utf8", b'{"parts":[{"partNumber":1,"etag":"\xff"}]}', shape),
        ("nul-in-key", b'{"par\x00ts":[]}', mj),
        ("control-in-string", b'{"parts":[{"partNumber":1,"etag":"a\x01b"}]}', shape),
        # JSON bombs.
        ("100k-open-arrays", b"[" * 100000, mj),
        ("100k-nested-arrays", b"[" * 100000 + b"]" * 100000, mj),
        ("100k-nested-objects", b'{"a":' * 100000 + b"1" + b"}" * 100000, mj),
        ("deep-inside-parts", b'{"parts":' + b"[" * 50000 + b"]" * 50000 + b"}", mj),
        ("500k-digit-number", b"1" * 500000, mj),
        ("huge-exponent", num(b"1e999999"), mj), ("partNumber-20-nines", num(b"9" * 20), shape),
        ("partNumber-int64-min-1", num(b"-9223372036854775809"), shape),
        ("partNumber-uint64-max", num(b"18446744073709551615"), ia),
        ("partNumber-int64-min", num(b"-9223372036854775808"), ia),
        ("partNumber-1.0", num(b"1.0"), mj), ("partNumber-minus-zero", num(b"-0"), ia),
        ("partNumber-leading-zero", num(b"01"), mj), ("partNumber-hex", num(b"0x1"), mj),
        ("partNumber-plus", num(b"+1"), mj), ("partNumber-infinity", num(b"Infinity"), mj),
        ("1MiB-of-spaces-plus-1", b" " * (MiB + 1), {"EntityTooLarge"}),
        ("1MiB-of-brackets", b"[" * MiB, mj),
        ("1MiB-json-padded", b'{"parts":[' + b" " * (MiB - 20) + b"]]}", mj),
        ("2MiB", wrong[:-1] + b', "pad":"' + b"x" * (2 * MiB) + b'"}', {"EntityTooLarge"}),
        ("100k-string-escapes", b'{"parts":[{"partNumber":1,"etag":"' + b"\\u0041" * 100000 + b'"}]}',
         ip),
        # Strings with NUL, wrong types, missing fields.
        ("etag-escaped-nul", parts(p(1, e1 + "\u0000")), ip), ("etag-nul-only", parts(p(1, "\u0000")), ip),
        ("etag-lone-surrogate", b'{"parts":[{"partNumber":1,"etag":"\\ud800"}]}', shape),
        ("parts-object", b'{"parts":{}}', mj), ("parts-string", b'{"parts":"1"}', mj),
        ("parts-number", b'{"parts":1}', mj), ("parts-null", b'{"parts":null}', mj),
        ("parts-true", b'{"parts":true}', mj), ("part-array", b'{"parts":[[1,"x"]]}', mj),
        ("part-string", b'{"parts":["1"]}', mj), ("part-number", b'{"parts":[1]}', mj),
        ("part-null", b'{"parts":[null]}', mj), ("partNumber-string", parts(p("1", e1)), mj),
        ("partNumber-true", parts(p(True, e1)), mj), ("partNumber-null", parts(p(None, e1)), mj),
        ("partNumber-array", parts(p([1], e1)), mj), ("partNumber-object", parts(p({}, e1)), mj),
        ("etag-number", parts(p(1, 7)), mj), ("etag-null", parts(p(1, None)), mj),
        ("etag-array", parts(p(1, [e1])), mj), ("etag-object", parts(p(1, {"e": e1})), mj),
        ("etag-empty", parts(p(1, "")), ip), ("etag-1000", parts(p(1, "a" * 1000)), ip),
        ("empty-object", b"{}", mj), ("part-empty-object", b'{"parts":[{}]}', mj),
        ("part-no-etag", parts({"partNumber": 1}), mj), ("part-no-partNumber", parts({"etag": e1}), mj),
        ("Parts-capital", b'{"Parts":[{"partNumber":1,"etag":"%s"}]}' % e1.encode(), mj),
        ("parts-trailing-space-key", b'{"parts ":[{"partNumber":1,"etag":"%s"}]}' % e1.encode(), mj),
        ("PartNumber-capital", b'{"parts":[{"PartNumber":1,"etag":"%s"}]}' % e1.encode(), mj),
        ("ETag-capital", b'{"parts":[{"partNumber":1,"ETag":"%s"}]}' % e1.encode(), mj),
        ("duplicate-parts-both-bad", b'{"parts":{},"parts":"x"}', mj),
        ("duplicate-partNumber-field-bad-etag",
         b'{"parts":[{"partNumber":1,"partNumber":1,"etag":"bad"}]}', ip),
        ("partNumber-0", parts(p(0, e1)), ia), ("partNumber-10001", parts(p(10001, e1)), ia),
        ("partNumber-negative", parts(p(-1, e1)), ia),
        ("10001-parts", parts(*[p(i, "x") for i in range(1, 10002)]), ia),
        ("100k-numbers", b'{"parts":[' + b",".join([b"1"] * 100000) + b"]}", ia | mj),
        ("10000-parts-wrong-etags", parts(*[p(i, "x") for i in range(1, 10001)]), ip),
        ("repeated-part", parts(p(1, e1), p(1, e1)), {"InvalidPartOrder"}),
        ("descending", parts(p(3, e3), p(1, e1)), {"InvalidPartOrder"}),
        ("too-small-non-last", parts(p(1, e1), p(3, e3)), {"EntityTooSmall"}),
    ]
    return rows


def family_complete(w):
    fam, out = "complete", []
    t = "/hostile/real?action=mpu-complete&uploadId=%s" % w.u
    for name, body, codes in complete_bodies(w):
        out.append(Req(fam, name, "POST", t, [("Content-Type", "application/json")], body=body, codes=codes))
    out.append(Req(fam, "empty-body", "POST", t, body=b"", cl=0, codes={"MissingBody", "IncompleteBody"}))
    return out


def family_etags(w):
    fam, out = "etags", []
    t = "/hostile/real?action=mpu-complete&uploadId=%s" % w.u
    ip = {"InvalidPart"}

    def one(e, n=1):
        return json.dumps({"parts": [{"partNumber": n, "etag": e}]}).encode()

    for name, e in (("zeros", "0" * 32), ("md5-of-nothing", md5(b"")), ("of-other-upload", w.e2),
                    ("of-part-3-for-1", w.e3), ("multipart-suffix", w.e1 + "-1"), ("31-chars", w.e1[:31]),
                    ("33-chars", w.e1 + "0"), ("open-quote", '"' + w.e1), ("close-quote", w.e1 + '"'),
                    ("two-quotes", '""'), ("double-quoted", '""%s""' % w.e1), ("weak", 'W/"%s"' % w.e1),
                    ("single-quoted", "'%s'" % w.e1), ("spaces", " %s " % w.e1), ("crlf", w.e1 + "\r\n"),
                    ("object-etag", w.obj_etag), ("star", "*"), ("base64", "ZXRhZw=="),
                    ("md5-of-key", md5(w.K.encode())), ("63-chars", "a" * 63), ("64-chars", "a" * 64),
                    ("unicode-hex", w.e1.replace("a", "\uff41").replace("0", "\uff10"))):
        out.append(Req(fam, "part-1-" + name, "POST", t, body=one(e), codes=ip))
    out.append(Req(fam, "right-etag-part-never-uploaded", "POST", t, body=one(w.e1, 2), codes=ip))
    out.append(Req(fam, "right-etag-part-10000", "POST", t, body=one(w.e1, 10000), codes=ip))
    out.append(Req(fam, "right-then-wrong", "POST", t, codes=ip, body=json.dumps(
        {"parts": [{"partNumber": 1, "etag": w.e1}, {"partNumber": 3, "etag": w.e1}]}).encode()))
    # The other upload: its own key, our etags; and our key with its id.
    t2 = "/hostile/other?action=mpu-complete&uploadId=%s" % w.u2
    out.append(Req(fam, "other-upload-with-our-etag", "POST", t2, body=one(w.e1), codes=ip))
    out.append(Req(fam, "our-key-with-other-uploadId", "POST",
                   "/hostile/real?action=mpu-complete&uploadId=%s" % w.u2, body=one(w.e2),
                   codes={"NoSuchUpload"}))
    out.append(Req(fam, "object-key-with-our-uploadId", "POST",
                   path(w.OBJ) + "?action=mpu-complete&uploadId=%s" % w.u, body=one(w.e1),
                   codes={"NoSuchUpload"}))
    out.append(Req(fam, "other-key-part-with-our-uploadId", "PUT",
                   "/hostile/other?action=mpu-uploadpart&uploadId=%s&partNumber=1" % w.u,
                   body=b"x", codes={"NoSuchUpload"}))
    out.append(Req(fam, "abort-with-other-key", "DELETE",
                   "/hostile/other?action=mpu-abort&uploadId=%s" % w.u, codes={"NoSuchUpload"}))
    return out


def family_inject(w):
    """CR/LF in every value r2mpu might echo: only ever in a body, never a header."""
    fam, out = "inject", []
    key = "/hostile/a" + INJECT
    bad_key = {"InvalidKey"}
    wrong = b'{"parts":[{"partNumber":1,"etag":"0"}]}'     # never a list that could complete
    for m, action, body in (("POST", "mpu-create", b""), ("GET", "get", None), ("HEAD", "get", None),
                            ("DELETE", "delete", None), ("DELETE", "mpu-abort&uploadId=" + w.u, None),
                            ("PUT", "mpu-uploadpart&partNumber=1&uploadId=" + w.u, b"x"),
                            ("POST", "mpu-complete&uploadId=" + w.u, wrong)):
        out.append(Req(fam, "key-%s-%s" % (m, action.split("&")[0]), m, key + "?action=" + action,
                       body=body, codes=bad_key))
    out.append(Req(fam, "key-response-splitting", "POST",
                   "/x%0D%0A%0D%0AHTTP/1.1%20200%20OK%0D%0AX-Injected:%20yes?action=mpu-create",
                   body=b"", codes=bad_key))
    out.append(Req(fam, "key-lf-only", "POST", "/x%0AX-Injected:%20yes?action=mpu-create", body=b"",
                   codes=bad_key))
    out.append(Req(fam, "key-raw-crlf", "POST", "/x" + RAW_INJECT + "?action=mpu-create", body=b"",
                   codes=bad_key))
    unknown = {"UnknownAction"}
    for m in ("GET", "POST", "PUT", "DELETE", "HEAD"):
        out.append(Req(fam, "action-" + m, m, "/hostile/i?action=x" + INJECT,
                       body=b"" if m in ("POST", "PUT") else None, codes=unknown))
    out.append(Req(fam, "action-response-splitting", "GET",
                   "/hostile/i?action=%0D%0A%0D%0AHTTP/1.1%20200%20OK%0D%0AX-Injected:%20yes%0D%0A",
                   codes=unknown))
    out.append(Req(fam, "action-spoofs-error-code", "GET",
                   "/hostile/i?action=x%0D%0AX-R2mpu-Error:%20Spoof%0D%0AX-Spoof:%201", codes=unknown))
    out.append(Req(fam, "action-raw-crlf", "GET", "/hostile/i?action=x" + RAW_INJECT, codes=unknown))
    out.append(Req(fam, "action-html", "GET", "/hostile/i?action=%3Cscript%3Ealert(1)%3C/script%3E",
                   codes=unknown))
    no_upload = {"NoSuchUpload"}
    for m, action, body in (("PUT", "mpu-uploadpart&partNumber=1", b"x"),
                            ("POST", "mpu-complete", wrong), ("DELETE", "mpu-abort", None)):
        out.append(Req(fam, "uploadId-" + action.split("&")[0], m, "/hostile/real?action=%s&uploadId=%s%s"
                       % (action, w.u, INJECT), body=body, codes=no_upload))
    out.append(Req(fam, "uploadId-raw-crlf", "DELETE", "/hostile/real?action=mpu-abort&uploadId="
                   + w.u + RAW_INJECT, codes=no_upload))
    out.append(Req(fam, "partNumber", "PUT", "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=1%s"
                   % (w.u, INJECT), body=b"x", codes={"InvalidArgument"}))
    out.append(Req(fam, "method-crlf", "GET" + RAW_INJECT, "/hostile/i?action=get",
                   codes={"MethodNotAllowed"}, unknown_method=True))
    meta = {"InvalidArgument"}
    for h in ("Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language",
              "Cache-Control", "Expires"):
        # CGI: the CR/LF reaches r2mpu. Over HTTP these are two header lines,
        # which is a different (valid) request: the raw variants below cover HTTP.
        out.append(Req(fam, "metadata-crlf-" + h, "POST", "/hostile/i?action=mpu-create",
                       [(h, "a" + RAW_INJECT)], body=b"", modes=CGI, codes=meta))
    out.append(Req(fam, "metadata-obs-fold-cgi", "POST", "/hostile/i?action=mpu-create",
                   [("Content-Type", "text/plain\r\n X-Injected: yes")], body=b"", modes=CGI, codes=meta))
    out.append(Req(fam, "metadata-crlf-crlf-body", "POST", "/hostile/i?action=mpu-create",
                   [("Content-Disposition", "a\r\n\r\n<html>")], body=b"", modes=CGI, codes=meta))
    for name, hdr in (("bare-cr", b"Content-Type: a\rX-Injected: yes\r\n"),
                      ("bare-lf", b"Content-Type: a\nX-Injected: yes\r\n"),
                      ("nul", b"Content-Disposition: a\x00X-Injected: yes\r\n"),
                      ("ctl", b"Content-Disposition: a\x01b\r\n"),
                      ("name-space", b"Content Type: a\r\n"),
                      ("name-colon-space", b"Content-Type : a\r\n"),
                      ("continuation-first", b" X-Injected: yes\r\nContent-Type: a\r\n")):
        out.append(Req(fam, "raw-metadata-" + name, "POST", "/hostile/i?action=mpu-create", modes=HTTP,
                       raw=b"POST /hostile/i?action=mpu-create HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdr
                       + b"Content-Length: 0\r\nConnection: close\r\n\r\n", codes=meta))
    out.append(Req(fam, "raw-request-line-crlf-in-target", "GET", "/hostile/i", modes=HTTP,
                   raw=b"GET /hostile/i?action=x\r\nX-Injected: yes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n", codes=unknown))
    out.append(Req(fam, "raw-nul-in-target", "GET", "/hostile/i", modes=HTTP,
                   raw=b"GET /hostile/i\x00.txt?action=get HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n", codes={"InvalidKey"}))
    return out


def family_cors(w):
    """Preflights that must be refused (403 and no CORS headers), whatever they carry."""
    fam, out = "cors", []
    t = "/hostile/c?action=mpu-create"
    refused = {"CorsOriginRefused"}
    # No R2MPU_CORS_ORIGINS (the default): every origin is refused.
    for name, origin in (("evil", "https://evil.example"), ("null", "null"), ("star", "*"),
                         ("not-an-origin", "javascript:alert(1)"), ("long", "https://" + "a" * 6000)):
        out.append(Req(fam, "cors-off-origin-" + name, "OPTIONS", t,
                       [("Origin", origin), ("Access-Control-Request-Method", "PUT")], codes=refused))
    out.append(Req(fam, "cors-off-origin-crlf", "OPTIONS", t,
                   [("Origin", "https://evil.example" + RAW_INJECT),
                    ("Access-Control-Request-Method", "PUT")],
                   codes=refused))
    # Writes from other sites' pages (open access, as here, has no credentials
    # to check): refused before anything is stored, which the store's
    # comparison after the run proves.
    part = "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=9" % w.u
    writes = (("create", "POST", "/hostile/x?action=mpu-create", b""),
              ("part", "PUT", part, b"xyz"),
              ("abort", "DELETE", "/hostile/real?action=mpu-abort&uploadId=" + w.u, None),
              ("delete", "DELETE", path(w.OBJ) + "?action=delete", None))
    for name, origin in (("evil", "https://evil.example"), ("null", "null"),
                         ("not-an-origin", "javascript:alert(1)"),
                         ("long", "https://" + "a" * 6000),
                         ("loopback-other-port", "http://127.0.0.1:1"),
                         ("crlf", "https://evil.example" + RAW_INJECT)):
        for what, method, target, body in writes:
            out.append(Req(fam, "write-%s-origin-%s" % (what, name), method, target,
                           [("Origin", origin)], body=body,
                           modes=CGI if "\r" in origin else BOTH, codes=refused))
    # One origin allowed: near misses are refused, and so are methods and
    # headers r2mpu does not serve. Over HTTP a CR/LF makes two header lines
    # and a trailing space is trimmed: those variants would be valid there.
    app = "https://app.example"
    env = {"R2MPU_CORS_ORIGINS": app}

    def where(name):
        return CGI if name in ("crlf", "trailing-space") else BOTH

    for name, origin in (("suffix", app + ".evil"), ("prefix", "https://evil" + app[8:]),
                         ("upper-case", app.upper()), ("trailing-space", app + " "),
                         ("list", app + ", https://evil.example"), ("crlf", app + RAW_INJECT),
                         ("star", "*"), ("null", "null"), ("other-port", app + ":444"),
                         ("http", "http://app.example")):
        out.append(Req(fam, "origin-" + name, "OPTIONS", t,
                       [("Origin", origin), ("Access-Control-Request-Method", "PUT")],
                       settings=env, modes=where(name), codes=refused))
    for name, method in (("TRACE", "TRACE"), ("lower-case", "put"), ("list", "GET, PUT"),
                         ("crlf", "PUT" + RAW_INJECT), ("OPTIONS", "OPTIONS"), ("long", "P" * 5000)):
        out.append(Req(fam, "request-method-" + name, "OPTIONS", t,
                       [("Origin", app), ("Access-Control-Request-Method", method)],
                       settings=env, modes=where(name), codes={"CorsMethodRefused"}))
    for name, hdrs in (("unknown", "X-Evil"), ("known-then-unknown", "Authorization, X-Evil"),
                       ("crlf", "Range" + RAW_INJECT), ("cookie", "Cookie"),
                       ("10000-then-unknown", "Range, " * 10000 + "X-Evil")):
        out.append(Req(fam, "request-headers-" + name, "OPTIONS", t,
                       [("Origin", app), ("Access-Control-Request-Method", "PUT"),
                        ("Access-Control-Request-Headers", hdrs)],
                       settings=env, modes=where(name), codes={"CorsHeaderRefused"}))
    return out


def family_listing(w):
    """mpu-listparts and mpu-list, with what they must refuse."""
    fam, out = "listing", []
    lp = "/hostile/real?action=mpu-listparts&uploadId=%s"
    for name, uid in (("traversal", q("../../canary.txt")), ("other-upload", w.u2), ("nul", w.u + "%00"),
                      ("crlf", w.u + INJECT), ("31-chars", w.u[:31]), ("uppercase", w.u.upper()),
                      ("1025", "0" * 1025), ("empty", "")):
        codes = {"InvalidArgument"} if name in ("nul", "1025") else {"NoSuchUpload"}
        out.append(Req(fam, "listparts-uploadId-" + name, "GET", lp % uid, codes=codes))
    out.append(Req(fam, "listparts-other-key", "GET",
                   "/hostile/other?action=mpu-listparts&uploadId=%s" % w.u, codes={"NoSuchUpload"}))
    out.append(Req(fam, "listparts-missing-uploadId", "GET", "/hostile/real?action=mpu-listparts",
                   codes={"MissingParameter"}))
    out.append(Req(fam, "listparts-empty-key", "GET", "/?action=mpu-listparts&uploadId=" + w.u,
                   codes={"InvalidKey"}))
    for m, action in (("POST", "mpu-listparts"), ("PUT", "mpu-listparts"), ("DELETE", "mpu-listparts"),
                      ("HEAD", "mpu-listparts"), ("POST", "mpu-list"), ("PUT", "mpu-list"),
                      ("DELETE", "mpu-list"), ("HEAD", "mpu-list")):
        out.append(Req(fam, "%s-%s" % (action, m), m, "/hostile/?action=%s&uploadId=%s" % (action, w.u),
                       body=b"" if m in ("POST", "PUT") else None, codes={"UnknownAction"}))
    for name, prefix, codes in (("invalid-utf8", "/%FF", {"InvalidKey"}),
                                ("control", "/a%01", {"InvalidKey"}),
                                ("crlf", "/a" + INJECT, {"InvalidKey"}),
                                ("1025", "/" + "p" * 1025, {"KeyTooLongError"}),
                                ("bad-escape", "/a%zz", {"InvalidURI"})):
        out.append(Req(fam, "list-prefix-" + name, "GET", prefix + "?action=mpu-list", codes=codes,
                       http_codes=codes | {"InvalidURI", "NoSuchKey"} if name == "bad-escape" else None))
    # A page of the listing: markers and sizes that must be refused, never followed.
    for name, qs in (("max-0", "max-uploads=0"), ("max-10001", "max-uploads=10001"),
                     ("max-huge", "max-uploads=184467440737095516170"), ("max-neg", "max-uploads=-1"),
                     ("max-hex", "max-uploads=0x10"), ("max-nul", "max-uploads=1%00"),
                     ("max-twice", "max-uploads=1&max-uploads=2"),
                     ("id-alone", "upload-id-marker=" + w.u),
                     ("key-crlf", "key-marker=a" + INJECT), ("key-nul", "key-marker=a%00b"),
                     ("key-invalid-utf8", "key-marker=%FF"), ("key-1025", "key-marker=" + "k" * 1025),
                     ("id-crlf", "key-marker=a&upload-id-marker=a" + INJECT),
                     ("id-traversal", "key-marker=a&upload-id-marker=..%2F..%2Fcanary.txt%20"),
                     ("id-1023", "key-marker=a&upload-id-marker=" + "u" * 1023)):
        out.append(Req(fam, "list-page-" + name, "GET", "/hostile/?action=mpu-list&" + qs,
                       codes={"InvalidArgument"}, http_codes={"InvalidArgument", "InvalidURI"}))
    # A marker that names nothing, or reaches outside: an answer, with nothing from elsewhere.
    for name, qs in (("id-unknown", "key-marker=hostile/real&upload-id-marker=" + "f" * 32),
                     ("id-traversal-dots", "key-marker=hostile/real&upload-id-marker=.."),
                     ("key-outside", "key-marker=%2E%2E%2Fcanary.txt&max-uploads=1")):
        out.append(Req(fam, "list-page-" + name, "GET", "/hostile/?action=mpu-list&" + qs,
                       may_succeed=True))
    return out


def family_md5(w):
    """Content-MD5 on a part of the real upload: malformed, or not the body's. Nothing is stored."""
    fam, out = "content-md5", []
    part = "/hostile/real?action=mpu-uploadpart&uploadId=%s&partNumber=1" % w.u
    body = b"hostile part, never stored"
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    # The 22nd digit carries 2 bits of the digest and 4 that must be zero: set one.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stray_bits = right[:21] + alphabet[alphabet.index(right[21]) | 1] + "=="
    invalid = {"InvalidDigest"}
    for name, v in (("x", "x"), ("AAAA", "AAAA"), ("hex-md5", md5(body)), ("no-padding", right[:22]),
                    ("one-pad", right[:23]), ("25-chars", right + "="), ("all-padding", "=" * 24),
                    ("nonzero-trailing-bits", stray_bits),
                    ("url-safe-alphabet", "-_" * 11 + "=="), ("spaces", " " * 22 + "=="),
                    ("sha256-base64", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
                    ("100000", "A" * 100000), ("crlf", right[:10] + RAW_INJECT)):
        out.append(Req(fam, "malformed-" + name, "PUT", part, [("Content-MD5", v)], body=body,
                       codes=invalid))
    # A web server trims the space (and then the digest is right): CGI's alone.
    out.append(Req(fam, "malformed-trailing-space", "PUT", part, [("Content-MD5", right + " ")], body=body,
                   modes=CGI, codes=invalid))
    bad = {"BadDigest"}
    for name, v in (("of-other-bytes", base64.b64encode(hashlib.md5(b"other").digest()).decode()),
                    ("zeros", "A" * 22 + "=="),
                    ("of-the-real-part", base64.b64encode(bytes.fromhex(w.e1)).decode())):
        out.append(Req(fam, "wrong-" + name, "PUT", part, [("Content-MD5", v)], body=body, codes=bad))
    return out


def family_access(w):
    """Credentials that do not parse, with a signing secret and no open access."""
    fam, out = "access", []
    env = {"R2MPU_OPEN_ACCESS": "no", "R2MPU_SIGNING_SECRET": "hostile-test-secret-" + "s" * 32}
    t = "/hostile/acc?action=get&"
    sig = "0" * 64
    denied = {"AccessDenied"}
    def signed(rights="r", expires="1", signature=sig, extra=""):
        return "r2mpu-rights=%s&r2mpu-expires=%s%s&r2mpu-signature=%s" % (rights, expires, extra, signature)

    for name, qs in (("expires-negative", signed(expires="-1")),
                     ("expires-20-digits", signed(expires="9" * 20)),
                     ("expires-2^64-1", signed(expires="18446744073709551615")),
                     ("expires-19-nines", signed(expires="9" * 19)),
                     ("expires-exponent", signed(expires="1e10")),
                     ("expires-space", signed(expires="%201")),
                     ("expires-empty", signed(expires="")),
                     ("max-negative", signed(extra="&r2mpu-max=-1")),
                     ("max-zero", signed(extra="&r2mpu-max=0")),
                     ("max-20-digits", signed(extra="&r2mpu-max=" + "9" * 20)),
                     ("rights-unknown", signed(rights="rwdx")),
                     ("rights-empty", signed(rights="")),
                     ("rights-crlf", signed(rights="r" + INJECT)),
                     ("signature-not-hex", signed(signature="g" * 64)),
                     ("signature-63", signed(signature="0" * 63)),
                     ("signature-65", signed(signature="0" * 65)),
                     ("signature-crlf", signed(signature="0" * 58 + INJECT)),
                     ("signature-only", "r2mpu-signature=" + sig),
                     ("prefix-traversal", signed(extra="&r2mpu-prefix=..%2F")),
                     ("valid-shape-wrong-signature", signed("rwd", "99999999999", "a" * 64))):
        out.append(Req(fam, "signed-" + name, "GET", t + qs, settings=env, codes=denied))
    dup = {"InvalidArgument"}
    out.append(Req(fam, "signed-duplicate-signature", "GET", t + "r2mpu-signature=%s&r2mpu-signature=%s"
                   % (sig, sig), settings=env, codes=dup))
    out.append(Req(fam, "signed-signature-nul", "GET", t + "r2mpu-rights=r&r2mpu-expires=1&r2mpu-signature="
                   + "%00" * 64, settings=env, codes=dup))
    out.append(Req(fam, "signed-signature-1025", "GET", t + "r2mpu-signature=" + "0" * 1025,
                   settings=env, codes=dup))
    who = {"Unauthorized", "AccessDenied"}
    for name, v in (("bearer-alone", "Bearer"), ("bearer-space", "Bearer "), ("basic", "Basic dXNlcjpwYXNz"),
                    ("two-tokens", "Bearer a b"), ("lower-case", "bearer x"), ("tab", "Bearer	x"),
                    ("100000", "Bearer " + "A" * 100000), ("crlf", "Bearer x" + RAW_INJECT),
                    ("digest", 'Digest username="a", response="b"'), ("nul-escape", "Bearer %00")):
        out.append(Req(fam, "authorization-" + name, "GET", "/hostile/acc?action=get",
                       [("Authorization", v)], settings=env, codes=who))
    out.append(Req(fam, "no-credentials", "GET", "/hostile/acc?action=get", settings=env,
                   codes={"Unauthorized"}))
    return out


def signed_query(key, rights, secret):
    """The query of a signed URL for key, minted by `r2mpu.fcgi sign`."""
    p = subprocess.run([BIN, "sign", "--rights", rights, "--expires-in", "1h", "--", key],
                       env=dict(os.environ, R2MPU_SIGNING_SECRET=secret), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and "?" in p.stdout, p.stderr
    return p.stdout.strip().split("?", 1)[1]


def family_cors_star(w):
    """R2MPU_CORS_ORIGINS=* reflects any Origin into Access-Control-Allow-Origin.
    These are valid requests with a hostile Origin: a 2xx is right, a 5xx or a
    split header never is. 8000 bytes still pass lighttpd's 8 KiB header limit.
    r2mpu refuses to start with open access and "*": these requests carry
    signed URLs."""
    fam, out = "cors-star", []
    secret = "hostile-star-secret-" + "s" * 32
    star = {"R2MPU_CORS_ORIGINS": "*", "R2MPU_OPEN_ACCESS": "no", "R2MPU_SIGNING_SECRET": secret}
    big = path(w.BIG) + "?" + signed_query(w.BIG, "r", secret) + "&action=get"
    obj = path(w.OBJ) + "?" + signed_query(w.OBJ, "r", secret) + "&action=get"
    real = "/hostile/real?" + signed_query("hostile/real", "r", secret)
    absent = "/hostile/absent?" + signed_query("hostile/absent", "r", secret)
    for n, modes in ((2000, BOTH), (7000, BOTH), (8000, BOTH), (8050, BOTH), (16000, CGI), (100000, CGI)):
        origin = [("Origin", "https://" + "a" * n + ".example")]
        out.append(Req(fam, "get-big-metadata-origin-%d" % n, "GET", big, origin, settings=star,
                       modes=modes, may_succeed=True))
    origin = [("Origin", "https://" + "a" * 8000 + ".example")]
    out.append(Req(fam, "head-big-metadata-origin-8000", "HEAD", big, origin, settings=star,
                   may_succeed=True))
    out.append(Req(fam, "range-big-metadata-origin-8000", "GET", big, origin + [("Range", "bytes=0-3")],
                   settings=star, may_succeed=True))
    out.append(Req(fam, "listparts-origin-8000", "GET", real + "&action=mpu-listparts&uploadId=" + w.u,
                   origin, settings=star, may_succeed=True))
    out.append(Req(fam, "preflight-origin-8000", "OPTIONS", "/hostile/c?action=mpu-create",
                   origin + [("Access-Control-Request-Method", "PUT")], settings=star, may_succeed=True))
    out.append(Req(fam, "error-origin-8000", "GET", absent + "&action=get", origin, settings=star,
                   codes={"NoSuchKey"}))
    for name, v in (("crlf", "https://a.example" + RAW_INJECT),
                    ("crlf-crlf", "https://a.example\r\n\r\n<html>"),
                    ("control", "https://a.example\x01\x1b[2J"), ("not-an-origin", "javascript:alert(1)")):
        out.append(Req(fam, "get-origin-" + name, "GET", obj, [("Origin", v)], settings=star,
                       modes=CGI if "\r" in v or "\x01" in v else BOTH, may_succeed=True))
    return out


FAMILIES = (family_methods, family_percent, family_traversal, family_keys, family_query,
            family_headers, family_complete, family_etags, family_inject, family_cors,
            family_listing, family_md5, family_access, family_cors_star)


def hostile_requests(w):
    reqs = [r for f in FAMILIES for r in f(w)]
    seen = set()
    for r in reqs:
        assert r.label not in seen, "duplicate name " + r.label
        seen.add(r.label)
    return reqs


# ---- the store and the sandbox -------------------------------------------------------------

def snapshot(root):
    """Every file and directory under root: relative path -> sha256 (or 'dir')."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def outside_store(sandbox, store):
    """Everything in the sandbox that is neither the store nor the canary."""
    out = []
    for dirpath, dirnames, filenames in os.walk(sandbox):
        if dirpath == store or dirpath.startswith(store + os.sep):
            continue
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if p not in (store, os.path.join(sandbox, "canary.txt")):
                out.append(p)
    return out


# ---- running ---------------------------------------------------------------------------------

def printable(s):
    """ASCII, with control characters escaped: one line per request, whatever the name."""
    return s.encode("unicode_escape").decode("ascii")


class Tally:
    def __init__(self):
        self.ok = self.failed = 0
        self.refused = {}          # status -> count of requests lighttpd refused itself
        self.families = {}         # family -> requests sent
        self.failures = []

    def record(self, label, mode, problems, how=""):
        if problems:
            self.failed += 1
            self.failures.append("%s [%s]" % (printable(label), mode))
            print("FAIL %s [%s]: %s" % (printable(label), mode, printable("; ".join(problems))[:1500]))
        else:
            self.ok += 1
            print("ok   %s [%s] %s" % (printable(label), mode, how))
        sys.stdout.flush()


def run_requests(mode, reqs, tally):
    for req in reqs:
        tally.families[req.family] = tally.families.get(req.family, 0) + 1
        r, problems = mode.send(req)
        how = ""
        if r is not None:
            more, how = judge(req, r, mode.name)
            problems = more + problems
            if how.startswith("refused"):
                tally.refused[r.status] = tally.refused.get(r.status, 0) + 1
        tally.record(req.label, mode.name, problems, how)


def after_checks(mode, w, tally, before):
    """The store is as it was; the real upload still completes; nothing escaped."""
    after = snapshot(w.store)
    changed = sorted(k for k in set(before) | set(after)
                     if before.get(k) != after.get(k) and k != os.path.join("uploads", ".sweep"))
    tally.record("store/unchanged-by-hostile-requests", mode.name,
                 ["created, changed or removed: %s" % changed[:20]] if changed else [])
    left = leftovers(w.store)
    tally.record("store/no-temporary-leftovers", mode.name, ["leftovers: %s" % left] if left else [])
    problems = []
    try:
        r = complete(mode, w.K, w.u, [{"partNumber": 1, "etag": w.e1}])
        if r.header("etag") != '"%s"' % mp_etag([w.A]):
            problems.append("etag %r" % r.header("etag"))
        g = send_ok(mode, Req("after", "get", "GET", path(w.K) + "?action=get"), 200)
        if g.body != w.A:
            problems.append("read back %r" % g.body[:60])
        send_ok(mode, Req("after", "abort", "DELETE",
                          "%s?action=mpu-abort&uploadId=%s" % (path(w.K2), w.u2)), 204)
        g = send_ok(mode, Req("after", "get-object", "GET", path(w.OBJ) + "?action=get"), 200)
        if g.body != w.OBJ_BODY:
            problems.append("object read back %r" % g.body[:60])
    except AssertionError as e:
        problems.append(str(e)[:600])
    tally.record("store/real-upload-still-completes", mode.name, problems)


def sandbox_checks(mode_name, w, canary, tally):
    stray = outside_store(w.sandbox, w.store)
    # One level up (r2mpu's cwd is the sandbox, so "../x" from there lands here).
    work = os.path.dirname(w.sandbox)
    stray += [os.path.join(work, f) for f in os.listdir(work)
              if not (f.startswith("sandbox-") or f in ("cgi-stderr", "lighttpd.log"))]
    tally.record("sandbox/nothing-outside-the-store", mode_name,
                 ["outside the store: %s" % stray[:20]] if stray else [])
    try:
        now = open(w.canary, "rb").read(), os.stat(w.canary).st_mtime_ns
    except OSError as e:
        now = (None, str(e))
    tally.record("sandbox/canary-unchanged", mode_name,
                 [] if now == canary else ["canary changed: %r" % (now,)])


class Servers:
    """Where requests go, by the r2mpu settings they need.

    CGI: one runner; each request's settings go into its process's
    environment. lighttpd: one server per distinct set of settings, started
    from the shipped config, each in turn, all on the one store."""

    def __init__(self, name, settings, work):
        self.name = name
        self.settings = settings
        self.work = work
        self.log = os.path.join(work, "lighttpd.log")
        self.cgi = CgiMode(settings, os.path.join(work, "cgi-stderr")) if name == "cgi" else None

    @contextlib.contextmanager
    def open(self, extra=()):
        if self.cgi is not None:
            yield self.cgi
            return
        server = Lighttpd(dict(self.settings, R2MPU_PROCS="4", **dict(extra)), self.log)
        with server as client:
            yield LighttpdMode(server, client, self.log)

    def exit_reports(self, tally):
        """Reports written as r2mpu processes exit (leaks) come after each server stops."""
        if self.cgi is None:
            reports = sanitizer_reports(self.log)
            tally.record("server/no-sanitizer-report-at-exit", self.name,
                         ["sanitizer: %s" % " | ".join(reports[:5])] if reports else [])


def run_mode(name, work, only, tally):
    sandbox = os.path.join(work, "sandbox-" + name)
    store = os.path.join(sandbox, "store")
    os.makedirs(sandbox)
    w = World(sandbox, store)
    with open(w.canary, "wb") as f:
        f.write(os.urandom(64).hex().encode() + b"\n")
    canary = (open(w.canary, "rb").read(), os.stat(w.canary).st_mtime_ns)
    servers = Servers(name, dict(SETTINGS, R2MPU_FS_ROOT=store), work)
    cwd = os.getcwd()
    os.chdir(sandbox)      # a file r2mpu made relative to its cwd would land in the sandbox
    try:
        run_world(servers, w, tally, only)
    finally:
        os.chdir(cwd)
    servers.exit_reports(tally)
    sandbox_checks(name, w, canary, tally)


def run_world(servers, w, tally, only):
    with servers.open() as mode:
        try:
            setup_world(mode, w)
        except AssertionError as e:
            tally.record("setup/uploads-and-object", mode.name, [str(e)[:1000]])
            return
        try:
            for name, problems in echo_checks(mode, w):
                tally.record("echo/" + name, mode.name, problems)
        except AssertionError as e:
            tally.record("echo/setup", mode.name, [str(e)[:1000]])
    before = snapshot(w.store)
    groups = {}
    for req in hostile_requests(w):
        if servers.name in req.modes and (not only or only in req.label):
            groups.setdefault(tuple(sorted(req.settings.items())), []).append(req)
    for extra, reqs in sorted(groups.items(), key=lambda kv: len(kv[0])):   # the default first
        with servers.open(extra) as mode:
            run_requests(mode, reqs, tally)
    with servers.open() as mode:
        after_checks(mode, w, tally, before)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", default="cgi,lighttpd", help="cgi, lighttpd or both (comma-separated)")
    ap.add_argument("--only", help="send only the requests whose family/name contains this")
    ap.add_argument("--list", action="store_true", help="print the table and exit")
    args = ap.parse_args()
    modes = args.mode.split(",")
    if not set(modes) <= {"cgi", "lighttpd"}:
        ap.error("--mode takes cgi, lighttpd or both")
    if args.list:
        w = World("/sandbox", "/sandbox/store")
        w.u, w.u2, w.obj_etag = "0" * 32, "1" * 32, "2" * 32 + "-1"
        for r in hostile_requests(w):
            print("%-13s %-60s %-8s %s" % (",".join(r.modes), printable(r.label)[:60],
                                           printable(r.method)[:8], printable(r.target)[:60]))
        return 0
    if not os.access(BIN, os.X_OK):
        print("hostile.py: %s is not built (make)" % BIN)
        return 1
    work = tempfile.mkdtemp(prefix="r2mpu-hostile-")
    t0 = time.monotonic()
    tallies = {}
    try:
        for name in modes:
            tallies[name] = Tally()
            run_mode(name, work, args.only, tallies[name])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n==== hostile.py: %s" % BIN)
    failed = 0
    for name, t in tallies.items():
        fams = ", ".join("%s %d" % kv for kv in t.families.items())
        refused = ", ".join("%d x %d" % (n, s) for s, n in sorted(t.refused.items()))
        print("%s: %d hostile requests (%s)" % (name, sum(t.families.values()), fams))
        if refused:
            print("%s: refused by lighttpd itself (never reached r2mpu): %s" % (name, refused))
        print("%s: %d passed, %d failed" % (name, t.ok, t.failed))
        failed += t.failed
    if failed:
        print("failures:\n  " + "\n  ".join(f for t in tallies.values() for f in t.failures))
    print("%.1f s" % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
