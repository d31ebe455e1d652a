#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/browser/upload_page.py: examples/upload.html in headless Chromium against real lighttpd + r2mpu.

Deployed elsewhere: a copy of the page whose <meta name="r2mpu-endpoint"> names
the gateway (http://127.0.0.1:GW) is served from another origin
(http://localhost:PAGES), so every request goes through CORS for real:
preflights, the exposed ETag header, credentials.
  - a 23 MiB file with a bearer token, in three parts, four at a time;
  - the same with a signed URL minted by `r2mpu.fcgi sign --base`, pasted whole;
  - resuming: an upload begun elsewhere (one part sent) is finished by the
    page from mpu-listparts alone;
  - a page from an origin that is not allowed gets nothing done;
  - a copy whose setting is not an http(s) URL refuses to upload.
The real page (as shipped, at the gateway's /_r2mpu/upload.html), attacked:
a listener stands for the attacker's gateway, and links to the page name it
(?endpoint=...&token=...&signed=..., #endpoint=...&token=...), as does a pasted
signed URL. The page must ignore them, say so, keep the token field empty,
upload to its own origin with the token typed, and never connect to the
attacker. Each object is read back and compared by SHA-256. Needs chromium,
chromium-driver and python3-selenium (Debian; make deps installs them).
"""

import functools
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lib import BIN, TOP
from lib.api import MiB, data, mp_etag
from lib.checks import check, sanitizer_reports, summary
from lib.chromium import browser
from lib.proxy import FaultyProxy
from lib.servers import Lighttpd, write_tokens

SECRET = "browser-test-secret-0123456789abcdef"
TOKEN_UPLOADS = "tok-browser-uploads-5f0e1d2c"   # rw under uploads/
TOKEN_ADMIN = "tok-browser-admin-9e8d7c6b5a"     # rwd on every key
TOKEN_ATTACKER = "tok-in-the-link-0badc0ffee"     # what a hostile link carries
PART = 10 * MiB                                  # the page's part size
SETTING = '<meta name="r2mpu-endpoint" content="">'   # as shipped: this page's origin


def gateway_server(sandbox, cors_origin, log):
    """lighttpd with r2mpu, with access rules (no open access) and CORS for cors_origin."""
    tokens = write_tokens(os.path.join(sandbox, "tokens"),
                          "%s rw uploads/\n%s rwd *\n" % (TOKEN_UPLOADS, TOKEN_ADMIN), "lighttpd")
    return Lighttpd({"R2MPU_PROCS": "4", "R2MPU_FS_ROOT": os.path.join(sandbox, "store"),
                     "R2MPU_MAX_PART_SIZE": "16M", "R2MPU_TOKENS_FILE": tokens,
                     "R2MPU_SIGNING_SECRET": SECRET, "R2MPU_CORS_ORIGINS": cors_origin,
                     "R2MPU_OPEN_ACCESS": "no"}, log)


class PageServer:
    """A static web server for page copies (root/_r2mpu/...) on 127.0.0.1: the
    operator's other site, which the page is deployed to."""

    def __init__(self, root):
        quiet = type("Quiet", (SimpleHTTPRequestHandler,),
                     {"log_message": lambda *a: None})
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(quiet, directory=root))
        self.port = self.server.server_address[1]
        self.root = root

    def publish(self, name, endpoint):
        """A copy of examples/upload.html as /_r2mpu/NAME, its setting set to endpoint."""
        with open(os.path.join(TOP, "examples", "upload.html")) as f:
            text = f.read()
        check("the page has one r2mpu-endpoint setting to edit (%s)" % name,
              text.count(SETTING) == 1)
        os.makedirs(os.path.join(self.root, "_r2mpu"), exist_ok=True)
        with open(os.path.join(self.root, "_r2mpu", name), "w") as f:
            f.write(text.replace(SETTING, '<meta name="r2mpu-endpoint" content="%s">' % endpoint))

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Attacker:
    """A listener standing for the attacker's gateway: it records every connection
    and what arrived on it, and answers like a permissive gateway (CORS allowed, 204),
    so a page that did connect would go on to send the token."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []     # one entry per connection: the first bytes it sent

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                got = conn.recv(65536)
            except OSError:
                got = b""
            self.seen.append(got[:600].decode("latin-1"))
            try:
                conn.sendall(b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\n"
                             b"Access-Control-Allow-Methods: GET, PUT, POST\r\n"
                             b"Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
                             b"Connection: close\r\n\r\n")
            except OSError:
                pass

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def field(driver, name):
    return driver.find_element(By.ID, name).get_attribute("value")


def run_page(driver, url, file_path, timeout=180, before_click=None, loaded=None, **typed):
    """Open url, pick the file, type the fields (key, token, signed) as a user
    would, press Upload; the page's result (JSON) and log. loaded(driver) runs
    first, on the page as the link left it."""
    driver.get(url)
    if loaded:
        loaded(driver)
    driver.find_element(By.ID, "file").send_keys(file_path)
    for name, text in typed.items():
        driver.find_element(By.ID, name).clear()
        driver.find_element(By.ID, name).send_keys(text)
    if before_click:
        before_click(driver)
    driver.find_element(By.ID, "start").click()
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_element(By.ID, "result").text.strip() != "")
    result = json.loads(driver.find_element(By.ID, "result").text)
    return result, driver.find_element(By.ID, "log").text


def object_sha256(http, key):
    r = http.request("GET", "/" + urllib.parse.quote(key) + "?action=get",
                     headers={"Authorization": "Bearer " + TOKEN_ADMIN})
    return r.status, hashlib.sha256(r.body).hexdigest()


def flaky(driver, pages, px, http, file_path, want_etag, want_sha):
    """The page's retries (503 StoreBusy, hang-ups) and its abort on a refusal."""
    pages.publish("flaky.html", "http://127.0.0.1:%d" % px.port)
    page = "http://localhost:%d/_r2mpu/flaky.html" % pages.port
    cors = {"Access-Control-Allow-Origin": "http://localhost:%d" % pages.port,
            "Access-Control-Expose-Headers": "ETag, X-R2mpu-Error"}
    busy = dict(cors, **{"X-R2mpu-Error": "StoreBusy"})
    px.faults({"op": "mpu-uploadpart", "method": "PUT", "action": "garbage", "status": 503,
               "times": 2, "body": "Service Unavailable: the store is busy",
               "content_type": "text/plain", "headers": busy},
              {"op": "mpu-uploadpart", "method": "PUT", "action": "cut", "times": 1},
              {"op": "mpu-create", "method": "POST", "action": "garbage", "status": 500,
               "times": 1, "body": "oops", "content_type": "text/plain", "headers": cors})
    key = "uploads/flaky.bin"
    result, log = run_page(driver, page, file_path, token=TOKEN_UPLOADS, key=key)
    faulted = [e["op"] for e in px.log() if e["fault"]]
    check("a path that fails 4 requests (500 on create, two 503 StoreBusy, a hang-up): the "
          "page retries them and completes", result.get("etag") == want_etag and
          len(faulted) == 4 and log.count("again in") >= 3, (result, faulted, log))
    check("... the object reads back byte for byte", object_sha256(http, key) == (200, want_sha))
    progress = driver.find_element(By.ID, "progress").text
    check("... the page shows bytes and rate", progress.startswith("23.0 MiB of 23.0 MiB (100%)")
          and "MiB/s" in progress, progress)

    px.faults({"op": "mpu-uploadpart", "method": "PUT", "action": "garbage", "status": 403,
               "skip": 1, "times": 1, "body": "Forbidden: this token may not write there",
               "content_type": "text/plain",
               "headers": dict(cors, **{"X-R2mpu-Error": "AccessDenied"})})
    px.forget()
    key = "uploads/refused.bin"
    result, log = run_page(driver, page, file_path, token=TOKEN_UPLOADS, key=key)
    r = http.request("GET", "/uploads/?action=mpu-list",
                     headers={"Authorization": "Bearer " + TOKEN_ADMIN})
    left = [u for u in r.json().get("uploads", []) if u["key"] == key] if r.status == 200 else None
    check("a 403 on a part: no retry, the upload fails with the gateway's message and is "
          "aborted", "may not write there" in result.get("error", "") and
          "aborted" in log and "again in" not in log and left == [] and
          len([e for e in px.log() if e["op"] == "mpu-abort" and e["method"] == "DELETE"]) == 1,
          (result, log, left))
    px.clear()


def main():
    sandbox = tempfile.mkdtemp(prefix="r2mpu-browser-")
    os.chmod(sandbox, 0o755)
    chunks = [data(PART, 71), data(PART, 72), data(3 * MiB + 17, 73)]
    blob = b"".join(chunks)
    file_path = os.path.join(sandbox, "photo.bin")
    with open(file_path, "wb") as f:
        f.write(blob)
    want_sha = hashlib.sha256(blob).hexdigest()
    want_etag = mp_etag(chunks)
    small = data(MiB + 5, 74)       # the attacked uploads: one part is enough
    small_path = os.path.join(sandbox, "note.bin")
    with open(small_path, "wb") as f:
        f.write(small)
    small_sha = hashlib.sha256(small).hexdigest()
    driver = None
    log = os.path.join(sandbox, "server.log")
    try:
        with Attacker() as evil, PageServer(os.path.join(sandbox, "site")) as pages, \
                gateway_server(sandbox, "http://localhost:%d" % pages.port, log) as http:
            gateway = "http://127.0.0.1:%d" % http.port
            attacker = "http://127.0.0.1:%d" % evil.port
            # The operator's deployment on another site: the page names the gateway.
            pages.publish("upload.html", gateway)
            page = "http://localhost:%d/_r2mpu/upload.html" % pages.port
            driver = browser()

            started = time.time()
            result, log = run_page(driver, page, file_path, token=TOKEN_UPLOADS,
                                   key="uploads/token.bin")
            check("bearer token, page deployed on another origin: the page completes",
                  result == {"key": "uploads/token.bin", "etag": want_etag, "size": len(blob)},
                  (result, log))
            check("bearer token: the object reads back byte for byte",
                  object_sha256(http, "uploads/token.bin") == (200, want_sha))
            print("     (%.1f s for %d MiB)" % (time.time() - started, len(blob) // MiB))

            p = subprocess.run([BIN, "sign", "--rights", "w", "--expires-in", "10m",
                                "--max-size", "32M", "--base", gateway, "signed/browser.bin"],
                               env=dict(os.environ, R2MPU_SIGNING_SECRET=SECRET),
                               capture_output=True, text=True, timeout=30)
            signed = p.stdout.strip()
            check("r2mpu.fcgi sign mints a URL", p.returncode == 0 and signed, p.stderr)
            # Pasted whole, as printed: the key comes from its path.
            result, log = run_page(driver, page, file_path, signed=signed)
            check("signed URL pasted whole, another origin: the page completes",
                  result == {"key": "signed/browser.bin", "etag": want_etag, "size": len(blob)},
                  (result, log))
            check("signed URL: the object reads back byte for byte",
                  object_sha256(http, "signed/browser.bin") == (200, want_sha))

            # As printed without --base (a path), and as its query alone with the key typed.
            for form, key in (("path", "signed/path.bin"), ("query", "signed/query.bin")):
                p = subprocess.run([BIN, "sign", "--rights", "w", "--expires-in", "10m", key],
                                   env=dict(os.environ, R2MPU_SIGNING_SECRET=SECRET),
                                   capture_output=True, text=True, timeout=30)
                url = p.stdout.strip()
                typed = {"signed": url} if form == "path" else \
                    {"signed": url.split("?", 1)[1], "key": key}
                result, log = run_page(driver, page, small_path, **typed)
                check("signed URL pasted as its %s: the page completes" % form,
                      result.get("key") == key and object_sha256(http, key) == (200, small_sha),
                      (result, log, url))

            # Resume: an upload with its first part, begun by someone else; the page
            # is told only the upload id (as if it had crashed), and lists the parts.
            auth = {"Authorization": "Bearer " + TOKEN_UPLOADS}
            key = "uploads/resumed.bin"
            uid = json.loads(http.request("POST", "/%s?action=mpu-create" % key, headers=auth,
                                          body=b"").body)["uploadId"]
            r = http.request("PUT", "/%s?action=mpu-uploadpart&uploadId=%s&partNumber=1"
                             % (key, uid), headers=auth, body=chunks[0])
            check("resume: the first part is sent outside the page", r.status == 200, r)
            mtime_ms = int(os.stat(file_path).st_mtime * 1000)
            slot = "r2mpu:%s:%d:%d" % (key, len(blob), mtime_ms)

            def plant(d):
                d.execute_script("localStorage.setItem(arguments[0], arguments[1])", slot, uid)
            result, log = run_page(driver, page, file_path, token=TOKEN_UPLOADS, key=key,
                                   before_click=plant)
            check("resume: the page lists the parts and sends only the rest",
                  "1 of 3 parts are there" in log and result.get("etag") == want_etag,
                  (result, log))
            check("resume: the object reads back byte for byte",
                  object_sha256(http, key) == (200, want_sha))

            # A path that fails on purpose (tests/s3/faulty_proxy.py between the page
            # and the gateway): answers a page can read carry CORS headers, as r2mpu's do.
            with FaultyProxy("127.0.0.1:%d" % http.port,
                             os.path.join(sandbox, "proxy.log")) as px:
                flaky(driver, pages, px, http, file_path, want_etag, want_sha)

            # The same page from an origin the gateway does not allow: the preflight
            # is refused, the browser sends nothing, nothing is created.
            result, log = run_page(driver, "http://127.0.0.1:%d/_r2mpu/upload.html" % pages.port,
                                   file_path, token=TOKEN_UPLOADS, key="uploads/refused.bin",
                                   timeout=60)
            check("refused origin: the page fails", "error" in result, (result, log))
            listed = json.loads(http.request(
                "GET", "/uploads/refused?action=mpu-list",
                headers={"Authorization": "Bearer " + TOKEN_ADMIN}).body)
            check("refused origin: no upload was created", listed["uploads"] == [], listed)
            st, _ = object_sha256(http, "uploads/refused.bin")
            check("refused origin: no object", st == 404, st)

            # A copy whose setting is not an http(s) URL uploads nothing.
            pages.publish("bad.html", "javascript:alert(1)")
            driver.get("http://localhost:%d/_r2mpu/bad.html" % pages.port)
            check("a bad r2mpu-endpoint setting: said, and Upload is disabled",
                  "uploads nothing" in driver.find_element(By.ID, "notice").text and
                  not driver.find_element(By.ID, "start").is_enabled(),
                  driver.find_element(By.ID, "notice").text)

            # A gateway below a path: keys are below it, and a key cannot climb out.
            pages.publish("below.html", gateway + "/uploads/")
            below = "http://localhost:%d/_r2mpu/below.html" % pages.port
            result, log = run_page(driver, below, small_path, token=TOKEN_UPLOADS,
                                   key="below.bin")
            check("an endpoint with a path: the key is below it",
                  result.get("key") == "below.bin" and
                  object_sha256(http, "uploads/below.bin") == (200, small_sha), (result, log))
            result, log = run_page(driver, below, small_path, token=TOKEN_UPLOADS,
                                   key="../climbed.bin", timeout=60)
            check("an endpoint with a path: a key with .. is refused before it is sent",
                  "segments" in result.get("error", "") and
                  object_sha256(http, "climbed.bin")[0] == 404, (result, log))

            # The real page, attacked: links that name the attacker's gateway and
            # carry credentials, in the query and in the fragment.
            real = gateway + "/_r2mpu/upload.html"
            hostile = urllib.parse.urlencode({
                "endpoint": attacker, "token": TOKEN_ATTACKER,
                "signed": "r2mpu-rights=w&r2mpu-expires=9999999999&r2mpu-signature=00"})
            for name, link, key in (
                    ("query", "%s?%s&key=uploads/attack-query.bin" % (real, hostile),
                     "uploads/attack-query.bin"),
                    ("fragment", "%s#%s" % (real, hostile), "uploads/attack-fragment.bin")):
                seen, before = {}, len(evil.seen)

                def as_linked(d):
                    seen["token"], seen["signed"] = field(d, "token"), field(d, "signed")
                    seen["key"] = field(d, "key")
                    seen["notice"] = d.find_element(By.ID, "notice").text
                    seen["endpoint"] = d.find_element(By.ID, "endpoint").text
                    seen["address"] = d.current_url
                typed = {} if name == "query" else {"key": key}
                result, log = run_page(driver, link, small_path, loaded=as_linked,
                                       token=TOKEN_UPLOADS, **typed)
                check("hostile link (%s): the token and signed URL fields stay empty" % name,
                      seen["token"] == "" and seen["signed"] == "", seen)
                check("hostile link (%s): the page says it ignores them, and shows its gateway"
                      % name, "ignored" in seen["notice"] and "endpoint" in seen["notice"] and
                      seen["endpoint"] == gateway, seen)
                check("hostile link (%s): the credentials leave the address" % name,
                      TOKEN_ATTACKER not in seen["address"] and
                      str(evil.port) not in seen["address"], seen["address"])
                check("hostile link (%s): the upload goes to the page's own gateway" % name,
                      result == {"key": key, "etag": mp_etag([small]), "size": len(small)} and
                      object_sha256(http, key) == (200, small_sha), (result, log))
                check("hostile link (%s): nothing reached the attacker" % name,
                      evil.seen[before:] == [], evil.seen[before:])
                if name == "query":
                    check("hostile link (query): ?key= still fills the key", seen["key"] == key,
                          seen)

            # A signed URL for another gateway, pasted: refused, visibly, unsent.
            forged = "%s/uploads/x.bin?r2mpu-rights=w&r2mpu-expires=9999999999" \
                     "&r2mpu-signature=%s" % (attacker, "ab" * 32)
            result, log = run_page(driver, real, small_path, signed=forged, timeout=60)
            check("a signed URL naming another gateway: refused visibly",
                  "another gateway" in result.get("error", ""), (result, log))

            time.sleep(0.5)    # anything in flight would have reached the listener by now
            check("the attacker's listener saw no connection at all", evil.seen == [],
                  evil.seen)
        reports = sanitizer_reports(log)
        check("no sanitizer reports", not reports, reports)
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("browser")


if __name__ == "__main__":
    sys.exit(main())
