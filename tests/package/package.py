#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/package/package.py: r2mpu as a packager and an administrator get it.

    package.py            the man pages against --help, the version everywhere,
                          the build flags, make install and uninstall
    package.py --deb      also `make deb`: lintian, its files, its systemd units
                          (systemd-analyze verify), and the installed binary and
                          config serving uploads through lighttpd and by socket
                          activation (systemd-socket-activate), from a throwaway root

Each check prints ok/FAIL; the run fails if any did.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from lib import BIN, TOP, servers
from lib.api import data, expect, get, upload
from lib.checks import check, summary
from lib import fastcgi

VERSION = open(os.path.join(TOP, "VERSION")).read().strip()
MAN8 = os.path.join(TOP, "build", "man", "r2mpu.8")
MAN5 = os.path.join(TOP, "build", "man", "r2mpu.conf.5")
# What `make install` puts under DESTDIR with PREFIX=/usr (the Debian package's too).
CLIENT_INSTALLED = ["usr/bin/r2mpu-client", "usr/share/man/man1/r2mpu-client.1"]
INSTALLED = CLIENT_INSTALLED + [
    "usr/lib/cgi-bin/r2mpu.fcgi", "usr/sbin/r2mpu",
    "usr/share/man/man8/r2mpu.8", "usr/share/man/man5/r2mpu.conf.5",
] + ["usr/share/doc/r2mpu/examples/" + f for f in (
    "r2mpu.conf", "upload.html", "lighttpd-conf/lighttpd.conf", "lighttpd-conf/r2mpu.conf",
    "nginx-conf/r2mpu.conf", "apache-conf/r2mpu-cgi.conf", "apache-conf/r2mpu-fcgid.conf",
    "apache-conf/r2mpu-proxy-fcgi.conf")]


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def make(*args):
    return run(["make", "--no-print-directory", "-C", TOP] + list(args))


def files_under(root):
    """Every file and symlink below root, relative, sorted."""
    out = []
    for d, dirs, names in os.walk(root):
        for n in names + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def man_text(page):
    """A page as roff source (gzipped when the package installed it)."""
    if page.endswith(".gz"):
        return run(["zcat", page]).stdout
    return open(page).read()


# -- the man pages and --help ------------------------------------------------

def help_settings(binary):
    """The setting names `--help` lists."""
    return sorted(help_defaults(binary))


def help_defaults(binary):
    """{setting: its default as --help says it}."""
    out = run([binary, "--help"]).stdout
    return dict(re.findall(r"^  (R2MPU_[A-Z0-9_]+) .*\(default: (.*)\)$", out, re.M))


def man_defaults(text):
    """{setting: its default as r2mpu.conf(5) says it}, roff undone."""
    section = text.split(".SH SETTINGS", 1)[1].split(".SH ", 1)[0]
    found = {}
    for name, body in re.findall(r"^\.B (R2MPU_[A-Z0-9_]+)\n(.*?)(?=^\.TP|\Z)", section,
                                 re.M | re.S):
        m = re.search(r"Default: (?:\\fB)?(.*?)(?:\\fR)?\.$", body, re.M)
        if m:
            found[name] = m.group(1).replace("\\-", "-").replace("\\e", "\\")
    return found


def help_options(binary):
    """The options `--help` and `sign --help` name."""
    out = run([binary, "--help"]).stdout + run([binary, "sign", "--help"]).stdout
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out)))


def man_settings(text):
    section = text.split(".SH SETTINGS", 1)[1].split(".SH ", 1)[0]
    return sorted(set(re.findall(r"^\.B (R2MPU_[A-Z0-9_]+)$", section, re.M)))


def man_options(text):
    return sorted(set(o.replace("\\-", "-") for o in
                      re.findall(r"(?<![\w-])\\-\\-[a-z](?:[a-z]|\\-)*", text)))


def check_pages(binary, man8, man5, where):
    t8, t5 = man_text(man8), man_text(man5)
    ours, theirs = help_settings(binary), man_settings(t5)
    check("%s: r2mpu.conf(5) lists the settings --help lists (%d)" % (where, len(ours)),
          ours and ours == theirs, "only in --help: %s; only in the page: %s" % (
              sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))))
    ours, theirs = help_defaults(binary), man_defaults(t5)
    differ = {k: (v, theirs.get(k)) for k, v in ours.items() if theirs.get(k) != v}
    check("%s: r2mpu.conf(5) gives each setting the default --help gives" % where,
          ours and not differ, differ)
    ours, theirs = help_options(binary), man_options(t8)
    check("%s: r2mpu(8) describes the options --help names (%s)" % (where, " ".join(ours)),
          ours and ours == theirs, "only in --help: %s; only in the page: %s" % (
              sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))))
    for page, text in ((man8, t8), (man5, t5)):
        name = os.path.basename(page)
        with tempfile.NamedTemporaryFile("w", suffix=".man") as f:
            f.write(text)
            f.flush()
            g = run(["groff", "-man", "-ww", "-z", f.name])
        check("%s: %s renders without a warning" % (where, name),
              g.returncode == 0 and g.stderr == "", g.stderr)
        th = re.search(r'^\.TH \S+ \d "[^"]*" "r2mpu ([^"]+)"', text, re.M)
        check("%s: %s is of version %s" % (where, name, VERSION),
              th and th.group(1) == VERSION, th and th.group(0))


