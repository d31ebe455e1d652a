#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/static_root.py: the static binary needs nothing from the host, proven.

    static_root.py --store fs,moto,radosgw   the case list, each store in its own root
                                              (each S3 server started for it)
    static_root.py --tls                      HTTPS to the store: the CA bundle found

cgi-bin/r2mpu-static.fcgi (`make static`) runs as CGI in an empty root, entered
with chroot(8) for every request. The root holds only the program, its config
(/etc/r2mpu.conf), /etc/hosts, a CA file where a --tls check puts one, the fs
store's directory and /run for the metrics file: no shared library, no
ld.so, no /proc, no /dev, and an /etc/nsswitch.conf naming NSS modules that are
nowhere. S3 stores are reached by a host name that only the root's /etc/hosts
knows, so name resolution in the static binary is tested too.

--tls puts real nginx, with a certificate of a CA made for the run, in front of
moto, and asks for the store over HTTPS with the CA file in each place a
distribution keeps its bundle (and nowhere, and a wrong one, and where
R2MPU_S3_CA_FILE says): found wherever it is, and verified.
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

from blackbox import cases as casebook
from lib import TOP, servers
from lib.api import data, expect, get, upload
from lib.checks import check, leftovers, run_cases, summary
from lib.clients import CgiClient

STATIC_BIN = os.path.join(TOP, "cgi-bin", "r2mpu-static.fcgi")
STORE_HOST = "objectstore"   # known to the root's /etc/hosts alone; one label: moto takes
                              # the first of several for a bucket (virtual-hosted style)
CHROOT = "/usr/sbin/chroot"


class Env:
    def __init__(self, root, store):
        self.root = root       # the fs store, as this process sees it
        self.cgi = True
        self.store = store
        self.buffers_bodies = False
        self.server = "cgi"


