# SPDX-License-Identifier: MIT
"""tests/lib/fastcgi.py: a raw FastCGI exchange, as a web server would have it with r2mpu.

For a standalone r2mpu (--listen), spoken to without a web server in
between: requests with any parameters (names a server would never pass on),
sent whole or a few bytes at a time (request()[:n]), and the STDOUT of the
answer. One request per connection, id 1, role RESPONDER.
"""

import socket
import struct

from lib.clients import read_until_closed

BEGIN_REQUEST, PARAMS, STDIN, STDOUT = 1, 4, 5, 6


def record(rtype, content, request_id=1):
    return struct.pack(">BBHHBB", 1, rtype, request_id, len(content), 0, 0) + content


def params(pairs):
    """{name: value} in FastCGI's name-value encoding."""
    out = b""
    for name, value in pairs.items():
        n, v = name.encode(), value.encode()
        for x in (n, v):
            out += struct.pack(">B", len(x)) if len(x) < 128 else struct.pack(">I", len(x) | 1 << 31)
        out += n + v
    return out


def request(pairs, body=b""):
    """A whole request: BEGIN_REQUEST (responder), the parameters, the body."""
    begin = record(BEGIN_REQUEST, struct.pack(">HB5x", 1, 0))
    stdin = b"".join(record(STDIN, body[i:i + 65535]) for i in range(0, len(body), 65535))
    return (begin + record(PARAMS, params(pairs)) + record(PARAMS, b"") + stdin +
            record(STDIN, b""))


def stdout(data):
    """The STDOUT records' content of an answer."""
    out = b""
    while len(data) >= 8:
        _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", data[:8])
        if rtype == STDOUT:
            out += data[8:8 + clen]
        data = data[8 + clen + plen:]
    return out


def exchange(port, req, timeout=15, host="127.0.0.1"):
    """Send req to host:port, read until r2mpu closes (or timeout): its STDOUT."""
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(req)
    data, _ = read_until_closed(s)
    s.close()
    return stdout(data)
