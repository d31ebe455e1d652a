# SPDX-License-Identifier: MIT
"""tests/lib/proxy.py: tests/s3/faulty_proxy.py (a FAKE network path that injects
faults) in a process of its own, told what to do over its control port."""

import json
import os
import subprocess
import sys
import urllib.request

from lib import TOP, servers

PROXY = os.path.join(TOP, "tests", "s3", "faulty_proxy.py")


class FaultyProxy:
    """tests/s3/faulty_proxy.py in a process of its own, told what to do over HTTP."""

    def __init__(self, upstream, log):
        self.upstream = upstream
        self.logfile = log

    def __enter__(self):
        self.port, self.control = servers.free_port(), servers.free_port()
        self.err = open(self.logfile, "ab")
        self.proc = subprocess.Popen([sys.executable, PROXY, "--upstream", self.upstream,
                                      "--listen", str(self.port), "--control", str(self.control)],
                                     stderr=self.err)
        servers.wait_for_port(self.port, self.proc)
        servers.wait_for_port(self.control, self.proc)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        self.err.close()

    def _call(self, method, path, payload=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control, path),
                                     data=payload, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def fault(self, **rule):
        self._call("PUT", "/fault", json.dumps(rule).encode())

    def faults(self, *rules):
        """Several rules at once (the first that matches a request hits it)."""
        self._call("PUT", "/fault", json.dumps(list(rules)).encode())

    def clear(self):
        self._call("DELETE", "/fault")

    def log(self):
        return json.loads(self._call("GET", "/log"))

    def forget(self):
        self._call("DELETE", "/log")

    def hits(self, op):
        return [e for e in self.log() if e["op"] == op and e["fault"]]
