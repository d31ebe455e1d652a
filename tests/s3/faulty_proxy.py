#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/s3/faulty_proxy.py: a FAKE network path to S3 -- a fault injector, not a mock.

It sits between r2mpu and a real S3 server (moto, which checks SigV4
signatures) and passes every request on byte for byte: the request line and
headers exactly as sent (the Host header too, which r2mpu signs), then the
body as it streams in. Answers come back byte for byte as well. Nothing here
knows S3's semantics; the real server behind decides everything, except when
a fault rule tells the proxy to lie, hang or hang up.

    faulty_proxy.py --upstream 127.0.0.1:PORT --listen PORT --control PORT

The control port (loopback HTTP) takes:
    PUT    /fault   a JSON rule, or a list of rules; replaces the current ones
    DELETE /fault   no faults any more; stalled connections are let go
    GET    /log     JSON list, one entry per request seen (see Conn.log_entry)
    DELETE /log     forget the log

A rule:
    op       which call it applies to (see classify()): S3's create, listparts,
             uploadpart, complete, abort, get, head, delete, putobject; r2mpu's
             own actions by name (mpu-create, mpu-uploadpart, ...); or any
    action   error     answer `status` with an S3 <Error> document (code, message)
             garbage   answer `status` with `body` as it is (not XML, cut XML...)
             stall     never answer; the connection is held until the client
                       gives up (or the fault is cleared)
             cut       close the connection: with forward, after `after` bytes
                       of the real answer (0: none at all), else at once
             stall_body  forward, pass `after` bytes of the answer, then hold
             cut_request forward `after` bytes of the request body, then close
                       both sides (the store sees a body end early)
             flip      forward, with the request body's byte at offset `after`
                       changed (a part corrupted on its way to the store)
    forward  for error/garbage/stall/cut: pass the request to the store first
             (the store acts on it), then fault the answer; default false:
             the store never sees the request (its body is read and dropped)
    times    how many requests the rule hits; -1 (default) until cleared
    method   only requests of this method (a browser's OPTIONS preflight shares the
             query of the request it asks for)
    skip     how many matching requests pass untouched before the rule hits
    headers  for error and garbage: more header lines for the answer ({name: value}), e.g.
             r2mpu's X-R2mpu-Error when the proxy stands before r2mpu itself
"""

import argparse
import http.server
import itertools
import json
import socket
import sys
import threading
import urllib.parse

HEAD_MAX = 64 * 1024
CHUNK = 256 * 1024
REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


def classify(method, target):
    """The S3 call a request is, from its method and query."""
    path, _, query = target.partition("?")
    q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if "action" in q:             # r2mpu's API: the proxy stands before the gateway
        return q["action"]
    if method == "POST" and "uploads" in q:
        return "create"
    if "uploadId" in q:
        return {"GET": "listparts", "PUT": "uploadpart", "POST": "complete",
                "DELETE": "abort"}.get(method, "other")
    return {"GET": "get", "HEAD": "head", "DELETE": "delete", "PUT": "putobject"}.get(
        method, "other")


class Gone(Exception):
    """The peer closed its side."""


class Reader:
    """A socket with a read buffer: whole header blocks, exact byte counts."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        data = self.sock.recv(CHUNK)
        if not data:
            raise Gone()
        self.buf += data

    def head(self):
        """Bytes up to and including the blank line; None at a clean EOF."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_MAX:
                raise Gone()
            try:
                self._more()
            except Gone:
                if not self.buf:
                    return None
                raise
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end], self.buf[end:]
        return head

    def chunks(self, n):
        """Yield exactly n bytes, as they arrive."""
        while n > 0:
            if not self.buf:
                self._more()
            piece, self.buf = self.buf[:n], self.buf[n:]
            n -= len(piece)
            yield piece

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        end = self.buf.index(b"\r\n") + 2
        line, self.buf = self.buf[:end], self.buf[end:]
        return line

    def rest(self):
        """Yield everything until EOF."""
        if self.buf:
            piece, self.buf = self.buf, b""
            yield piece
        while True:
            data = self.sock.recv(CHUNK)
            if not data:
                return
            yield data


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return first, headers


def answer_body(method, status, headers, reader):
    """Yield the raw bytes of an answer's body, framed as its headers say."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = reader.line()
            yield line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:          # trailers, then the blank line
                    t = reader.line()
                    yield t
                    if t == b"\r\n":
                        return
            for piece in reader.chunks(size + 2):
                yield piece
    elif "content-length" in headers:
        yield from reader.chunks(int(headers["content-length"]))
    else:
        yield from reader.rest()


