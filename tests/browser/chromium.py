"""Where Chromium is and how the browser tests launch it.

The browser tests skip, with the reason, where Playwright or Chromium is not installed; under CI
(``CI=true``) they fail instead, since CI must run them. ``DEBRIEF_CHROMIUM`` names another
Chromium binary than Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium_path() -> str | None:
    explicit = os.environ.get("DEBRIEF_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_browser() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


def require_browser() -> None:
    """Skip the test (fail it under CI) when there is no browser to run it in."""
    problem = missing_browser()
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"{problem}; CI must run the browser tests")
    pytest.skip(problem)
