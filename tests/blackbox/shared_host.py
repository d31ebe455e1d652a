#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/blackbox/shared_host.py: r2mpu dropped on an emulated shared host, as its docs say.

The host is real Apache started from a config like a typical shared host's:
mod_cgid and mod_fcgid loaded at their defaults, a user's public_html with
`AllowOverride All`, and nothing r2mpu-specific. The user's part is what
doc/shared-hosting.md tells them to do, and nothing else: the static binary
(`make static`) and apache-conf/shared-hosting/'s files copied into a folder,
r2mpu.conf and tokens edited, modes set. The files belong to www-data, the user
Apache runs CGI as here: on a suexec host, the account's files and the account's
CGI user are one user in the same way.

    shared_host.py            the CGI .htaccess; the fcgid one on a host at mod_fcgid's
                              defaults (each part refused, as the docs say) and on a
                              host that raised FcgidMaxRequestLen (it works)
    shared_host.py --dist T   the same from the release tarball T (`make dist`): its
                              upload/ folder is what the user copies
"""

import argparse
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import tempfile

from lib import TOP, servers
from lib.api import data, expect, get, upload
from lib.checks import Logs, check, summary
from lib.clients import BearerClient, HttpClient, PrefixedClient

# What the user copies: the program and the folder's files (from a checkout, or from
# the tarball's upload/ with --dist).
STATIC_BIN = os.path.join(TOP, "cgi-bin", "r2mpu-static.fcgi")
FOLDER = os.path.join(TOP, "apache-conf", "shared-hosting")
FOLDER_FILES = {".htaccess", "htaccess-fcgid", "r2mpu.conf", "tokens"}
TOKEN = "5b0e1c7a9d2f48e6a3c1b7d9e0f2a4c6b8d0e2f4a6c8b0d2"
MIB = 1024 * 1024
MODULES = ["mpm_event", "authz_core", "authz_host", "authn_core", "access_compat", "mime",
           "dir", "alias", "env", "setenvif", "rewrite", "headers", "deflate", "cgid", "fcgid",
           "reqtimeout"]


def host_config(state, docroot, port, log, extra=""):
    """A shared host's httpd.conf: the user's folder, every override allowed."""
    mods = "".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m)
                   for m in MODULES)
    return servers.apache_prologue(state, port, log) + """%(mods)s
TypesConfig /etc/mime.types
# Where mod_fcgid and mod_cgid keep their state: the only settings of theirs here.
FcgidIPCDir %(state)s/fcgid
FcgidProcessTableFile %(state)s/fcgid/shm
ScriptSock %(state)s/cgid.sock
%(extra)s
AccessFileName .htaccess
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot %(docroot)s
<Directory %(docroot)s>
    Options SymLinksIfOwnerMatch
    AllowOverride All
    Require all granted
</Directory>
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
""" % {"state": state, "mods": mods, "docroot": docroot, "extra": extra}


class SharedHost:
    """Apache as a shared host, and a user's home with public_html in it."""

    def __init__(self, sandbox, name, extra=""):
        self.dir = os.path.join(sandbox, name)
        self.home = os.path.join(self.dir, "home", "alice")
        self.docroot = os.path.join(self.home, "public_html")
        self.state = os.path.join(self.dir, "apache")
        self.log = os.path.join(self.dir, "error.log")
        self.extra = extra

    def __enter__(self):
        os.makedirs(self.docroot)
        os.makedirs(os.path.join(self.state, "fcgid"))
        www = pwd.getpwnam("www-data")
        for d in (os.path.dirname(self.dir), self.dir, os.path.dirname(self.home)):
            os.chmod(d, 0o755)
        os.chown(os.path.join(self.state, "fcgid"), www.pw_uid, www.pw_gid)
        self.port = servers.free_port()
        conf = os.path.join(self.state, "httpd.conf")
        with open(conf, "w") as f:
            f.write(host_config(self.state, self.docroot, self.port, self.log, self.extra))
        Logs.watch(self.log)
        self.proc = subprocess.Popen(["apache2", "-f", conf, "-DFOREGROUND"],
                                     stderr=open(self.log, "ab"))
        servers.wait_for_port(self.port, self.proc)
        return self

    def __exit__(self, *exc):
        servers.stop(self.proc)

    def client(self):
        return HttpClient("shared-host", "127.0.0.1", self.port)


