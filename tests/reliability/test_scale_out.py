"""Two `debrief serve` processes on one PostgreSQL database, webhooks sent to them in turn (and
some to both): every webhook makes one job, every job runs once, every meeting gets one status
message and one digest, and exactly one process runs the scheduler.

Provider budgets are shared through the database (``bot.budgets``): what two processes spend
together is tested in ``tests/bot/test_budgets.py`` and measured against the providers' stand-ins
by ``python -m bench.budgets`` (see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bench.harness import (
    DebriefProcess,
    Stage,
    completed_webhook,
    deliver_until_accepted,
    migrate,
    posts_by_bot,
    prepare_meetings,
    queue_stats,
)
from bot.store.db import create_engine
from bot.store.models import InboxEvent, Job
from tests.conftest import reset_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MEETINGS = 40


async def test_two_processes_share_the_work_without_doing_any_twice(
    postgres_server: str, tmp_path: Path
) -> None:
    await reset_postgres(postgres_server)
    await migrate(postgres_server)
    async with Stage(slack_latency=0.02) as stage:
        assert stage.attendee is not None and stage.slack is not None
        bots = await prepare_meetings(stage.attendee, MEETINGS)
        env = stage.env(
            postgres_server,
            DEBRIEF_WORKERS="3",
            DEBRIEF_JOB_POLL_SECONDS="0.2",
            DEBRIEF_JOB_BACKOFF_BASE="0.2",
            DEBRIEF_RUN_SCHEDULER="true",
        )
        apps = [DebriefProcess(env, log_path=tmp_path / f"serve-{n}.log") for n in (1, 2)]
        await asyncio.gather(*(app.start() for app in apps))
        try:
            async with aiohttp.ClientSession() as session:
                sends = []
                for n, bot in enumerate(bots):
                    body, headers = completed_webhook(stage.attendee, bot)
                    # In turn; every fifth to both, as a provider retrying on another node.
                    targets = apps if n % 5 == 0 else [apps[n % 2]]
                    sends += [
                        deliver_until_accepted(
                            session, app.url + "/webhooks/attendee", body, headers
                        )
                        for app in targets
                    ]
                await asyncio.gather(*sends)
            async with asyncio.timeout(30):
                while True:
                    stats = await queue_stats(postgres_server)
                    if not stats.get("queued") and not stats.get("running"):
                        break
                    await asyncio.sleep(0.2)
            leaders = [(await app.healthz())["scheduler_leader"] for app in apps]
        finally:
            await asyncio.gather(*(app.stop() for app in apps))

        assert sorted(leaders) == [False, True], "exactly one process runs the scheduler"
        engine = create_engine(postgres_server)
        try:
            async with engine.connect() as connection:
                jobs = (await connection.execute(select(Job.kind, Job.status, Job.attempts))).all()
                inbox = (await connection.execute(select(InboxEvent.event_id))).all()
        finally:
            await engine.dispose()
        assert len(inbox) == MEETINGS, "a delivery sent to both processes was accepted once"
        work = [j for j in jobs if j.kind.startswith("attendee.")]
        assert sorted({j.kind for j in work}) == ["attendee.digest", "attendee.event"]
        assert len(work) == 2 * MEETINGS
        assert {(j.status, j.attempts) for j in work} == {("done", 1)}, "each job ran once"
        for bot in bots:
            assert len(stage.attendee.calls_to(f"/api/v1/bots/{bot}/transcript", "GET")) == 1
        posts = posts_by_bot(stage.slack)
        assert {b: (len(p.statuses), len(p.digests)) for b, p in posts.items()} == {
            b: (1, 1) for b in bots
        }
        assert {b: p.doubled_parts() for b, p in posts.items() if p.doubled_parts()} == {}
