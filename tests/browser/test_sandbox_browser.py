"""`debrief sandbox` in a browser: the README's tour, step by step, as a newcomer does it.

Starts the real command (``python -m bot.cli sandbox --port 0 --no-prompt``), drives the page in
headless Chromium and saves the README's screenshots to docs/images/ (``make screenshot``).
Each test follows the README's numbered steps with the README's own links and words: when the
tour changes, this changes with it.
"""

from __future__ import annotations

import json
import os
import re
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
from tests.browser.chromium import require_browser

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
# The README's links, so that what it tells a newcomer to type is what is tested.
ZOOM = "https://zoom.us/j/123456789"
MEET = "https://meet.google.com/abc-defg-hij"
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

    errors: list[str] = []

    def drain() -> None:
        # The sandbox prints a line per Slack message: keep reading so that it never blocks.
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.rstrip("\n"))

    def drain_errors() -> None:
        assert process.stderr is not None
        errors.append(process.stderr.read())

    # Each pipe has its one reader until the end (communicate() would read stdout too, and
    # close it under the other thread).
    readers = [threading.Thread(target=f, daemon=True) for f in (drain, drain_errors)]
    for reader in readers:
        reader.start()
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(timeout=5)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    err = "".join(errors)
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


async def save_screenshot(page: Any, name: str) -> None:
    """A README picture: no passing notifications, no highlight half-way through."""
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await page.mouse.move(5, VIEWPORT["height"] - 5)
    # The README's copies are rewritten on request only (`make screenshot`), so that a test run
    # leaves the tree clean; otherwise the pictures go next to the other test output.
    folder = IMAGES if os.environ.get("DEBRIEF_UPDATE_SCREENSHOT") else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / name), animations="disabled")


async def switch_user(page: Any, user_id: str) -> None:
    await page.select_option("#user-switcher", user_id)


