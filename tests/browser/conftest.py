"""Fixtures of the browser tests: headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.browser.chromium import CHROMIUM_ARGS, chromium_path, require_browser


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the sandbox page in headless Chromium")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium for a module; tests using it run in the module's event loop."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