def install(host, htaccess=".htaccess"):
    """What the user does, by doc/shared-hosting.md: copy three files and the program
    into a folder, edit r2mpu.conf and tokens, chmod. Returns the gateway's path."""
    folder = os.path.join(host.docroot, "upload")
    os.makedirs(folder)
    shutil.copy(STATIC_BIN, os.path.join(folder, "r2mpu.fcgi"))
    shutil.copy(os.path.join(FOLDER, htaccess), os.path.join(folder, ".htaccess"))
    conf = open(os.path.join(FOLDER, "r2mpu.conf")).read()
    # The edit: the file store, outside public_html, instead of R2's placeholders.
    edited = []
    for line in conf.splitlines():
        if line.startswith(("R2MPU_STORE=", "R2MPU_R2_", "R2MPU_S3_")):
            continue
        edited.append(line.lstrip("#") if line.startswith("#R2MPU_") else line)
    with open(os.path.join(folder, "r2mpu.conf"), "w") as f:
        f.write("\n".join(edited) + "\n")
    tokens = open(os.path.join(FOLDER, "tokens")).read()
    with open(os.path.join(folder, "tokens"), "w") as f:
        f.write(tokens + "%s rw *\n" % TOKEN)
    # The owner is who the host runs CGI as (suexec): www-data here.
    www = pwd.getpwnam("www-data")
    for dirpath, dirnames, filenames in os.walk(host.home):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
            os.chown(name, www.pw_uid, www.pw_gid)
    os.chmod(host.home, 0o711)
    os.chmod(os.path.join(folder, "r2mpu.fcgi"), 0o755)
    for name in ("r2mpu.conf", "tokens"):
        os.chmod(os.path.join(folder, name), 0o600)
    return "/upload/r2mpu.fcgi"


def big_upload(c, gateway, key, size, part):
    """size bytes in parts of `part` through the gateway (c sends the token); read
    back whole. True when the object is byte-identical."""
    body = data(size, 11)
    at = PrefixedClient(c, gateway)
    upload(at, key, [body[i:i + part] for i in range(0, size, part)])
    r = expect(get(at, key), 200)
    return hashlib.sha256(r.body).digest() == hashlib.sha256(body).digest()


def cgi_host(sandbox):
    with SharedHost(sandbox, "cgi") as host:
        gateway = install(host)
        plain = host.client()
        c = BearerClient(plain, TOKEN)
        ok = False
        try:
            ok = big_upload(c, gateway, "videos/talk.mp4", 64 * MIB, 6 * MIB)
        except AssertionError as e:
            print(e)
        check("CGI .htaccess: 64 MiB in 6 MiB parts with a bearer token, read back identical", ok)

        r = plain.request("POST", gateway + "/x?action=mpu-create", body=b"")
        check("no token: 401 from r2mpu", r.status == 401 and r.header("x-r2mpu-error"), r)

        secrets = (TOKEN.encode(), b"R2MPU_", b"\x7fELF")
        for path in ("/upload/r2mpu.conf", "/upload/tokens", "/upload/.htaccess", "/upload/",
                     "/upload/r2mpu.conf.bak", "/upload/r2mpu.fcgi/../tokens"):
            r = plain.request("GET", path)
            leaked = [s for s in secrets if s in r.body]
            check("GET %s: refused (403 or 404), nothing of the folder in it" % path,
                  r.status in (403, 404) and not leaked, (r.status, leaked))
        r = plain.request("GET", gateway)
        check("GET of the program itself runs it, never sends it",
              b"\x7fELF" not in r.body and r.header("x-request-id") is not None, r)

        # What this host cannot do: an encoded slash never passes Apache (AllowEncodedSlashes
        # is a server setting), so a client must send a key's slashes as they are.
        r = c.request("POST", gateway + "/a%2Fb?action=mpu-create", body=b"")
        check("a key with %2F: 404 from Apache itself (doc/shared-hosting.md says so)",
              r.status == 404 and r.header("x-r2mpu-error") is None, r)
        r = c.request("POST", gateway + "/a/b?action=mpu-create", body=b"")
        check("the same key with its slash as it is: created", r.status == 200, r)

        # A folder anyone may write (as some upload guides advise): another account
        # could put its own r2mpu.conf there, so r2mpu does not start, and says why.
        folder = os.path.join(host.docroot, "upload")
        os.chmod(folder, 0o777)
        Logs.mark()
        r = c.request("POST", gateway + "/x?action=mpu-create", body=b"")
        log = open(host.log, errors="replace").read()
        os.chmod(folder, 0o755)
        check("a folder others may write: the settings beside the program refused, a 500 "
              "and the reason in Apache's log",
              r.status == 500 and "is not used: its group or others may write its directory"
              in log, (r.status, log[-500:]))

        data_dir = os.path.join(host.home, "r2mpu-data")
        check("the store is outside public_html, where r2mpu.conf's relative path says",
              os.path.isdir(os.path.join(data_dir, "objects")), data_dir)


