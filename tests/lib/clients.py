# SPDX-License-Identifier: MIT
"""tests/lib/clients.py: one request interface, two ways to reach r2mpu.

CgiClient runs the binary once per request as a plain CGI program (no web
server), the way cgit's and git's tests do. HttpClient talks HTTP to a real
web server that runs r2mpu as FastCGI (lib.servers starts them). The case
list (blackbox/cases.py) only sees `request()`, so every case runs unchanged
in every setting. For bytes http.client will not send, or a client that
misbehaves on purpose: request_head() and raw_exchange().
"""

import http.client
import json
import re
import socket
import subprocess
import time
import urllib.parse

from lib import scratch_metrics_file
from lib.checks import Logs


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:200])


class CgiClient:
    """r2mpu as plain CGI: environment in, stdin body, stdout answer."""

    name = "cgi"

    def __init__(self, binary, env, wrapper=(), logfile=None):
        self.binary = binary
        self.env = dict(env)
        self.env.setdefault("R2MPU_METRICS_FILE", scratch_metrics_file())
        self.wrapper = list(wrapper)   # e.g. valgrind and its options
        self.logfile = logfile         # each request's stderr is appended here
        if logfile:
            Logs.watch(logfile)

    def environ(self, method, target, headers=None, content_length=None, env=None):
        """The CGI environment of one request (request() runs it; a benchmark that
        streams the body itself starts the process with it)."""
        path, _, query = target.partition("?")
        # The peer a server would name: this machine, unless a case says otherwise.
        e = {"REMOTE_ADDR": "127.0.0.1"}
        e.update(self.env)
        e.update({
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "r2mpu-tests",
            "REQUEST_METHOD": method,
            "REQUEST_URI": target,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            # Servers give PATH_INFO decoded; NUL cannot be in the environment.
            "PATH_INFO": urllib.parse.unquote(path, errors="replace").replace("\0", ""),
        })
        if content_length is not None and content_length != "absent":
            e["CONTENT_LENGTH"] = str(content_length)
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            e[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        if env:
            e.update(env)
        return e

    def request(self, method, target, headers=None, body=None,
                content_length=None, env=None):
        """target is the raw request-target ("/k%20y?action=get").
        content_length overrides the real length (None: len(body), or unset
        without a body); pass "absent" to send no CONTENT_LENGTH at all."""
        if content_length is None and body is not None:
            content_length = len(body)
        e = self.environ(method, target, headers, content_length, env)
        p = subprocess.run(self.wrapper + [self.binary], input=body or b"", env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        if self.logfile and p.stderr:
            with open(self.logfile, "ab") as f:
                f.write(b"[%s %s] " % (method.encode(), target.encode("latin-1", "replace")[:200]))
                f.write(p.stderr if p.stderr.endswith(b"\n") else p.stderr + b"\n")
        if p.returncode != 0:
            raise AssertionError("r2mpu exited %d: %s" % (p.returncode, p.stderr))
        return self.parse(p.stdout)

    @staticmethod
    def parse(out):
        head, sep, body = out.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("CGI output has no header end: %r" % out[:200])
        status, headers = 200, {}
        for line in head.split(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            value = value.strip()
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers[name.lower()] = value
        return Response(status, headers, body)


class HttpClient:
    """A real web server on loopback; raw request-targets are sent as given."""

    prefix = ""    # r2mpu's mount point on the server (PrefixedClient: /r2mpu)

    def __init__(self, name, host, port):
        self.name = name
        self.host = host
        self.port = port

    def request(self, method, target, headers=None, body=None,
                content_length=None, env=None):
        if env:
            raise NotImplementedError("per-request environment is CGI-only")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.putrequest(method, target, skip_host=False,
                            skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if content_length is None and body is not None:
                content_length = len(body)
            if content_length == "absent":
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if body:
                    conn.send(b"%x\r\n%s\r\n" % (len(body), body))
                conn.send(b"0\r\n\r\n")
            else:
                if content_length is not None:
                    conn.putheader("Content-Length", str(content_length))
                conn.endheaders()
                if body:
                    conn.send(body)
            r = conn.getresponse()
            data = r.read()
            headers = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, headers, data)
        finally:
            conn.close()

    def send_truncated(self, target, declared, sent):
        """PUT declaring `declared` bytes, send `sent` bytes, then vanish."""
        s = socket.create_connection((self.host, self.port), timeout=30)
        s.sendall(request_head("PUT", target, {"Content-Length": declared}, self.host))
        s.sendall(b"x" * sent)
        time.sleep(0.2)
        s.close()


class PrefixedClient:
    """The same requests under a mount point (/r2mpu/<key>)."""

    def __init__(self, inner, prefix):
        self.inner = inner
        self.prefix = prefix
        self.name = inner.name
        self.port = inner.port

    def request(self, method, target, *args, **kw):
        return self.inner.request(method, self.prefix + target, *args, **kw)

    def send_truncated(self, target, declared, sent):
        return self.inner.send_truncated(self.prefix + target, declared, sent)


class BearerClient:
    """The same requests, each with `Authorization: Bearer TOKEN` (unless a
    request names its own)."""

    def __init__(self, inner, token):
        self.inner = inner
        self.token = token
        self.name = inner.name
        self.port = getattr(inner, "port", None)   # none for CgiClient

    def request(self, method, target, headers=None, *args, **kw):
        h = {"Authorization": "Bearer " + self.token}
        h.update(headers or {})
        return self.inner.request(method, target, h, *args, **kw)


def request_head(method, target, headers=None, host="127.0.0.1"):
    """An HTTP/1.1 request's head as bytes: the request line, Host, then
    `headers` ({name: value}) in their order, and the blank line."""
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + host]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_until_closed(s):
    """What socket s receives until the peer closes (or resets) it, and
    whether s's timeout ended the wait first: (bytes, timed_out)."""
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        return data, True
    return data, False


def raw_exchange(port, data, head=False):
    """Send `data` (a whole request, any bytes) to 127.0.0.1:port, read until
    the server closes, and parse the first answer: a Response whose
    header_names keeps the names as sent. head: it answers a HEAD (no body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass          # the server may answer and close before reading it all
        out, timed_out = read_until_closed(s)
    finally:
        s.close()
    if timed_out:
        raise AssertionError("no end of the answer within 60 s (got %r)" % out[:200])
    head_part, sep, rest = out.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no complete HTTP answer: %r" % out[:200])
    lines = head_part.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError("bad status line: %r" % lines[0])
    headers, names = {}, []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        names.append(name)
        headers[name.lower()] = value.strip()
    body = b"" if head else rest
    if not head and headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            body += rest[:n]
            rest = rest[n + 2:]
    elif not head and "content-length" in headers:
        body = rest[:int(headers["content-length"])]
    r = Response(int(m.group(1)), headers, body)
    r.header_names = names
    return r
