# SPDX-License-Identifier: MIT
"""tests/lib/chromium.py: headless Chromium for the browser suites (Debian's chromium,
chromium-driver and python3-selenium; `make deps` installs them)."""

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def browser():
    """A new headless Chromium, driven by selenium; the caller quit()s it."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
