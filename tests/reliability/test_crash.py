"""`debrief serve` killed with SIGKILL while meetings' digests are being processed: after a
restart every meeting has exactly one status message and one digest, none lost, none doubled.

The suite runs 60 meetings per database; set ``DEBRIEF_CRASH_MEETINGS=1000`` for the issue's
full run (about a minute per database). The Slack stand-in answers 50 ms after doing the work,
as Slack does, so that most kills land between a post reaching Slack and its answer reaching
the app: the window in which a naive "post, then remember" posts a twin on retry.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.harness import (
    DebriefProcess,
    Stage,
    completed_webhook,
    dead_jobs,
    deliver_until_accepted,
    posts_by_bot,
    prepare_meetings,
    queue_stats,
)
from sandbox.slack import Change

pytestmark = pytest.mark.slow

MEETINGS = int(os.environ.get("DEBRIEF_CRASH_MEETINGS", "60"))
KILLS = 2


def crash_env(stage: Stage, database_url: str) -> dict[str, str]:
    return stage.env(
        database_url,
        DEBRIEF_WORKERS="4",
        # A dead worker's job is picked up again once its lease runs out.
        DEBRIEF_JOB_LEASE_SECONDS="2",
        DEBRIEF_JOB_POLL_SECONDS="0.2",
        DEBRIEF_JOB_BACKOFF_BASE="0.2",
        DEBRIEF_RUN_SCHEDULER="false",
    )


class DigestCounter:
    """Counts thread replies posted in Slack (the digests), as they happen."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    def __call__(self, change: Change) -> None:
        message: dict[str, Any] = change.data.get("message") or {}
        if change.kind == "message_posted" and message.get("thread_ts") not in (
            None,
            message["ts"],
        ):
            self.count += 1
            self.changed.set()

    async def reach(self, target: int, within: float) -> None:
        async with asyncio.timeout(within):
            while self.count < target:
                self.changed.clear()
                await self.changed.wait()


async def settle(database_url: str, within: float) -> dict[str, int]:
    async with asyncio.timeout(within):
        while True:
            stats = await queue_stats(database_url)
            if not stats.get("queued") and not stats.get("running"):
                return stats
            await asyncio.sleep(0.2)


async def test_sigkill_mid_processing_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with Stage(slack_latency=0.05) as stage:
        assert stage.attendee is not None and stage.slack is not None
        bots = await prepare_meetings(stage.attendee, MEETINGS)
        counter = DigestCounter()
        stage.slack.workspace.listeners.append(counter)
        app = DebriefProcess(crash_env(stage, database_url), log_path=tmp_path / "serve.log")
        await app.start()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                gate = asyncio.Semaphore(8)

                async def deliver(bot_id: str) -> None:
                    body, headers = completed_webhook(stage.attendee, bot_id)  # type: ignore[arg-type]
                    async with gate:
                        await deliver_until_accepted(
                            session, app.url + "/webhooks/attendee", body, headers, within=120
                        )

                deliveries = asyncio.gather(*(deliver(b) for b in bots))
                for kill in range(1, KILLS + 1):
                    # Killed while a share of the digests is out and the rest in the works.
                    await counter.reach(MEETINGS * kill // (KILLS + 1), within=60 + MEETINGS / 5)
                    app.kill()
                    await app.wait_killed()
                    await app.start()
                await deliveries
                await counter.reach(MEETINGS, within=60 + MEETINGS / 5)
                await settle(database_url, within=30)
        finally:
            await app.stop()

        posts = posts_by_bot(stage.slack)
        lost = sorted(set(bots) - {b for b, p in posts.items() if p.digests})
        doubled = {
            bot: (len(p.statuses), len(p.digests))
            for bot, p in posts.items()
            if len(p.statuses) != 1 or len(p.digests) != 1
        }
        assert not lost, f"{len(lost)} meeting(s) without a digest: {lost[:5]}"
        assert not doubled, f"(status, digest) messages per meeting, expected (1, 1): {doubled}"
        twice = {b: p.doubled_parts() for b, p in posts.items() if p.doubled_parts()}
        assert not twice, f"digest parts posted twice: {twice}"
        assert set(posts) == set(bots)
        assert await dead_jobs(database_url) == []
        log = (tmp_path / "serve.log").read_text()
        assert "adopting" in log, "no kill landed between a post and its answer: nothing proven"
