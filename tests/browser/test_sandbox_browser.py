"""`debrief sandbox` in a browser: what a newcomer does, end to end, through the page.

Starts the real command (``python -m bot.cli sandbox --port 0 --no-prompt``), drives the page in
headless Chromium and saves the README's screenshot to docs/images/sandbox.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.lock import TOKEN_HEADER
from sandbox.run import plain_text
from tests.browser.chromium import require_browser

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "images" / "sandbox.png"
TMP_SCREENSHOT = Path(tempfile.gettempdir()) / "debrief-sandbox.png"
ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=abc"
VIEWPORT = {"width": 1440, "height": 900}
CONVERSATION = (
    ("Ada Lovelace", "Let's ship the Slack integration on Friday."),
    ("Grace Hopper", "Agreed. I'll write the release notes today."),
    ("Alan Turing", "I'll run the load test on PostgreSQL tonight."),
)


@dataclass
class RunningSandbox:
    """The `debrief sandbox` process, its page URL and what it printed."""

    process: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)

    def config(self) -> dict[str, Any]:
        printed = urlsplit(self.url)
        request = urllib.request.Request(
            f"{printed.scheme}://{printed.netloc}/_sandbox/config",
            headers={TOKEN_HEADER: parse_qs(printed.query)["token"][0]},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            config: dict[str, Any] = json.load(response)
        return config


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    require_browser()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0", "--no-prompt"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = RunningSandbox(process)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("Debrief sandbox: "), first + (
        process.stderr.read() if process.stderr else ""
    )
    running.url = first.split(": ", 1)[1].strip()

    def drain() -> None:
        # The sandbox prints a line per Slack message: keep reading so that it never blocks.
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        reader.join(timeout=5)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err


async def open_page(browser: Any, sandbox: RunningSandbox) -> tuple[Any, list[str]]:
    page = await browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(sandbox.url)
    from playwright.async_api import expect

    await expect(page.locator("#connection")).to_have_text("live")
    return page, errors


async def save_screenshot(page: Any) -> None:
    """The README's picture: no passing notifications, no highlight half-way through."""
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await page.mouse.move(5, VIEWPORT["height"] - 5)
    # The README's copy is rewritten on request only (`make screenshot`), so that a test run
    # leaves the tree clean; otherwise the picture goes next to the other test output.
    target = SCREENSHOT if os.environ.get("DEBRIEF_UPDATE_SCREENSHOT") else TMP_SCREENSHOT
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target), animations="disabled")


async def switch_user(page: Any, user_id: str) -> None:
    await page.select_option("#user-switcher", user_id)


async def test_join_end_the_meeting_and_read_the_digest(
    browser: Any, sandbox: RunningSandbox
) -> None:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import expect

    page, errors = await open_page(browser, sandbox)
    await expect(page.locator("#main-title")).to_have_text("#meetings")
    await expect(page.locator("#user-tz")).to_contain_text("Europe/London")

    await page.fill("#composer-input", f"/debrief join {ZOOM}")
    await page.press("#composer-input", "Enter")
    ephemeral = page.locator("#messages .message.ephemeral")
    await expect(ephemeral).to_contain_text("Only visible to you")
    await expect(ephemeral).to_contain_text("Sending a notetaker")
    status = page.locator("#messages .message:not(.ephemeral)")
    await expect(status).to_have_count(1)
    await expect(status).to_contain_text("Requested by @Ada Lovelace")

    await page.click("#providers-toggle")
    bot = page.locator("[data-provider=attendee] .provider-row").first
    end = bot.get_by_role("button", name="End meeting")
    # The sandbox's notetakers join by themselves after a few seconds; Join lets it in at once.
    join = bot.get_by_role("button", name="Join", exact=True)
    with contextlib.suppress(PlaywrightError):
        await join.click(timeout=2_000)
    await expect(end).to_be_visible(timeout=15_000)
    # The status message follows live, without a reload.
    await expect(status).to_contain_text("Recording", timeout=10_000)
    await expect(status.get_by_role("button", name="Make it leave")).to_be_visible()

    for speaker, words in CONVERSATION:
        await bot.get_by_label("Speaker").select_option(speaker)
        await bot.get_by_label("What they say").fill(words)
        await bot.get_by_role("button", name="Say", exact=True).click()
        await expect(page.locator(".toast").last).to_contain_text("Said")
        await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await end.click()
    await expect(status).to_contain_text("the transcript is in the thread", timeout=20_000)
    await expect(status).to_have_count(1)  # updated in place, never re-posted

    await page.click("#providers-close")
    await status.locator("[data-open-thread]").click()
    thread = page.locator("#thread-messages")
    await expect(thread).to_contain_text("Talk time")
    await expect(thread).to_contain_text("Grace Hopper")
    await expect(thread).to_contain_text("release notes")
    await expect(thread.get_by_role("button", name="Recording")).to_be_visible()
    assert await page.locator(".unsupported").count() == 0, "every block the app sent renders"

    # Ephemeral messages are the sender's alone.
    await switch_user(page, "U0GRACE")
    await expect(page.locator("#user-tz")).to_contain_text("America/New_York")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(0)
    await switch_user(page, "U0ADA")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(1)

    await save_screenshot(page)
    assert not errors, errors
    assert any("Talk time" in line for line in sandbox.lines), "the terminal shows the digest too"


