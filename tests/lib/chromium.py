# SPDX-License-Identifier: MIT
"""tests/lib/chromium.py: headless Chromium for the browser suites (Debian's chromium,
chromium-driver and python3-selenium; `make deps` installs them)."""

import os
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def browser():
    """A new headless Chromium, driven by selenium; the caller quit()s it. Its
    profile and temporary files live in a directory of its own, removed at
    quit() (left to themselves, chromedriver and Chromium leave a
    /tmp/org.chromium.Chromium.* behind each run)."""
    tmp = tempfile.mkdtemp(prefix="r2mpu-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--disable-extensions",
              "--user-data-dir=" + os.path.join(tmp, "profile")):
        opts.add_argument(a)
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver",
                                                  env=dict(os.environ, TMPDIR=tmp)),
                                  options=opts)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    quit = driver.quit

    def quit_and_clean():
        try:
            quit()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    driver.quit = quit_and_clean
    return driver
