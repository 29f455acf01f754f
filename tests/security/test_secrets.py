"""Secrets stay secret: a real `debrief serve` with every secret setting configured, logging at
DEBUG, runs a scenario with failures in it; no secret then appears in its log, in the database
file (SQLite with its WAL), or in anything it posted to Slack.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bench.harness import (
    DIGEST_CHANNEL,
    DebriefProcess,
    Stage,
    deliver_until_accepted,
    queue_stats,
    state_webhook,
)
from bot.config import Settings
from bot.plugins import installed

pytestmark = pytest.mark.slow

DEAD_END = "http://127.0.0.1:9"  # nothing listens: configured providers are never reached


def secret_names() -> list[str]:
    """The environment names of every SecretStr setting: the core's and every installed
    plug-in's (the providers' and the model endpoint's)."""
    fields = list(Settings.model_fields.values())
    for plugin in installed():
        fields.extend(plugin.settings.model_fields.values())
    return sorted(
        str(field.alias)
        for field in fields
        if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
    )


def every_secret(stage: Stage) -> dict[str, str]:
    assert stage.slack is not None and stage.attendee is not None
    # SLACK_APP_TOKEN would move Slack to Socket Mode; that path's redaction is checked in
    # tests/bot/test_socket_mode.py.
    names = [n for n in secret_names() if n != "SLACK_APP_TOKEN"]
    values = {name: f"s3cret-{name.lower()}-{secrets.token_hex(10)}" for name in names}
    values |= {
        "SLACK_BOT_TOKEN": stage.slack.bot_token,
        "SLACK_SIGNING_SECRET": stage.slack.signing_secret,
        "ATTENDEE_API_KEY": stage.attendee.api_key,
        "ATTENDEE_WEBHOOK_SECRET": stage.attendee.webhook_secret,
        "DEBRIEF_ENCRYPTION_KEYS": ",".join(Fernet.generate_key().decode() for _ in range(2)),
    }
    return values


def leaks(haystack: bytes, values: dict[str, str]) -> list[str]:
    found = []
    for name, value in values.items():
        forms = {value, *value.split(",")}
        forms |= {base64.b64encode(v.encode()).decode() for v in set(forms)}
        if any(f.encode() in haystack for f in forms if len(f) >= 8):
            found.append(name)
    return found


async def test_no_secret_in_logs_database_or_slack(tmp_path: Path) -> None:
    database = tmp_path / "debrief.db"
    async with Stage() as stage:
        assert stage.slack is not None and stage.attendee is not None
        values = every_secret(stage)
        assert {"SLACK_BOT_TOKEN", "OTTER_API_KEY", "CLARITALK_CLIENT_SECRET"} <= set(values)
        assert "DEBRIEF_LLM_API_KEY" in values
        env = stage.env(
            f"sqlite+aiosqlite:///{database}",
            **values,
            LOG_LEVEL="DEBUG",
            OTTER_API_URL=DEAD_END,
            WHEREBY_API_URL=DEAD_END,
            CLARITALK_API_URL=DEAD_END,
            DEBRIEF_LLM_URL=f"{DEAD_END}/v1",
            DEBRIEF_LLM_MODEL="llama3.1:8b",
            CLARITALK_CLIENT_ID="debrief-client",
            DEBRIEF_WORKERS="2",
            DEBRIEF_JOB_POLL_SECONDS="0.2",
            DEBRIEF_JOB_BACKOFF_BASE="0.1",
            DEBRIEF_JOB_MAX_ATTEMPTS="2",
        )
        app = DebriefProcess(env, log_path=tmp_path / "serve.log")
        await app.start()
        try:
            await scenario(stage, app)
        finally:
            await app.stop()
        posted = repr(stage.slack.snapshot()).encode()

    log, stored = read_outputs(tmp_path)
    assert b"attendee.digest" in log and b"refused (401)" in log, "the scenario ran"
    assert leaks(log, values) == [], "secrets in the log"
    assert b"attendee_bots" in stored
    assert leaks(stored, values) == [], "secrets in the database file"
    assert leaks(posted, values) == [], "secrets posted to Slack"


async def scenario(stage: Stage, app: DebriefProcess) -> None:
    """A notetaker from request to digest, with forged webhooks and failing providers on the way."""
    slack, attendee = stage.slack, stage.attendee
    assert slack is not None and attendee is not None
    attendee.configure_webhook(app.url + "/webhooks/attendee")
    attendee.fail(r"^/api/v1/bots$", status=500, times=1)  # the create is retried after a 500
    delivery = await slack.command(
        app.url, "/debrief", "join https://zoom.us/j/123456789", channel_id=DIGEST_CHANNEL
    )
    assert delivery.status == 200, delivery.body
    bots: Any = await eventually(lambda: list(attendee.bots))
    bot_id = bots[0]
    attendee.join(bot_id)
    attendee.say(bot_id, "Ada Lovelace", "The launch is on Friday.")
    slack.fail(r"^/api/chat[.]update$", status=500, times=2)
    attendee.fail(r"/transcript$", status=401, times=1)  # the digest job fails once, loudly
    attendee.end_meeting(bot_id)
    await slack.command(app.url, "/debrief", "bots", channel_id=DIGEST_CHANNEL)
    slack.fail(
        r"^/api/chat[.]postMessage$",
        status=200,
        times=1,
        body={"ok": False, "error": "invalid_auth"},
    )
    async with aiohttp.ClientSession() as session:
        body, headers = state_webhook(attendee, "bot_unknown", {"slack_channel_id": "C0HR"}, "x")
        forged = {**headers, "X-Webhook-Signature": "Zm9yZ2Vk"}
        async with session.post(app.url + "/webhooks/attendee", data=body, headers=forged) as r:
            assert r.status == 401
        await deliver_until_accepted(session, app.url + "/webhooks/attendee", body, headers)
    await attendee.settle(15)
    async with asyncio.timeout(30):
        while True:
            if not (await queue_stats(app.env["DATABASE_URL"])).get("queued"):
                return
            await asyncio.sleep(0.2)


async def eventually(check: Any, within: float = 15.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = check()
            if result:
                return result
            await asyncio.sleep(0.05)


def read_outputs(folder: Path) -> tuple[bytes, bytes]:
    """The server's log, and the database with its WAL and shared-memory files."""
    stored = b"".join(p.read_bytes() for p in sorted(folder.glob("debrief.db*")))
    return (folder / "serve.log").read_bytes(), stored