def find_assignable(data: dict[str, Any]) -> tuple[str, str, str | None, str] | None:
    """(channel, message ts, thread parent ts, item text) of a message with a users select."""
    for channel in data["channels"]:
        candidates = [(m, None) for m in channel["messages"]]
        for parent_ts, replies in channel["threads"].items():
            candidates += [(m, parent_ts) for m in replies]
        for message, parent in candidates:
            blocks = message.get("blocks") or []
            for index, block in enumerate(blocks):
                elements = list(block.get("elements") or []) if block["type"] == "actions" else []
                if isinstance(block.get("accessory"), dict):
                    elements.append(block["accessory"])
                if any(e.get("type") == "users_select" for e in elements):
                    source = block if block.get("text") else blocks[max(0, index - 1)]
                    return channel["id"], message["ts"], parent, plain_text({"blocks": [source]})
    return None


async def test_assign_an_otter_action_item_and_see_it_in_app_home(
    browser: Any, sandbox: RunningSandbox
) -> None:
    from playwright.async_api import expect

    if "otter" not in sandbox.config()["providers"]:
        pytest.skip("needs the Otter stand-in in the sandbox World")
    page, errors = await open_page(browser, sandbox)
    await page.click("#providers-toggle")
    finish = page.locator("[data-provider=otter]").get_by_role("button", name="Finish processing")
    await expect(finish.first).to_be_visible()
    await finish.first.click()

    state = "window.sandbox.state().data"
    try:
        await page.wait_for_function(
            f"{state}.channels.some(c => c.messages.some(m => m.bot_id))", timeout=20_000
        )
    except Exception:
        pytest.skip("needs the Otter digest: nothing was posted after Otter finished processing")
    found = None
    for _ in range(8):
        found = find_assignable(await page.evaluate(state))
        if found:
            break
        await page.wait_for_timeout(250)
    if found is None:
        pytest.skip("needs assignable action items: no Assign users_select in the Otter digest")
    channel_id, ts, parent, item = found

    await page.click("#providers-close")
    name = await page.evaluate(f"{state}.channels.find(c => c.id === '{channel_id}').name")
    await page.locator(f"#channel-list [data-channel='{name}']").click()
    if parent:
        await page.locator(f"#messages .message[data-ts='{parent}'] [data-open-thread]").click()
    message = page.locator(f".message[data-ts='{ts}']").last
    assign = message.locator("select.bk-users-select").first
    await assign.select_option("U0GRACE")
    await expect(page.locator(f".message[data-ts='{ts}']").last).to_contain_text(
        "Grace Hopper", timeout=10_000
    )

    await switch_user(page, "U0GRACE")
    await page.locator("#app-list [data-app=debrief]").click()
    home = page.locator("#home")
    try:
        await expect(home.locator(".blocks")).to_be_visible(timeout=10_000)
    except AssertionError:
        pytest.skip("needs the App Home tab listing open action items")
    words = [w for w in item.split() if len(w) > 3 and w.isalpha()][:4]
    for word in words:
        await expect(home).to_contain_text(word, timeout=10_000)

    await switch_user(page, "U0ADA")
    await page.locator(f"#channel-list [data-channel='{name}']").click()
    if parent:
        await page.locator(f"#messages .message[data-ts='{parent}'] [data-open-thread]").click()
    await save_screenshot(page)
    assert not errors, errors
