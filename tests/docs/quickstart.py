#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/docs/quickstart.py: the README's quick start, run as written against `make run`.

    quickstart.py [--keep]

1. The pages (README.md, doc/*.md): every fenced shell block is marked on the
   line before its fence, <!-- quick-start --> (README only) or
   <!-- excerpt: why -->; no marker stands before anything else; every
   relative link reaches its file and heading; every Apache block passes
   `apache2 -t` (/opt/r2mpu, where the docs put a clone, read as the copy).
2. The checkout's files (tracked, and new ones git does not ignore) are
   copied into a temporary directory, as a fresh clone has them. `make run`
   starts there, as a newcomer starts it, on a free port (PORT) with the
   store in a temporary directory (R2MPU_FS_ROOT).
3. Each quick-start block runs in order with `bash -e` in the copy, with PORT
   set: each must exit 0. Then what the tour says is checked (CLAIMS), and
   `make run` is stopped as Ctrl-C stops it, its r2mpu processes with it.

See doc/testing.md. --keep leaves the temporary directory for a look.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import pages
from lib import TOP, api, procs, servers
from lib.checks import RESULTS, Logs, check, leftovers, summary
from lib.clients import HttpClient

BLOCK_SECONDS = 120
# The variables through which the calling make, or a suite's settings, would
# reach `make run` or a block: a newcomer's terminal has none of them.
NOT_PASSED = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKE_TERMOUT", "MAKE_TERMERR")


def terminal_env(port, **more):
    """The environment of a newcomer's terminal, with PORT (and more) set."""
    env = {k: v for k, v in os.environ.items()
           if k not in NOT_PASSED and not k.startswith("R2MPU_")}
    env["PORT"] = str(port)
    env.update(more)
    return env


def check_pages():
    blocks = pages.blocks(TOP)
    shell = [b for b in blocks if b.shell]
    unmarked = [b.where(TOP) for b in shell if b.marker is None]
    check("every shell block is marked quick-start or excerpt (%d blocks)" % len(shell),
          not unmarked, "no marker on the line before: " + ", ".join(unmarked))
    readme = os.path.join(TOP, "README.md")
    elsewhere = [b.where(TOP) for b in shell if b.marker == "quick-start" and b.path != readme]
    check("quick-start blocks are in the README only", not elsewhere, ", ".join(elsewhere))
    stray = pages.stray_markers(TOP)
    check("every marker stands before a shell block", not stray, ", ".join(stray))
    broken = pages.broken_links(TOP)
    check("every relative link reaches its file and heading", not broken, "; ".join(broken))
    return [b for b in shell if b.marker == "quick-start"], [b for b in blocks if b.lang == "apache"]


def check_apache(blocks, clone, tmp):
    """Each Apache block, as written, in a server config of its own: apache2 -t."""
    if shutil.which("apache2") is None:
        print("skip apache2 -t of the pages' Apache blocks: apache2 is not installed")
        return
    modules = sorted({m for ms in servers.APACHE_MODULES.values() for m in ms})
    for n, b in enumerate(blocks):
        d = os.path.join(tmp, "apache-%d" % n)
        os.makedirs(d)
        with open(os.path.join(d, "site.conf"), "w") as f:
            f.write(b.text.replace("/opt/r2mpu", clone))
        with open(os.path.join(d, "httpd.conf"), "w") as f:
            f.write("ServerRoot %s\nServerName 127.0.0.1\nPidFile %s/pid\nDefaultRuntimeDir %s\n"
                    "ErrorLog %s/error.log\n" % (d, d, d, d))
            for m in ["mpm_event", "authz_core"] + modules:
                f.write("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so\n" % (m, m))
            f.write("Include %s/site.conf\n" % d)
        p = subprocess.run(["apache2", "-t", "-f", os.path.join(d, "httpd.conf")],
                           capture_output=True, text=True)
        check("apache2 -t: the Apache block at %s" % b.where(TOP), p.returncode == 0,
              (p.stdout + p.stderr).strip())


def copy_checkout(dest):
    """The files a fresh clone would have, as they are in this checkout now."""
    names = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], check=True, capture_output=True).stdout
    for name in sorted(set(names.decode().split("\0")) - {""}):
        src, dst = os.path.join(TOP, name), os.path.join(dest, name)
        if not os.path.lexists(src):
            continue      # deleted in the checkout, not yet in git
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)


def block_having(ran, text):
    """The (block, output) of the quick-start block whose text holds `text`."""
    for block, out in ran:
        if text in block.text:
            return block, out
    raise AssertionError("no quick-start block holds %r: the tour changed, change CLAIMS" % text)


# What the tour says, each checked against the gateway and the files the blocks
# left in the copy: (what, function(ran, gw, clone) -> (ok, detail)).
def uploaded_object(ran, gw, clone):
    block_having(ran, "action=mpu-complete")
    local = open(os.path.join(clone, "demo.bin"), "rb").read()
    parts = [open(os.path.join(clone, p), "rb").read() for p in ("part.aa", "part.ab")]
    r = gw.request("GET", "/tour/demo.bin?action=get")
    want = '"%s"' % api.mp_etag(parts)
    return (r.status == 200 and r.body == local and len(local) == 6 * api.MiB
            and r.header("etag") == want), "%r, ETag wanted %s" % (r, want)


def head_shows_etag(ran, gw, clone):
    _, out = block_having(ran, "curl -sfI")
    parts = [open(os.path.join(clone, p), "rb").read() for p in ("part.aa", "part.ab")]
    return re.search(r'(?im)^etag: "%s"' % re.escape(api.mp_etag(parts)), out) and \
        re.search(r"(?im)^content-length: %d\b" % (6 * api.MiB), out), out


def error_answer(ran, gw, clone):
    _, out = block_having(ran, "nothing-here")
    return (re.search(r"^HTTP/\S+ 404", out) and re.search(r"(?im)^x-r2mpu-error: NoSuchKey", out)
            and out.rstrip().endswith("Object Not Found")), out


def nothing_pending(ran, gw, clone):
    _, out = block_having(ran, "action=mpu-list")
    return re.fullmatch(r'\{"prefix":"tour/","uploads":\[\],"truncated":false\}\s*', out), out


def signed_url(ran, gw, clone):
    _, out = block_having(ran, "r2mpu.fcgi sign")
    return re.fullmatch(r"http://127\.0\.0\.1:%d/videos/talk\.mp4\?r2mpu-rights=w&r2mpu-expires=\d+"
                        r"&r2mpu-signature=[0-9a-f]{64}\s*" % gw.port, out), out


CLAIMS = [
    ("the uploaded object reads back as the file, with the ETag of its two parts", uploaded_object),
    ("the HEAD shows that ETag and the size", head_shows_etag),
    ("a missing key: 404, X-R2mpu-Error: NoSuchKey, Object Not Found", error_answer),
    ("mpu-list: nothing pending below tour/ after the tour", nothing_pending),
    ("sign prints a signed URL for the key, below --base", signed_url),
]


def run_blocks(blocks, clone, scripts, port):
    """Each block in order, bash -e, in the clone: [(block, stdout)]."""
    ran = []
    for n, b in enumerate(blocks):
        script = os.path.join(scripts, "block-%d.sh" % n)
        with open(script, "w") as f:
            f.write(b.text)
        try:
            p = subprocess.run(["bash", "-e", script], cwd=clone, env=terminal_env(port),
                               capture_output=True, text=True, timeout=BLOCK_SECONDS)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or "", e.stderr or ""
        check("quick-start block %s exits 0" % b.where(TOP), rc == 0,
              "exit %s\n%s\n---- its stdout:\n%s\n---- its stderr:\n%s" % (rc, b.text, out, err))
        ran.append((b, out))
    return ran


def stop(proc, binary):
    """Ctrl-C: SIGINT to make run's process group. Its r2mpu processes must go too."""
    pids = procs.r2mpu_pids(proc.pid, binary)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    check("make run stops on Ctrl-C, with its %d r2mpu processes" % len(pids),
          pids and procs.exited(pids, 10), "r2mpu processes %s" % pids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true", help="leave the temporary directory")
    args = ap.parse_args()
    quick, apache = check_pages()
    check("the README has quick-start blocks", quick)
    tmp = tempfile.mkdtemp(prefix="r2mpu-docs-")
    clone, store, scripts = (os.path.join(tmp, d) for d in ("r2mpu", "store", "scripts"))
    os.makedirs(scripts)
    try:
        copy_checkout(clone)
        check_apache(apache, clone, tmp)
        if all(RESULTS):
            port = servers.free_port()
            log = os.path.join(tmp, "make-run.log")
            Logs.watch(log)
            with open(log, "ab") as out:
                proc = subprocess.Popen(["make", "run"], cwd=clone, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        env=terminal_env(port, R2MPU_FS_ROOT=store))
            try:
                # make run may build first, and install what is missing.
                servers.wait_for_port(port, proc, timeout=600)
                print("make run serves on 127.0.0.1:%d (its output: %s)" % (port, log), flush=True)
                ran = run_blocks(quick, clone, scripts, port)
                gw = HttpClient("make run", "127.0.0.1", port)
                for what, claim in CLAIMS:
                    try:
                        ok, detail = claim(ran, gw, clone)
                    except (AssertionError, OSError) as e:
                        ok, detail = False, e
                    check("the tour: " + what, ok, detail)
                check("the store holds no leftovers", not leftovers(store), leftovers(store))
            except RuntimeError as e:
                check("make run serves on 127.0.0.1:%d" % port, False, e)
            finally:
                if proc.poll() is None:
                    stop(proc, os.path.join(clone, "cgi-bin", "r2mpu.fcgi"))
        else:
            print("the pages fail their checks: make run not started")
    finally:
        if args.keep:
            print("kept:", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return summary("docs")


if __name__ == "__main__":
    sys.exit(main())