class Proxy:
    def __init__(self, upstream):
        self.upstream = upstream
        self.rules = []
        self.log = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def set_rules(self, rules):
        with self.lock:
            self.rules = [dict(r) for r in rules]
            self.release.clear()

    def clear(self):
        with self.lock:
            self.rules = []
            self.release.set()

    def take(self, op, method):
        """The rule that hits this request, if any (counting it down)."""
        with self.lock:
            for r in self.rules:
                if r.get("op", "any") in (op, "any") and r.get("times", -1) != 0 and \
                        r.get("method", method) == method:
                    if r.get("skip", 0) > 0:
                        r["skip"] -= 1
                        return None
                    if r.get("times", -1) > 0:
                        r["times"] -= 1
                    return dict(r)
        return None

    def record(self, entry):
        with self.lock:
            self.log.append(entry)

    def serve(self, port):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(128)
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=Conn(self, conn).run, daemon=True).start()


def error_doc(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            "<Message>%s</Message><RequestId>faulty-proxy</RequestId></Error>"
            % (code, message)).encode()


def answer(status, body, content_type="application/xml", headers=None):
    extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    return (("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
             "x-amz-request-id: faulty-proxy\r\n%s\r\n")
            % (status, REASONS.get(status, "Status"), content_type, len(body),
               extra)).encode() + body


