"""Headless Chromium for the viewer's tests and benchmark: the system browser, no download.

Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver), driven
through Selenium with the driver's path given, so Selenium Manager never looks for one online.
The flags keep Chromium off the network (this machine's network is closed: without them it
opens connections that are refused, many at a time) and in a fresh profile.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from robot_memory.exceptions import RobotMemoryError

__all__ = ['CHROMIUM_FLAGS', 'BrowserUnavailableError', 'find_browser', 'headless_chromium']

CHROMIUM_FLAGS = ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
                  '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--hide-scrollbars')
_BROWSERS = ('chromium', 'chromium-browser', 'google-chrome')


class BrowserUnavailableError(RobotMemoryError):
    """No headless browser (or no Selenium) on this machine."""


def find_browser() -> tuple[str, str]:
    """Paths of Chromium and ChromeDriver (`CHROMIUM`, `CHROMEDRIVER` override the search)."""
    browser = os.environ.get('CHROMIUM') or next(
        (p for p in map(shutil.which, _BROWSERS) if p), None)
    driver = os.environ.get('CHROMEDRIVER') or shutil.which('chromedriver')
    if not browser or not driver:
        raise BrowserUnavailableError(
            'headless Chromium is not installed: install the Debian packages chromium and '
            'chromium-driver (sudo apt-get install -y chromium chromium-driver), or set '
            'CHROMIUM and CHROMEDRIVER to their paths')
    return browser, driver


@contextmanager
def headless_chromium(width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A Selenium WebDriver on headless Chromium with a throw-away profile."""
    browser, driver = find_browser()
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise BrowserUnavailableError(f'selenium is not installed ({exc})') from exc
    os.environ.setdefault('SE_OFFLINE', 'true')
    with tempfile.TemporaryDirectory(prefix='robot_memory-chromium-') as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f'--user-data-dir={profile}',
                     f'--window-size={width},{height}'):
            options.add_argument(flag)
        try:
            session = webdriver.Chrome(options=options, service=Service(driver))
        except WebDriverException as exc:
            raise BrowserUnavailableError(f'Chromium did not start: {exc.msg}') from exc
        try:
            yield session
        finally:
            session.quit()