def check_version(binary, where):
    out = run([binary, "--version"]).stdout.strip()
    check("%s: --version says %s" % (where, VERSION), out == "r2mpu " + VERSION, out)


# -- the build ---------------------------------------------------------------

def check_build_flags():
    """A packager's CPPFLAGS, CFLAGS and LDFLAGS reach every compile and link, and
    WERROR= turns -Werror off; without it, every compile has -Werror."""
    with tempfile.TemporaryDirectory() as d:
        target = os.path.join(d, "r2mpu.fcgi")
        common = ["-n", "-B", "BUILD=" + d, "BIN=" + target, target,
                  os.path.join(d, "tests", "test_config")]
        packager = make(*(common + ["CPPFLAGS=-DMARK_CPPFLAGS", "CFLAGS=-O2 -DMARK_CFLAGS",
                                    "LDFLAGS=-Wl,-z,MARK_LDFLAGS", "WERROR="]))
        developer = make(*common)
    lines = [l for l in packager.stdout.splitlines() if re.match(r"^(cc|gcc|clang) ", l)]
    compiles = [l for l in lines if " -c " in l]
    links = [l for l in lines if " -c " not in l]
    check("make: the caller's CPPFLAGS and CFLAGS reach all %d compiles" % len(compiles),
          compiles and all("MARK_CPPFLAGS" in l and "MARK_CFLAGS" in l for l in compiles),
          packager.stdout[-2000:] + packager.stderr)
    check("make: the caller's LDFLAGS reach both links (program and unit test)",
          len(links) == 2 and all("MARK_LDFLAGS" in l for l in links), links)
    check("make WERROR=: no -Werror", lines and not any("-Werror " in l + " " for l in lines))
    dev = [l for l in developer.stdout.splitlines() if " -c " in l]
    check("make: -Werror on every compile by default",
          dev and all("-Werror " in l + " " for l in dev))


def check_install():
    with tempfile.TemporaryDirectory() as d:
        r = make("install", "DESTDIR=" + d, "PREFIX=/usr")
        check("make install DESTDIR PREFIX=/usr", r.returncode == 0, r.stderr)
        got = files_under(d)
        check("make install: exactly the binary, its sbin name, the client, three man pages "
              "and the examples",
              got == sorted(INSTALLED), "extra: %s; missing: %s" % (
                  sorted(set(got) - set(INSTALLED)), sorted(set(INSTALLED) - set(got))))
        sbin = os.path.join(d, "usr/sbin/r2mpu")
        check("make install: sbin/r2mpu is a relative link to the CGI program",
              os.path.islink(sbin) and not os.readlink(sbin).startswith("/") and
              os.path.realpath(sbin) == os.path.join(d, "usr/lib/cgi-bin/r2mpu.fcgi"))
        check_version(sbin, "installed")
        r = make("uninstall", "DESTDIR=" + d, "PREFIX=/usr")
        left = files_under(d)
        check("make uninstall: removes every file install put there",
              r.returncode == 0 and left == [], left or r.stderr)


# -- the Debian package ---------------------------------------------------------

def unpack(deb, root):
    r = run(["dpkg-deb", "-x", deb, root])
    assert r.returncode == 0, r.stderr


