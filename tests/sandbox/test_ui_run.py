"""`debrief sandbox`: one URL, a readable log of what the app posts, the terminal prompt, and a
clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import pytest_asyncio

from sandbox.claritalk import ClaritalkPlugin
from sandbox.run import Sandbox, plain_text, start_world
from sandbox.world import World, sqlite_url

ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=abc"
ROOT = Path(__file__).resolve().parents[2]


def test_plain_text_reads_like_the_message() -> None:
    message = {
        "text": "fallback",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "📝 Weekly sync"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Recording* &amp; <https://x.example|link>"},
                "fields": [{"type": "mrkdwn", "text": "_Owner_ <@U0GRACE>"}],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "<!date^1795348800^{date}|22 Nov> `bot_1`"}
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Make it leave"},
                        "confirm": {"title": {"type": "plain_text", "text": "Sure?"}},
                    },
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "Pick"},
                        "options": [{"text": {"type": "plain_text", "text": "hidden"}}],
                    },
                ],
            },
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "Thanks"},
                            {"type": "user", "user_id": "U0ADA"},
                        ],
                    }
                ],
            },
        ],
    }
    names = {"U0GRACE": "Grace Hopper", "U0ADA": "Ada Lovelace"}.get
    line = plain_text(message, lambda user: names(user) or user)
    assert line == (
        "📝 Weekly sync Recording & link Owner @Grace Hopper 22 Nov `bot_1` [Make it leave] "
        "Thanks @Ada Lovelace"
    )
    # Channels read as their names, as the page (and Slack) shows them.
    routed = {"text": "Route #1 added: meetings from otter go to <#C0ENG>, not <#C0X|x>."}
    assert plain_text(routed, channels={"C0ENG": "eng"}.__getitem__) == (
        "Route #1 added: meetings from otter go to #eng, not #x."
    )
    assert plain_text({"text": "x" * 500}).endswith("…")
    assert plain_text({"text": "a\n\n  b", "files": [{"name": "t.txt"}]}) == "a b [file t.txt]"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    started = await start_world(
        0,
        sqlite_url(tmp_path_factory.mktemp("sandbox") / "sandbox.db"),
        scheduler=False,
        stand_ins={"attendee": {"auto_join": False, "auto_transcript": False, "step_delay": 0.05}},
    )
    try:
        yield started
    finally:
        await started.stop()


async def wait_for_line(out: io.StringIO, text: str, within: float = 10.0) -> str:
    async with asyncio.timeout(within):
        while True:
            for line in out.getvalue().splitlines():
                if text in line:
                    return line
            await asyncio.sleep(0.05)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_prompt_drives_the_sandbox_and_prints_what_the_app_posts(
    world: World,
) -> None:
    out = io.StringIO()
    sandbox = Sandbox(world, out)
    sandbox.start_printing()
    try:
        await sandbox.handle("help")
        assert "/debrief <subcommand>" in out.getvalue()
        await sandbox.handle("as grace")
        assert "You are now Grace Hopper (America/New_York)." in out.getvalue()
        await sandbox.handle("as nobody")
        assert "Nobody called 'nobody'. People: ada, grace" in out.getvalue()
        await sandbox.handle("end")
        assert "No notetaker is in a meeting" in out.getvalue()
        await sandbox.handle("/zoom now")
        assert "/zoom is not installed here" in out.getvalue()

        await sandbox.handle(f"/debrief join {ZOOM}")
        answer = await wait_for_line(out, "→ only Grace Hopper")
        assert answer.startswith("#meetings  Debrief → only Grace Hopper: Sending a notetaker")
        (bot_id,) = await world.eventually(lambda: list(world.attendee.bots))
        await world.eventually(lambda: world.attendee.bots[bot_id].state == "joining")
        await sandbox.handle("admit")
        assert f"{bot_id} is in the meeting and recording" in out.getvalue()
        assert world.attendee.bots[bot_id].state == "joined_recording"
        await wait_for_line(out, "🔴 Recording")
        await sandbox.handle("admit")
        assert "No notetaker is waiting to be admitted." in out.getvalue()
        await sandbox.handle("end")
        assert f"The meeting of {bot_id} ended" in out.getvalue()
        digest = await wait_for_line(out, "#meetings › thread  Debrief:")
        assert "Talk time" in digest
        assert "#meetings  Debrief (updated): " in out.getvalue()
        await sandbox.handle("end nope")
        assert "No notetaker nope." in out.getvalue()
        await sandbox.handle("wat")
        assert "Unknown: 'wat'" in out.getvalue()
        assert not sandbox.stop.is_set()
        await sandbox.handle("quit")
        assert sandbox.stop.is_set()
    finally:
        await sandbox.stop_printing()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_page_knows_the_app_and_the_providers(world: World) -> None:
    async with (
        aiohttp.ClientSession(headers=world.lock.headers()) as http,
        http.get(f"{world.slack.url}/_sandbox/config") as response,
    ):
        config = await response.json()
    assert config["app_url"] == world.app_url
    assert config["providers"]["attendee"] == world.attendee.url
    assert set(config["providers"]) <= {"attendee", "otter", "whereby", "claritalk", "llm"}
    assert config["providers"]["llm"] == world.llm.url


async def test_a_taken_default_port_falls_back_and_a_taken_chosen_port_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr("sandbox.run.DEFAULT_PORT", port)
        world = await start_world(None, sqlite_url(tmp_path / "a.db"), scheduler=False)
        try:
            assert world.slack.url and not world.slack.url.endswith(f":{port}")
        finally:
            await world.stop()
        with pytest.raises(OSError):
            await start_world(port, sqlite_url(tmp_path / "b.db"), scheduler=False)


async def test_ctrl_c_while_starting_closes_what_had_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio.run cancels the sandbox on Ctrl-C; a world half started is stopped, not left
    holding its ports and HTTP sessions."""
    reached = asyncio.Event()

    async def hang(_plugin: ClaritalkPlugin, _app: object) -> None:
        reached.set()  # the stand-ins and the app are up by now
        await asyncio.Event().wait()

    monkeypatch.setattr(ClaritalkPlugin, "connect", hang)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    starting = asyncio.create_task(
        start_world(port, sqlite_url(tmp_path / "a.db"), scheduler=False)
    )
    await asyncio.wait_for(reached.wait(), 30)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    with socket.socket() as again:  # the page's port is free again
        again.bind(("127.0.0.1", port))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_debrief_sandbox_prints_one_url_and_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Debrief sandbox: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        printed = urlsplit(url)
        assert printed.path == "/" and parse_qs(printed.query)["token"], "the URL opens the page"
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and "HttpOnly" in page.headers["Set-Cookie"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://{printed.netloc}/", timeout=10)
        refused.value.close()
        assert refused.value.code == 403
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err, err
    assert "Interrupted: stopping" in out
    assert out.count("http://") == 0, "one URL, printed once"
