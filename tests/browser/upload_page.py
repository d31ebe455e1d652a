#!/usr/bin/env python3
"""tests/browser/upload_page.py: examples/upload.html in headless Chromium against real lighttpd + r2mpu.

The page is loaded from one origin (http://localhost:PORT) and talks to the
gateway at another (http://127.0.0.1:PORT), so every request goes through
CORS for real: preflights, the exposed ETag header, credentials.
  - a 23 MiB file with a bearer token, in three parts, four at a time;
  - the same with a signed URL minted by `r2mpu.fcgi sign`;
  - resuming: an upload begun elsewhere (one part sent) is finished by the
    page from mpu-listparts alone;
  - a page from an origin that is not allowed gets nothing done.
Each object is read back and compared by SHA-256. Needs chromium,
chromium-driver and python3-selenium (Debian; make deps installs them).
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blackbox"))
from cases import MiB, data, md5, mp_etag  # noqa: E402
from clients import RESULTS, HttpClient, check, free_port, sanitizer_reports, wait_for_port  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("R2MPU_TEST_BIN") or os.path.join(TOP, "cgi-bin", "r2mpu.fcgi")
SECRET = "browser-test-secret-0123456789abcdef"
TOKEN_UPLOADS = "tok-browser-uploads-5f0e1d2c"   # rw under uploads/
TOKEN_ADMIN = "tok-browser-admin-9e8d7c6b5a"     # rwd on every key
PART = 10 * MiB                                  # the page's part size


class Gateway:
    """tests/lighttpd/serve.sh on a chosen port, with access rules and CORS."""

    def __init__(self, sandbox):
        self.port = free_port()
        tokens = os.path.join(sandbox, "tokens")
        with open(tokens, "w") as f:
            f.write("%s rw uploads/\n%s rwd *\n" % (TOKEN_UPLOADS, TOKEN_ADMIN))
        os.chmod(tokens, 0o600)
        self.log = os.path.join(sandbox, "server.log")
        self.env = dict(os.environ, PORT=str(self.port), R2MPU_PROCS="4",
                        R2MPU_FS_ROOT=os.path.join(sandbox, "store"),
                        R2MPU_MAX_PART_SIZE="16M", R2MPU_ERRORLOG=self.log,
                        R2MPU_TOKENS_FILE=tokens, R2MPU_SIGNING_SECRET=SECRET,
                        R2MPU_CORS_ORIGINS="http://localhost:%d" % self.port)
        self.env.pop("R2MPU_OPEN_ACCESS", None)

    def __enter__(self):
        self.stderr = open(self.log, "ab")
        self.proc = subprocess.Popen([os.path.join(TOP, "tests/lighttpd/serve.sh")],
                                     env=self.env, stderr=self.stderr)
        wait_for_port(self.port, self.proc)
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.stderr.close()


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def run_page(driver, gw, file_path, page_origin, endpoint, timeout=180, before_click=None,
             **fields):
    query = urllib.parse.urlencode(dict(fields, endpoint=endpoint))
    driver.get("%s/_r2mpu/upload.html?%s" % (page_origin, query))
    driver.find_element(By.ID, "file").send_keys(file_path)
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
    driver = None
    try:
        with Gateway(sandbox) as gw:
            http = HttpClient("lighttpd", "127.0.0.1", gw.port)
            page = "http://localhost:%d" % gw.port       # another origin than the gateway
            gateway = "http://127.0.0.1:%d" % gw.port
            driver = browser()

            started = time.time()
            result, log = run_page(driver, gw, file_path, page, gateway,
                                   token=TOKEN_UPLOADS, key="uploads/token.bin")
            check("bearer token, cross-origin: the page completes",
                  result == {"key": "uploads/token.bin", "etag": want_etag, "size": len(blob)},
                  (result, log))
            check("bearer token: the object reads back byte for byte",
                  object_sha256(http, "uploads/token.bin") == (200, want_sha))
            print("     (%.1f s for %d MiB)" % (time.time() - started, len(blob) // MiB))

            p = subprocess.run([BIN, "sign", "--rights", "w", "--expires-in", "10m",
                                "--max-size", "32M", "signed/browser.bin"],
                               env=dict(os.environ, R2MPU_SIGNING_SECRET=SECRET),
                               capture_output=True, text=True, timeout=30)
            signed = p.stdout.strip().split("?", 1)[1] if p.returncode == 0 else ""
            check("r2mpu.fcgi sign mints a URL", p.returncode == 0 and signed, p.stderr)
            result, log = run_page(driver, gw, file_path, page, gateway, signed=signed,
                                   key="signed/browser.bin")
            check("signed URL, cross-origin: the page completes",
                  result.get("etag") == want_etag, (result, log))
            check("signed URL: the object reads back byte for byte",
                  object_sha256(http, "signed/browser.bin") == (200, want_sha))

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
            result, log = run_page(driver, gw, file_path, page, gateway, token=TOKEN_UPLOADS,
                                   key=key, before_click=plant)
            check("resume: the page lists the parts and sends only the rest",
                  "1 of 3 parts are there" in log and result.get("etag") == want_etag,
                  (result, log))
            check("resume: the object reads back byte for byte",
                  object_sha256(http, key) == (200, want_sha))

            # A page from an origin the gateway does not allow: the preflight is
            # refused, the browser sends nothing, nothing is created.
            result, log = run_page(driver, gw, file_path, gateway, page, token=TOKEN_UPLOADS,
                                   key="uploads/refused.bin", timeout=60)
            check("refused origin: the page fails", "error" in result, (result, log))
            listed = json.loads(http.request(
                "GET", "/uploads/refused?action=mpu-list",
                headers={"Authorization": "Bearer " + TOKEN_ADMIN}).body)
            check("refused origin: no upload was created", listed["uploads"] == [], listed)
            st, _ = object_sha256(http, "uploads/refused.bin")
            check("refused origin: no object", st == 404, st)
        reports = sanitizer_reports(gw.log)
        check("no sanitizer reports", not reports, reports)
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(sandbox, ignore_errors=True)
    print("browser: %d passed, %d failed" % (RESULTS.count(True), RESULTS.count(False)))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
