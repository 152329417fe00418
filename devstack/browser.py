"""Debian's headless chromium driven by selenium through Debian's chromedriver, kept on this machine.
Shared by the browser tests (tests/integration/test_browser.py) and the render benchmark
(bench/render.py), so both measure and check the same browser.

Nothing leaves the machine: chromium sends everything but loopback to a dead proxy (so a page that
fetched anything from outside logs a console error), background networking and component updates are
off, and Selenium Manager, which would download a driver or a browser, is never run (both paths are
given, and a call to it raises). `toolchain/browser.sh` installs chromium and chromedriver.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.selenium_manager import SeleniumManager

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1400, 1000)
PAGE_LOAD_SECONDS = 60
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}",
    # Anything not loopback goes to a closed port (Chromium never proxies loopback): no traffic leaves.
    "--proxy-server=http://127.0.0.1:9", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-default-apps", "--disable-sync",
]
#: A full-page screenshot is cut at this height, so a runaway page cannot make a huge file.
MAX_SCREENSHOT_HEIGHT = 6000


def missing() -> str | None:
    """Why the browser cannot be started, in words; None when chromium and chromedriver are there."""
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return None
    return (f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); "
            "install them with: bash toolchain/browser.sh")


def _no_selenium_manager(*_):
    raise AssertionError("Selenium Manager was asked for a driver: it would download one")


def chrome(page_load_seconds: float = PAGE_LOAD_SECONDS) -> webdriver.Chrome:
    """A fresh headless chromium (new profile, empty cache) with its console log kept (`get_log("browser")`)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    saved = SeleniumManager.__dict__["binary_paths"]
    SeleniumManager.binary_paths = _no_selenium_manager
    try:
        browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    finally:
        SeleniumManager.binary_paths = saved
    browser.set_page_load_timeout(page_load_seconds)
    return browser


def screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    """Save the whole page, not only the window, as a PNG at `path` (folders made as needed)."""
    width, height = driver.execute_script(
        "const e = document.documentElement;"
        "return [Math.max(e.scrollWidth, e.clientWidth), Math.max(e.scrollHeight, e.clientHeight)];")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SCREENSHOT_HEIGHT), "scale": 1},
    })
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


#: In the page: whether Dash has yet to render the page's layout, or any component waits on a callback
#: (or a dcc.Loading spinner shows).
_BUSY = ("const page = document.getElementById('_pages_content');"
         "return document.readyState !== 'complete' || !page || !page.children.length || document.querySelector("
         "'[data-dash-is-loading=\"true\"], .dash-spinner, ._dash-loading-callback') !== null;")


def settle(driver: webdriver.Chrome, timeout: float = 15, quiet: float = 0.7) -> bool:
    """Wait, at most `timeout` s, until no callback is in flight and nothing changed for `quiet` s
    (Plotly's transitions take 0.5 s), so a screenshot shows the page finished. Returns whether it
    settled; never raises on a timeout: a screenshot of a page still loading is still a screenshot."""
    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        if driver.execute_script(_BUSY):
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return True
        time.sleep(0.1)
    return False