def fcgid_hosts(sandbox):
    # mod_fcgid at its defaults: the .htaccess cannot raise FcgidMaxRequestLen.
    with SharedHost(sandbox, "fcgid-default") as host:
        gateway = install(host, "htaccess-fcgid")
        c = BearerClient(host.client(), TOKEN)
        r = c.request("POST", gateway + "/small?action=mpu-create", body=b"")
        check("fcgid at its defaults: a create works (the settings beside the program found)",
              r.status == 200, r)
        uid = r.json().get("uploadId") if r.status == 200 else "x"
        Logs.mark()
        r = c.request("PUT", "%s/small?action=mpu-uploadpart&uploadId=%s&partNumber=1"
                      % (gateway, uid), body=data(5 * MIB, 3))
        log = open(host.log, errors="replace").read()
        check("fcgid at its defaults: a 5 MiB part is Apache's 500, and its log says "
              "MaxRequestLen (as doc/shared-hosting.md says)",
              r.status == 500 and "exceeds MaxRequestLen (131072)" in log, (r, log[-600:]))

    # A host that raised it in its own configuration: the fcgid .htaccess works.
    with SharedHost(sandbox, "fcgid-raised", extra="FcgidMaxRequestLen 6442450944") as host:
        gateway = install(host, "htaccess-fcgid")
        c = BearerClient(host.client(), TOKEN)
        ok = False
        try:
            ok = big_upload(c, gateway, "videos/talk.mp4", 64 * MIB, 6 * MIB)
        except AssertionError as e:
            print(e)
        check("fcgid .htaccess, FcgidMaxRequestLen raised by the host: 64 MiB in 6 MiB parts, "
              "read back identical", ok)
        for path in ("/upload/r2mpu.conf", "/upload/tokens"):
            r = host.client().request("GET", path)
            check("fcgid: GET %s refused" % path,
                  r.status in (403, 404) and TOKEN.encode() not in r.body, r.status)


def unpack(tarball, sandbox):
    """The release tarball, as a user unpacks it: its upload/ folder becomes FOLDER."""
    global STATIC_BIN, FOLDER
    with tarfile.open(tarball) as t:
        t.extractall(os.path.join(sandbox, "dist"))   # our own tarball, just built
    top = os.path.join(sandbox, "dist", os.path.basename(tarball)[:-len(".tar.gz")])
    FOLDER = os.path.join(top, "upload")
    STATIC_BIN = os.path.join(FOLDER, "r2mpu.fcgi")
    found = set(os.listdir(FOLDER))
    check("the tarball's upload/: the program and the folder's files, nothing else",
          found == FOLDER_FILES | {"r2mpu.fcgi"}, sorted(found))
    p = subprocess.run(["ldd", STATIC_BIN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check("the tarball's program is static", b"not a dynamic executable" in p.stdout, p.stdout)
    check("the tarball has the docs, the man pages and what it was built from",
          all(os.path.exists(os.path.join(top, f)) for f in
              ("README.md", "LICENSE", "BUILT-FROM", "doc/shared-hosting.md", "man/r2mpu.8",
               "man/r2mpu.conf.5")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dist", help="the release tarball (make dist) to take the folder from")
    args = ap.parse_args()
    if os.geteuid() != 0:   # the files are www-data's, as suexec would run them
        print("shared_host.py: skipped: giving the user's files to www-data needs root")
        print("shared_host: 0 passed, 0 failed, 1 skipped")
        return 0
    sandbox = tempfile.mkdtemp(prefix="r2mpu-shared-")
    if args.dist:
        unpack(args.dist, sandbox)
    if not os.path.exists(STATIC_BIN):
        print("shared_host.py: %s is missing: make static" % STATIC_BIN)
        return 1
    try:
        cgi_host(sandbox)
        fcgid_hosts(sandbox)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("shared_host")


if __name__ == "__main__":
    sys.exit(main())
