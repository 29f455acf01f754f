"""Connecting Claritalk in a real browser: the page naming the Slack account, its *Continue* form
(allowed by the page's Content-Security-Policy, its cookie sent back, the 303 to another origin
followed), the success page, and the link refused the second time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from sandbox.world import World
from tests.e2e.conftest import world_options

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    database = tmp_path_factory.mktemp("connect") / "debrief.db"
    async with World(world_options(f"sqlite+aiosqlite:///{database}")) as started:
        yield started


async def test_connect_in_a_browser(browser: Any, world: World) -> None:
    from playwright.async_api import expect

    delivery = await world.slack.command(
        world.app_url, "/debrief", "claritalk connect", user_id="U0ADA", channel_id="C0GENERAL"
    )
    match = re.search(r"<(http[^|>]+)\|Connect your Claritalk account>", delivery.json["text"])
    assert match, delivery.json
    link = match.group(1)

    context = await browser.new_context()
    try:
        tab = await context.new_page()
        opened = await tab.goto(link)
        assert opened is not None and opened.status == 200
        await expect(tab.locator("body")).to_contain_text("Ada Lovelace (@ada)")
        await expect(tab.locator("body")).to_contain_text("“Debrief Sandbox” Slack workspace")

        await tab.get_by_role("button", name="Continue to Claritalk").click()
        await expect(tab.locator("h1")).to_contain_text("Claritalk is connected")
        await expect(tab.locator("body")).to_contain_text("Slack account of Ada Lovelace (@ada)")
        assert tab.url.startswith(f"{world.app_url}/claritalk/callback?")

        again = await tab.goto(link)
        assert again is not None and again.status == 410
        await expect(tab.locator("body")).to_contain_text("/debrief claritalk connect")
    finally:
        await context.close()
    (dm,) = await world.eventually(lambda: world.slack.dms("U0ADA"))
    assert "is connected" in dm.text