def make_root(parent, settings):
    """An empty root for the static binary: the program, its config, /etc/hosts,
    the store and /run. Returns its path."""
    root = os.path.join(parent, "root")
    for d in ("etc", "store", "run"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(STATIC_BIN, os.path.join(root, "r2mpu.fcgi"))
    with open(os.path.join(root, "etc", "hosts"), "w") as f:
        f.write("127.0.0.1 localhost %s\n" % STORE_HOST)
    # A host whose NSS names modules of its own (systemd-resolved, mDNS), as Ubuntu's
    # and Fedora's do, none of them here: the static binary resolves with c-ares,
    # which takes the order (files, then DNS) from this line and reads /etc/hosts.
    with open(os.path.join(root, "etc", "nsswitch.conf"), "w") as f:
        f.write("hosts: files mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] dns\n")
    conf = os.path.join(root, "etc", "r2mpu.conf")
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # it holds the secret
    with os.fdopen(fd, "w") as f:
        for k, v in settings.items():
            f.write("%s=%s\n" % (k, v))
    return root


def client_in(root, label):
    """r2mpu as CGI inside root: the environment a server gives, the config named."""
    c = CgiClient("/r2mpu.fcgi", {"R2MPU_CONFIG": "/etc/r2mpu.conf", "HTTP_HOST": "127.0.0.1",
                                  "R2MPU_METRICS_FILE": "/run/r2mpu-metrics"},
                  wrapper=[CHROOT, root], logfile=os.path.join(os.path.dirname(root), "cgi.log"))
    c.name = label
    return c


def by_name(endpoint, port=None):
    """http://127.0.0.1:PORT -> the same store by STORE_HOST (and another port)."""
    scheme, _, rest = endpoint.partition("://")
    host_port = rest.split("/", 1)[0]
    return "%s://%s:%s" % (scheme, STORE_HOST, port or host_port.rsplit(":", 1)[1])


def nothing_but(root):
    """What the root holds besides the store's own files: the claim 'only these'."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "store" or rel.startswith("store" + os.sep):
            continue
        for name in filenames:
            found.add(os.path.normpath(os.path.join(rel, name)))
    return found


def run_store(store, sandbox, s3, only):
    settings = {"R2MPU_FS_ROOT": "/store", "R2MPU_MAX_PART_SIZE": "16M",
                "R2MPU_OPEN_ACCESS": "yes"}
    if store != "fs":
        settings.update(s3)
        settings["R2MPU_S3_ENDPOINT"] = by_name(s3["R2MPU_S3_ENDPOINT"])
    where = os.path.join(sandbox, "root-" + store)
    os.makedirs(where)
    root = make_root(where, settings)
    label = "static-chroot" + ("" if store == "fs" else "+" + store)
    client = client_in(root, label)
    env = Env(os.path.join(root, "store") if store == "fs" else None, store)
    todo = [fn for fn in casebook.CASES if not only or only in fn.__name__]
    passed, failed, skipped = run_cases(todo, client, env, label)
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
    check("the case list in an empty root [%s]" % label, failed == 0 and passed > 0,
          "%d failed" % failed)
    if env.root:
        left = leftovers(env.root)
        check("no leftovers in the store [%s]" % label, not left, left)
    extra = nothing_but(root) - {"r2mpu.fcgi", "etc/hosts", "etc/nsswitch.conf",
                                 "etc/r2mpu.conf", "run/r2mpu-metrics"}
    check("the root held only the program, its config, /etc/hosts and the store [%s]" % label,
          not extra, sorted(extra))


# ---- HTTPS to the store ---------------------------------------------------------

def make_ca(d):
    """A CA made for this run, and a certificate for STORE_HOST it signed."""
    def ssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "ca.key",
        "-out", "ca.pem", "-subj", "/CN=r2mpu test CA")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "store.key", "-out", "store.csr",
        "-subj", "/CN=" + STORE_HOST)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % STORE_HOST)
    ssl("x509", "-req", "-in", "store.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "store.pem", "-extfile", "ext")
    # Another CA, which did not sign it: verification must refuse that one.
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "other.key",
        "-out", "other.pem", "-subj", "/CN=another CA")


@contextlib.contextmanager
def tls_front(d, upstream_port, logfile):
    """Real nginx terminating TLS before the store: the Host header, which r2mpu
    signs, passed as it came; bodies streamed both ways."""
    port = servers.free_port()
    state = os.path.join(d, "nginx")
    os.makedirs(state)
    with open(os.path.join(state, "nginx.conf"), "w") as f:
        f.write(servers.nginx_prologue(state, logfile, 1) + """    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(d)s/store.pem;
        ssl_certificate_key %(d)s/store.key;
        client_max_body_size 0;
        location / {
            proxy_pass http://127.0.0.1:%(up)d;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
            proxy_buffering off;
        }
    }
}
""" % {"d": d, "port": port, "up": upstream_port})
    proc = subprocess.Popen(["nginx", "-c", os.path.join(state, "nginx.conf"), "-p", state],
                            stderr=open(logfile, "ab"))
    try:
        servers.wait_for_port(port, proc)
        yield port
    finally:
        servers.stop(proc)


CA_PLACES = [   # (distribution, where its bundle is)
    ("Debian, Ubuntu", "/etc/ssl/certs/ca-certificates.crt"),
    ("RHEL, CentOS, CloudLinux", "/etc/pki/tls/certs/ca-bundle.crt"),
    ("RHEL, extracted bundle only", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),
    ("SUSE", "/etc/ssl/ca-bundle.pem"),
    ("Alpine", "/etc/ssl/cert.pem"),
]


def put_ca(root, place, pem):
    path = os.path.join(root, place.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(pem, path)
    return path


def round_trip(c, key):
    """An upload and its read-back through the store: the TLS connection carried both."""
    body = data(6 * 1024 * 1024 + 17, 7)
    upload(c, key, [body[:5 * 1024 * 1024], body[5 * 1024 * 1024:]])
    r = expect(get(c, key), 200)
    return r.body == body


def run_tls(sandbox, s3):
    d = os.path.join(sandbox, "tls")
    os.makedirs(d)
    make_ca(d)
    upstream = int(s3["R2MPU_S3_ENDPOINT"].rsplit(":", 1)[1])
    with tls_front(d, upstream, os.path.join(d, "nginx.log")) as port:
        settings = dict(s3, R2MPU_S3_ENDPOINT="https://%s:%d" % (STORE_HOST, port),
                        R2MPU_OPEN_ACCESS="yes")
        for i, (distro, place) in enumerate(CA_PLACES):
            where = os.path.join(sandbox, "tls-root-%d" % i)
            os.makedirs(where)
            root = make_root(where, settings)
            put_ca(root, place, os.path.join(d, "ca.pem"))
            c = client_in(root, "static-tls")
            ok = False
            try:
                ok = round_trip(c, "tls/%d" % i)
            except AssertionError as e:
                print(e)
            check("HTTPS to the store with the CA where %s keeps it (%s)" % (distro, place), ok)

        # R2MPU_S3_CA_FILE names a file in none of those places.
        where = os.path.join(sandbox, "tls-root-configured")
        os.makedirs(where)
        root = make_root(where, dict(settings, R2MPU_S3_CA_FILE="/srv/our-ca.pem"))
        put_ca(root, "/srv/our-ca.pem", os.path.join(d, "ca.pem"))
        put_ca(root, CA_PLACES[0][1], os.path.join(d, "other.pem"))   # the wrong one, ignored
        c = client_in(root, "static-tls")
        check("HTTPS with R2MPU_S3_CA_FILE, over a wrong system bundle",
              round_trip(c, "tls/configured"))

        # No bundle anywhere: r2mpu does not start (the server answers 500), and says
        # why; it never connects unverified.
        where = os.path.join(sandbox, "tls-root-none")
        os.makedirs(where)
        root = make_root(where, settings)
        try:
            r = client_in(root, "static-tls").request("POST", "/tls/none?action=mpu-create",
                                                      body=b"")
            refused = "answered %r" % r
        except AssertionError as e:   # CgiClient: r2mpu exited non-zero
            refused = str(e)
        check("no CA bundle in the root: r2mpu refuses to start and names R2MPU_S3_CA_FILE",
              "exited 1" in refused and "R2MPU_S3_CA_FILE" in refused, refused)

        # A bundle without the CA that signed the store's certificate: refused.
        where = os.path.join(sandbox, "tls-root-wrong")
        os.makedirs(where)
        root = make_root(where, settings)
        put_ca(root, CA_PLACES[0][1], os.path.join(d, "other.pem"))
        c = client_in(root, "static-tls")
        r = c.request("POST", "/tls/wrong?action=mpu-create", body=b"")
        log = open(os.path.join(where, "cgi.log"), errors="replace").read()
        check("a certificate the bundle's CA did not sign: 502, the reason logged",
              r.status == 502 and "certificate" in log.lower(), (r, log[-400:]))

        # The check of the whole program: `r2mpu check` in the root says the store works.
        where = os.path.join(sandbox, "tls-root-check")
        os.makedirs(where)
        root = make_root(where, settings)
        put_ca(root, CA_PLACES[1][1], os.path.join(d, "ca.pem"))
        p = subprocess.run([CHROOT, root, "/r2mpu.fcgi", "check"],
                           env={"R2MPU_CONFIG": "/etc/r2mpu.conf",
                                "R2MPU_METRICS_FILE": "/run/r2mpu-metrics"},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        check("r2mpu check in the root, over HTTPS: exit 0", p.returncode == 0,
              p.stdout.decode(errors="replace"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default="fs",
                    help="comma-separated: fs, moto, radosgw ('' for none)")
    ap.add_argument("--tls", action="store_true", help="HTTPS to moto through nginx")
    ap.add_argument("--only", help="run the cases whose name contains this")
    args = ap.parse_args()
    stores = [s for s in args.store.split(",") if s]
    if not set(stores) <= {"fs", "moto", "radosgw"}:
        ap.error("--store takes some of fs, moto, radosgw")
    if not os.path.exists(STATIC_BIN):
        print("static_root.py: %s is missing: make static" % STATIC_BIN)
        return 1
    p = subprocess.run(["ldd", STATIC_BIN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check("ldd: not a dynamic executable", b"not a dynamic executable" in p.stdout, p.stdout)
    if os.geteuid() != 0:   # as faults.py's full disk: said, and skipped
        print("static_root.py: skipped: chroot needs root")
        print("static_root: 0 passed, 0 failed, 1 skipped")
        return 0
    sandbox = tempfile.mkdtemp(prefix="r2mpu-static-")
    try:
        with contextlib.ExitStack() as stack:
            started = {}

            def s3_of(name):
                if name not in started:
                    started[name] = stack.enter_context(servers.S3Server(name, sandbox))
                return started[name]
            for store in stores:
                run_store(store, sandbox, s3_of(store) if store != "fs" else {}, args.only)
            if args.tls:
                run_tls(sandbox, s3_of("moto"))
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("static_root")


if __name__ == "__main__":
    sys.exit(main())