def check_client_deb(work, deb):
    """The client's own package: the program and its man page, nothing of the server."""
    lint = run(["lintian", "--pedantic", "-I", deb])
    tags = [l for l in lint.stdout.splitlines() if re.match(r"^[EWIPX]: ", l)]
    print("lintian (client):\n" + "\n".join("  " + t for t in tags))
    check("lintian (client): no error", not any(t.startswith("E: ") for t in tags), tags)
    root = os.path.join(work, "client-root")
    unpack(deb, root)
    got = files_under(root)
    want = sorted(["usr/bin/r2mpu-client", "usr/share/man/man1/r2mpu-client.1.gz",
                   "usr/share/doc/r2mpu-client/changelog.gz",
                   "usr/share/doc/r2mpu-client/copyright"])
    check("deb (client): its files", got == want, "extra: %s; missing: %s" % (
        sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    p = run([os.path.join(root, "usr/bin/r2mpu-client"), "--version"])
    check("deb (client): --version says %s" % VERSION,
          p.returncode == 0 and p.stdout.strip() == "r2mpu-client " + VERSION, p.stdout + p.stderr)
    page = run(["sh", "-c", "zcat '%s' | groff -man -Tutf8 -ww -z" %
                os.path.join(root, "usr/share/man/man1/r2mpu-client.1.gz")])
    check("deb (client): r2mpu-client.1 renders without a warning",
          page.returncode == 0 and page.stderr.strip() == "", page.stderr)


def check_deb(work):
    r = make("deb")
    debs = sorted(f for f in os.listdir(os.path.join(TOP, "build", "deb"))
                  if re.match(r"r2mpu(-client)?_.*_amd64\.deb$", f)) if r.returncode == 0 else []
    name = "r2mpu_%s_amd64.deb" % VERSION
    client_name = "r2mpu-client_%s_amd64.deb" % VERSION
    if not check("make deb builds %s and %s" % (name, client_name),
                 debs == [client_name, name], r.stdout[-3000:] + r.stderr[-3000:]):
        return
    check_client_deb(work, os.path.join(TOP, "build", "deb", client_name))
    deb = os.path.join(TOP, "build", "deb", name)
    lint = run(["lintian", "--pedantic", "-I", deb])
    tags = [l for l in lint.stdout.splitlines() if re.match(r"^[EWIPX]: ", l)]
    print("lintian:\n" + "\n".join("  " + t for t in tags))
    check("lintian: no error", not any(t.startswith("E: ") for t in tags), tags)
    root = os.path.join(work, "root")
    unpack(deb, root)
    got = files_under(root)
    want = [f for f in INSTALLED if f not in CLIENT_INSTALLED] + ["etc/r2mpu/r2mpu.conf", "lib/systemd/system/r2mpu.service",
                        "lib/systemd/system/r2mpu.socket", "usr/lib/sysusers.d/r2mpu.conf",
                        "usr/share/doc/r2mpu/changelog.gz", "usr/share/doc/r2mpu/copyright"]
    want = [w + ".gz" if w.startswith("usr/share/man/") else w for w in want]
    check("deb: its files", got == sorted(want), "extra: %s; missing: %s" % (
        sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    control = os.path.join(work, "control")
    run(["dpkg-deb", "-e", deb, control])
    conffiles = open(os.path.join(control, "conffiles")).read().split()
    check("deb: /etc/r2mpu/r2mpu.conf is a conffile", conffiles == ["/etc/r2mpu/r2mpu.conf"],
          conffiles)
    conf = os.path.join(root, "etc/r2mpu/r2mpu.conf")
    secrets = [l for l in open(conf) if re.match(r"\s*R2MPU_\w*(SECRET|TOKEN)", l)]
    check("deb: the conffile sets no secret", not secrets, secrets)
    binary = os.path.join(root, "usr/lib/cgi-bin/r2mpu.fcgi")
    check_version(binary, "deb")
    check_pages(binary, os.path.join(root, "usr/share/man/man8/r2mpu.8.gz"),
                os.path.join(root, "usr/share/man/man5/r2mpu.conf.5.gz"), "deb")
    # The units ship disabled, yet an enabled one is restarted after an upgrade
    # and stopped when the package goes (not --no-start, which does neither).
    scripts = {n: open(os.path.join(control, n)).read() if os.path.exists(
        os.path.join(control, n)) else "" for n in ("preinst", "postinst", "prerm", "postrm")}
    check("deb: an upgrade does not stop the service (preinst)", "stop" not in scripts["preinst"],
          scripts["preinst"])
    check("deb: the service is restarted after an upgrade (postinst)",
          "_dh_action=restart" in scripts["postinst"] and
          re.search(r"deb-systemd-invoke \$_dh_action .*r2mpu", scripts["postinst"]),
          scripts["postinst"])
    check("deb: nothing is enabled on a first install (postinst: only what was enabled)",
          "was-enabled 'r2mpu.socket'" in scripts["postinst"] and
          not re.search(r"^\s*deb-systemd-helper enable 'r2mpu\.socket'", scripts["postinst"].split(
              "was-enabled 'r2mpu.socket'")[0], re.M), scripts["postinst"])
    check("deb: removing the package stops the service (prerm)",
          re.search(r"deb-systemd-invoke stop .*r2mpu", scripts["prerm"]), scripts["prerm"])
    ctl = open(os.path.join(control, "control")).read()
    check("deb: its version is VERSION's", "\nVersion: %s\n" % VERSION in ctl, ctl)

    # systemd-analyze verify wants the units they name (sysinit.target, ...) and
    # the programs: the host's, copied beside ours into the throwaway root.
    units = os.path.join(root, "lib/systemd/system")
    subprocess.run(["cp", "-an", "/lib/systemd/system/.", units + "/"], check=True)
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)     # ExecReload's kill, the host's
    shutil.copy2("/bin/kill", os.path.join(root, "bin", "kill"))
    v = run(["systemd-analyze", "verify", "--man=no", "--root=" + root,
             "/lib/systemd/system/r2mpu.socket", "/lib/systemd/system/r2mpu.service"])
    check("deb: systemd-analyze verify accepts r2mpu.socket and r2mpu.service",
          v.returncode == 0 and v.stderr.strip() == "", v.stderr)
    service = open(os.path.join(units, "r2mpu.service")).read()
    for line in ("ExecStart=/usr/sbin/r2mpu --listen systemd", "User=r2mpu",
                 "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "Environment=R2MPU_CONFIG=/etc/r2mpu/r2mpu.conf"):
        check("deb: r2mpu.service has %s" % line, line in service)

    sbin = os.path.join(root, "usr/sbin/r2mpu")
    env = dict(os.environ, R2MPU_CONFIG=conf)
    # As shipped, the service must not start: the conffile has no access rules.
    p = run([sbin, "--listen", "127.0.0.1:%d" % servers.free_port()], env=env, timeout=20)
    check("deb: as shipped, r2mpu refuses to start until access rules are set",
          p.returncode == 1 and "access" in p.stderr, (p.returncode, p.stderr))
    store = os.path.join(work, "store")
    os.makedirs(store)
    settings = {"R2MPU_CONFIG": conf, "R2MPU_FS_ROOT": store, "R2MPU_OPEN_ACCESS": "yes",
                "R2MPU_MAX_PART_SIZE": "16M", "R2MPU_MOUNT": "/"}
    p = run([sbin, "--listen", "systemd"], env=dict(os.environ, **settings), timeout=20)
    check("deb: --listen systemd without a socket from systemd: exit 1 and why",
          p.returncode == 1 and "LISTEN_PID" in p.stderr, (p.returncode, p.stderr))
    check_socket_activation(sbin, settings, work)
    check_lighttpd(binary, settings, work)


def check_socket_activation(sbin, settings, work):
    """The service's command line under systemd's own socket activation tool."""
    port = servers.free_port()
    args = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port]
    for k, v in settings.items():
        args += ["-E", "%s=%s" % (k, v)]
    log = open(os.path.join(work, "activate.log"), "w+")
    proc = subprocess.Popen(args + [sbin, "--listen", "systemd", "--workers", "2"],
                            stderr=log)
    try:
        servers.wait_for_port(port, proc)
        base = {"SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
                "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "POST",
                "PATH_INFO": "/activated/one.bin", "QUERY_STRING": "action=mpu-create",
                "CONTENT_LENGTH": "0"}
        answer = fastcgi.exchange(port, fastcgi.request(base))
        check("socket activation: the installed r2mpu serves on the socket systemd passed",
              b'"uploadId"' in answer, answer[:300])
        check("socket activation: two workers serve it",
              len(fastcgi_pids(proc.pid)) == 2, fastcgi_pids(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.seek(0)
    text = log.read()
    check("socket activation: SIGTERM stops it cleanly", proc.returncode == 0 and
          "stopped" in text, (proc.returncode, text[-500:]))


def fastcgi_pids(pid):
    """The children of pid (the standalone server's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return f.read().split()
    except OSError:
        return []


def check_lighttpd(binary, settings, work):
    """Uploads through real lighttpd, with the installed binary and conffile."""
    log = os.path.join(work, "lighttpd.log")
    with servers.Lighttpd(dict(settings, R2MPU_TEST_BIN=binary), log) as c:
        chunks = [data(5 << 20, 1), data(5 << 20, 2), data(1234, 3)]
        key = "installed/two-parts.bin"
        try:
            upload(c, key, chunks)
            r = expect(get(c, key), 200)
            ok, detail = r.body == b"".join(chunks), len(r.body)
        except AssertionError as e:
            ok, detail = False, e
        check("lighttpd: the installed binary and config take a 3-part upload and serve it",
              ok, detail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deb", action="store_true", help="also build and try the Debian package")
    args = ap.parse_args()
    r = make("all")
    if not check("make all (the program and the man pages)", r.returncode == 0, r.stderr):
        return 1
    check_version(BIN, "built")
    check_pages(BIN, MAN8, MAN5, "built")
    changelog = open(os.path.join(TOP, "debian", "changelog")).readline()
    check("debian/changelog's version is VERSION's (%s)" % VERSION,
          changelog.startswith("r2mpu (%s) " % VERSION), changelog)
    check_build_flags()
    check_install()
    if args.deb:
        work = tempfile.mkdtemp(prefix="r2mpu-package-")
        try:
            check_deb(work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return summary("package")


if __name__ == "__main__":
    sys.exit(main())