class Conn:
    """One connection from r2mpu: requests one after another (keep-alive)."""

    def __init__(self, proxy, sock):
        self.proxy = proxy
        self.sock = sock
        self.down = Reader(sock)

    def run(self):
        try:
            while self.one():
                pass
        except (Gone, OSError, ValueError):
            pass
        finally:
            self.sock.close()

    def hold(self):
        """Stall: keep the connection open, say nothing, until the client
        gives up or the fault is cleared."""
        self.sock.settimeout(0.2)
        while not self.proxy.release.is_set():
            try:
                if not self.sock.recv(CHUNK):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def one(self):
        """Serve one request; False when the connection must end."""
        head = self.down.head()
        if head is None:
            return False
        (method, target, _), headers = parse_head(head)
        length = int(headers.get("content-length", "0") or 0)
        op = classify(method, target)
        rule = self.proxy.take(op, method)
        action = rule["action"] if rule else None
        entry = {"op": op, "method": method, "target": target, "length": length,
                 "fault": action, "received": 0, "forwarded": 0, "status": None,
                 "client_gone": False, "authorization": "authorization" in headers}
        self.proxy.record(entry)
        forward = rule is None or rule.get("forward") or action in ("stall_body", "cut_request",
                                                                    "flip")
        if not forward:
            for piece in self.down.chunks(length):
                entry["received"] += len(piece)
            if action == "error":
                self.sock.sendall(answer(rule.get("status", 500), error_doc(
                    rule.get("code", "InternalError"),
                    rule.get("message", "We encountered an internal error. Please try again.")),
                    headers=rule.get("headers")))
                return True
            if action == "garbage":
                self.sock.sendall(answer(rule.get("status", 200), rule.get("body", "").encode(),
                                         rule.get("content_type", "application/xml"),
                                         headers=rule.get("headers")))
                return True
            if action == "stall":
                self.hold()
            return False       # cut, or a stall that ended
        return self.forward(method, head, length, rule, entry)

    def forward(self, method, head, length, rule, entry):
        action = rule["action"] if rule else None
        host, _, port = self.proxy.upstream.rpartition(":")
        up = socket.create_connection((host, int(port)), timeout=120)
        try:
            up.sendall(head)
            for piece in self.down.chunks(length) if length else ():
                entry["received"] += len(piece)
                if action == "cut_request" and entry["forwarded"] + len(piece) >= rule.get("after", 0):
                    piece = piece[:rule.get("after", 0) - entry["forwarded"]]
                    up.sendall(piece)
                    entry["forwarded"] += len(piece)
                    return False       # both closed, mid-body
                at = rule.get("after", 0) - entry["forwarded"] if action == "flip" else -1
                if 0 <= at < len(piece):
                    piece = piece[:at] + bytes([piece[at] ^ 0x20]) + piece[at + 1:]
                    entry["flipped"] = True
                up.sendall(piece)
                entry["forwarded"] += len(piece)
        except Gone:
            entry["client_gone"] = True   # the store sees the body end early
            up.close()
            return False
        except OSError:
            up.close()
            return False             # the store went away: so do we
        try:
            ur = Reader(up)
            rhead = ur.head()
            if rhead is None:
                return False
            (_, status, _), rheaders = parse_head(rhead)
            entry["status"] = int(status)
            body = answer_body(method, int(status), rheaders, ur)
            if action in ("error", "garbage", "stall"):
                for _ in body:          # the store's real answer is dropped
                    pass
                up.close()
                rule = dict(rule, forward=False)
                if action == "stall":
                    self.hold()
                    return False
                body = (rule.get("body", "").encode() if action == "garbage" else
                        error_doc(rule.get("code", "InternalError"),
                                  rule.get("message", "We encountered an internal error.")))
                self.sock.sendall(answer(rule.get("status", 500), body))
                return True
            budget = rule.get("after", 0) if action in ("cut", "stall_body") else None
            sent = 0
            for piece in itertools.chain([rhead], body):
                if budget is not None and sent + len(piece) >= budget:
                    self.sock.sendall(piece[:budget - sent])
                    if action == "stall_body":
                        self.hold()
                    return False
                self.sock.sendall(piece)
                sent += len(piece)
            close = (rheaders.get("connection", "").lower() == "close" or
                     ("content-length" not in rheaders and
                      "chunked" not in rheaders.get("transfer-encoding", "").lower() and
                      method != "HEAD" and int(status) not in (204, 304)))
            return not close
        except (Gone, OSError):
            return False
        finally:
            up.close()


def control_server(proxy, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _body(self):
            return self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))

        def _reply(self, status, payload=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_PUT(self):
            body = self._body()
            if self.path == "/fault":
                rules = json.loads(body)
                proxy.set_rules(rules if isinstance(rules, list) else [rules])
            else:
                return self._reply(404)
            self._reply(204)

        def do_DELETE(self):
            if self.path == "/fault":
                proxy.clear()
            elif self.path == "/log":
                with proxy.lock:
                    proxy.log = []
            else:
                return self._reply(404)
            self._reply(204)

        def do_GET(self):
            if self.path != "/log":
                return self._reply(404)
            with proxy.lock:
                payload = json.dumps(proxy.log).encode()
            self._reply(200, payload)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="host:port of the real S3 server")
    ap.add_argument("--listen", type=int, required=True, help="port for r2mpu's requests")
    ap.add_argument("--control", type=int, required=True, help="port of the control API")
    args = ap.parse_args()
    proxy = Proxy(args.upstream)
    threading.Thread(target=control_server, args=(proxy, args.control), daemon=True).start()
    print("faulty_proxy: 127.0.0.1:%d -> %s (control on %d)" % (args.listen, args.upstream,
                                                                args.control), file=sys.stderr)
    proxy.serve(args.listen)


if __name__ == "__main__":
    main()
