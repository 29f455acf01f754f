"""End to end: the time from Attendee's ``post_processing_completed`` webhook reaching `debrief
serve` to the digest's ``chat.postMessage`` reaching the Slack stand-in, at a steady rate.

The meetings are prepared in the Attendee stand-in first (joined, transcribed, processed,
without webhooks); then their completion webhooks are sent at a steady rate (open loop). Each
makes the app adopt the bot, post its status message, fetch the bot and its transcript from
Attendee, and post the digest in the status message's thread. Latency is measured in this
process from sending the webhook to the Slack stand-in recording the digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import (
    BOT_ID,
    DebriefProcess,
    Stage,
    completed_webhook,
    create_postgres_database,
    deliver_until_accepted,
    drop_postgres_database,
    migrate,
    prepare_meetings,
)
from bench.report import Section, main, milliseconds, table
from sandbox.slack import Change

POSTGRES_ADMIN_URL = os.environ.get(
    "DEBRIEF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class Stopwatch:
    """Notes when each bot's webhook was sent and when its digest reached Slack."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.sent: dict[str, float] = {}
        self.digested: dict[str, float] = {}
        self._status_of: dict[str, str] = {}  # status message ts -> bot id
        self.done = asyncio.Event()

    def __call__(self, change: Change) -> None:
        if change.kind != "message_posted":
            return
        message: dict[str, Any] = change.data["message"]
        thread = message.get("thread_ts")
        if thread in (None, message["ts"]):
            match = BOT_ID.search(json.dumps(message.get("blocks") or []))
            if match:
                self._status_of[message["ts"]] = match[1]
        elif thread in self._status_of:
            bot = self._status_of[thread]
            self.digested.setdefault(bot, time.perf_counter())
            if len(self.digested) >= self.expected:
                self.done.set()

    def latencies(self) -> list[float]:
        return [self.digested[b] - self.sent[b] for b in self.digested if b in self.sent]


async def one_run(
    stage: Stage, database_url: str, count: int, rate: float, log: Path
) -> dict[str, Any]:
    assert stage.attendee is not None and stage.slack is not None
    bots = await prepare_meetings(stage.attendee, count)
    watch = Stopwatch(count)
    stage.slack.workspace.listeners.append(watch)
    app = DebriefProcess(stage.env(database_url, LOG_LEVEL="WARNING"), log_path=log)
    await app.start()
    try:
        async with aiohttp.ClientSession() as session:
            sends = []
            start = time.perf_counter()
            for n, bot in enumerate(bots):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                body, headers = completed_webhook(stage.attendee, bot)
                watch.sent[bot] = time.perf_counter()
                sends.append(
                    asyncio.create_task(
                        deliver_until_accepted(
                            session, app.url + "/webhooks/attendee", body, headers
                        )
                    )
                )
            sent_in = time.perf_counter() - start
            await asyncio.gather(*sends)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.done.wait(), 60 + count / rate)
    finally:
        await app.stop()
        stage.slack.workspace.listeners.remove(watch)
    return {
        "latencies": watch.latencies(),
        "missing": count - len(watch.digested),
        "rate": count / sent_in if sent_in else 0.0,
    }


async def run(quick: bool) -> Section:
    count, rate = (40, 5.0) if quick else (600, 10.0)
    rows = []
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        for label in ("SQLite", "PostgreSQL"):
            async with Stage() as stage:
                if label == "SQLite":
                    url = f"sqlite+aiosqlite:///{Path(folder) / 'e2e.db'}"
                else:
                    try:
                        url = await create_postgres_database(POSTGRES_ADMIN_URL)
                        await migrate(url)
                    except Exception as exc:  # no server: say so in the section
                        notes.append(f"PostgreSQL not measured: {type(exc).__name__}: {exc}")
                        continue
                try:
                    result = await one_run(stage, url, count, rate, Path(folder) / f"{label}.log")
                finally:
                    if label != "SQLite":
                        await drop_postgres_database(POSTGRES_ADMIN_URL, url)
            rows.append(
                [
                    label,
                    count,
                    f"{result['rate']:.1f}",
                    milliseconds(result["latencies"]),
                    result["missing"],
                ]
            )
    body = f"""
`debrief serve` with its defaults (4 workers) except `DEBRIEF_SLACK_CHANNEL_INTERVAL=0`: all
digests go to one channel, and the production pacing of one message a second per channel would
otherwise be what is measured (two messages per meeting: 0.5 meeting/s per channel). The Slack
and Attendee stand-ins answer at once (real Slack takes ~100-300 ms a call: add ~4 calls' worth).

{table(["database", "meetings", "sent/s", "p50 / p99 / max ms", "digests missing"], rows)}

{" ".join(notes)}
"""
    return Section("e2e", "End to end: webhook to digest", body)


if __name__ == "__main__":
    raise SystemExit(main("e2e", run))