async def command(page: Any, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.press("#composer-input", "Enter")


async def test_tour_notetakers_admitted_ended_and_failing_to_join(
    browser: Any, sandbox: RunningSandbox
) -> None:
    """README tour, steps 1 to 4 (and 6 for ephemeral answers)."""
    from playwright.async_api import expect

    page, errors = await open_page(browser, sandbox)
    await expect(page.locator("#main-title")).to_have_text("#meetings")
    await expect(page.locator("#user-tz")).to_contain_text("Europe/London")

    # 1. The join: an answer only for you, and a status that changes in place until the
    # notetaker waits in the waiting room (and stays there: nobody has admitted it).
    await command(page, f"/debrief join {ZOOM}")
    ephemeral = page.locator("#messages .message.ephemeral")
    await expect(ephemeral).to_contain_text("Only visible to you")
    await expect(ephemeral).to_contain_text("Sending a notetaker")
    status = page.locator("#messages .message:not(.ephemeral)")
    await expect(status).to_have_count(1)
    await expect(status).to_contain_text("Requested by @Ada Lovelace")
    await expect(status).to_contain_text("joining", timeout=10_000)
    await expect(status).to_contain_text("waiting room", timeout=15_000)

    # 2. Providers → Attendee → Admit: recording, and the meeting's lines arrive.
    await page.click("#providers-toggle")
    attendee = page.locator("[data-provider=attendee] .provider-row")
    bot = attendee.filter(has_text=ZOOM)
    await expect(bot).to_contain_text("waiting room")
    await expect(bot.get_by_role("button", name="Fail to join")).to_be_visible()
    await save_screenshot(page, "sandbox-waiting-room.png")
    await bot.get_by_role("button", name="Admit").click()
    await expect(status).to_contain_text("Recording", timeout=10_000)
    await expect(status.get_by_role("button", name="Make it leave")).to_be_visible()
    await expect(bot).to_contain_text("transcript lines", timeout=10_000)
    for speaker, words in CONVERSATION:
        await bot.get_by_label("Speaker").select_option(speaker)
        await bot.get_by_label("What they say").fill(words)
        await bot.get_by_role("button", name="Say", exact=True).click()
        await expect(page.locator(".toast").last).to_contain_text("Said")
        await page.evaluate("document.getElementById('toasts').replaceChildren()")

    # 3. End meeting: Meeting over, the digest in the thread, a fresh recording link.
    await bot.get_by_role("button", name="End meeting").click()
    await expect(status).to_contain_text("the transcript is in the thread", timeout=20_000)
    await expect(status).to_have_count(1)  # updated in place, never re-posted
    await page.click("#providers-close")
    await status.locator("[data-open-thread]").click()
    thread = page.locator("#thread-messages")
    await expect(thread).to_contain_text("Talk time")
    await expect(thread).to_contain_text("Length")
    await expect(thread).to_contain_text("Grace Hopper")
    await expect(thread).to_contain_text("release notes")
    # The understanding engine's summary, decisions and owned action items lead the digest.
    await expect(thread).to_contain_text("Summary")
    await expect(thread).to_contain_text("Decisions")
    await expect(thread).to_contain_text("Action items")
    assert await page.locator(".unsupported").count() == 0, "every block the app sent renders"
    digest = thread.locator(".message", has_text="Summary").first
    await digest.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    await save_screenshot(page, "sandbox-notetaker.png")
    await thread.get_by_role("button", name="Recording").click()
    link = page.locator(".message.ephemeral", has_text="Open the recording")
    await expect(link.get_by_role("link", name="Open the recording")).to_be_visible()
    await page.click("#thread-close")

    # 4. Another notetaker, and Fail to join while it waits: the status says why.
    await command(page, f"/debrief join {MEET}")
    await expect(status).to_have_count(2)
    failing = status.last
    await page.click("#providers-toggle")
    knocking = attendee.filter(has_text=MEET)
    await knocking.get_by_role("button", name="Fail to join").click()
    await expect(failing).to_contain_text("Could not join", timeout=10_000)
    await expect(knocking).to_contain_text("fatal error")
    await expect(failing.get_by_role("button", name="Make it leave")).to_have_count(0)
    await expect(status.first).to_contain_text("the transcript is in the thread")
    await page.click("#providers-close")

    # 6. Ephemeral messages are the sender's alone.
    mine = await ephemeral.count()
    assert mine >= 2, "the two join answers (the recording link is in the thread)"
    await switch_user(page, "U0GRACE")
    await expect(page.locator("#user-tz")).to_contain_text("America/New_York")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(0)
    await switch_user(page, "U0ADA")
    await expect(page.locator("#messages .message.ephemeral")).to_have_count(mine)

    assert not errors, errors
    assert any("Talk time" in line for line in sandbox.lines), "the terminal shows the digest too"
    assert any("Could not join" in line for line in sandbox.lines)


async def test_tour_otter_digests_assigned_routed_and_seen_by_the_assignee(
    browser: Any, sandbox: RunningSandbox
) -> None:
    """README tour, steps 5 and 6."""
    from playwright.async_api import expect

    assert "otter" in sandbox.config()["providers"]
    page, errors = await open_page(browser, sandbox)

    # 5. Providers → Otter.ai → Finish processing "Design review": its digest in #meetings.
    await page.click("#providers-toggle")
    otter = page.locator("[data-provider=otter] .provider-row")
    review = otter.filter(has_text="Design review")
    # Twenty minutes ago, read as the acting person reads times (not ISO 8601 in UTC).
    await expect(review).to_contain_text(re.compile(r"(Today|Yesterday) at \d{1,2}:\d\d [AP]M"))
    await review.get_by_role("button", name="Finish processing").click()
    digest = page.locator("#messages .message", has_text="Design review: digest layout")
    await expect(digest).to_contain_text("Action items", timeout=20_000)
    await expect(digest).to_contain_text("Summary")
    await expect(digest).to_contain_text("Length")
    await page.click("#providers-close")

    # Assign an action item: the message says who assigned it to whom.
    item = "Prototype overflow handling"
    await digest.locator("select.bk-users-select").first.select_option("U0GRACE")
    await expect(digest).to_contain_text("assigned by", timeout=10_000)
    await expect(digest).to_contain_text("@Grace Hopper")
    await save_screenshot(page, "sandbox.png")

    await command(page, "/debrief recent")
    post_here = page.get_by_role("button", name="Post digest here")
    recent = page.locator("#messages .message.ephemeral").filter(has=post_here)
    await expect(recent).to_contain_text("Weekly product sync", timeout=10_000)

    # /debrief summary <id>, with an id the Otter.ai panel shows.
    await page.click("#providers-toggle")
    sync = otter.filter(has_text="Weekly product sync")
    conversation_id = (await sync.locator(".conversation-id").inner_text()).strip()
    assert conversation_id
    await command(page, f"/debrief summary {conversation_id}")
    summary = page.locator("#messages .message:not(.ephemeral)", has_text="Weekly product sync")
    await expect(summary).to_contain_text("Action items", timeout=20_000)

    # /debrief route provider:otter #eng: the next Otter digest goes to #eng.
    await command(page, "/debrief route provider:otter #eng")
    await expect(page.locator("#messages .message.ephemeral").last).to_contain_text("#eng")
    await page.get_by_label("Conversation title").fill("Eng sync")
    await (
        page.locator("[data-provider=otter]")
        .get_by_role("button", name="Record a conversation")
        .click()
    )
    await otter.filter(has_text="Eng sync").get_by_role("button", name="Finish processing").click()
    await page.click("#providers-close")
    await page.locator("#channel-list [data-channel=eng]").click()
    await expect(page.locator("#messages")).to_contain_text("Eng sync", timeout=20_000)

    # 6. The assignee: a DM from Debrief, and the item in the App Home tab.
    await switch_user(page, "U0GRACE")
    await page.locator("#dm-list [data-dm=debrief]").click()
    await expect(page.locator("#messages")).to_contain_text(item, timeout=10_000)
    await page.locator("#app-list [data-app=debrief]").click()
    home = page.locator("#home")
    await expect(home).to_contain_text(item, timeout=10_000)

    await switch_user(page, "U0ADA")
    assert not errors, errors
