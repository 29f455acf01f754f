"""Retention: every table has a rule; old rows go, young ones and rows in use stay, on both
databases; the purge deletes in batches of their own transactions; the leader schedules it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, select

from bot.app import RUNTIME, Options, create_web_app
from bot.jobs import JobRun, Worker
from bot.retention import Cutoffs, Rule, purge
from bot.services import SERVICES, Services
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import (
    Base,
    InboxEvent,
    Job,
    RateBudgetSpend,
    SlackPost,
    SlackPostIntent,
    StoredSecret,
    utcnow,
)
from handlers import periodic_jobs
from handlers.action_items.tables import (
    ActionItemEvent,
    ActionItemRecord,
    ReminderSent,
    SlackEmailLookup,
    SlackPermalink,
)
from handlers.attendee.tables import AttendeeBot
from handlers.claritalk.tables import ClaritalkConnection, ClaritalkReport, OAuthState
from handlers.digest.tables import Digest
from handlers.retention import JOB_PURGE, RULES, PurgeJob, job_purge
from handlers.routing.tables import HeldDigest
from handlers.whereby.tables import WherebyRoom
from tests.conftest import make_settings

SECURITY = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
NOW = utcnow()
DAY = timedelta(days=1)


def ago(days: float = 0, **delta: float) -> datetime:
    return NOW - timedelta(days=days, **delta)


def test_every_table_has_a_rule_and_a_line_in_security_md() -> None:
    """A new table must say how long it is kept: here, and in docs/SECURITY.md."""
    tables = set(Base.metadata.tables)
    assert {rule.table for rule in RULES} == tables
    for rule in RULES:
        assert (rule.doomed is None) == bool(rule.kept), f"{rule.name}: purged, or says why not"
    section = SECURITY.read_text().split("## Data retention", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`", section, re.MULTILINE))
    assert documented == tables


# --- the rows of the scenario: each one a (model, primary key) with whether it must stay ---


def job(status: str, finished: datetime | None, created: datetime = NOW) -> Job:
    return Job(
        kind="x",
        payload={},
        status=status,
        finished_at=finished,
        created_at=created,
        run_at=created,
    )


def item(meeting: str, key: str, status: str, updated: datetime) -> ActionItemRecord:
    return ActionItemRecord(
        provider="otter", meeting_id=meeting, item_key=key, status=status, updated_at=updated
    )


def digest(meeting: str, at: datetime, lease: datetime | None = None) -> Digest:
    return Digest(
        provider="otter",
        meeting_id=meeting,
        channel_id="C1",
        created_at=at,
        delivered_at=at,
        lease_until=lease,
    )


def leased_by_job(meeting: str, job_id: int) -> Digest:
    held = digest(meeting, ago(100))
    held.lease_job_id, held.leased_by = job_id, "w1"
    return held


def post(provider: str, meeting: str, updated: datetime, part: str = "digest") -> SlackPost:
    return SlackPost(
        provider=provider,
        meeting_id=meeting,
        channel_id="C1",
        part=part,
        ts="1.2",
        updated_at=updated,
    )


def bot(row_id: str, state: str, updated: datetime, open_key: str | None = None) -> AttendeeBot:
    return AttendeeBot(
        id=row_id,
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        meeting_url="https://zoom.us/j/1",
        dedup_key=row_id,
        open_key=open_key,
        state=state,
        updated_at=updated,
    )


def room(row_id: str, status: str, updated: datetime, digest_state: str | None = None) -> Any:
    return WherebyRoom(
        id=row_id,
        team_id="T1",
        channel_id="C1",
        creator_id="U1",
        status=status,
        digest_state=digest_state,
        updated_at=updated,
    )


def connection(user: str, status: str, at: datetime) -> ClaritalkConnection:
    return ClaritalkConnection(
        slack_user_id=user,
        secret_name=f"claritalk.user.{user}",
        status=status,
        connected_at=at,
        refreshed_at=at,
        lapsed_at=at if status == "lapsed" else None,
    )


def scenario(now_wall: float) -> list[tuple[str, Any]]:
    """("gone" | "stays", row) with DEBRIEF_RETENTION_DAYS=90 and the other defaults."""
    return [
        # Queue: done jobs a week, dead ones 30 days, queued and running ones for ever.
        ("gone", job("done", ago(8))),
        ("stays", job("done", ago(6))),
        ("gone", job("dead", ago(31))),
        ("stays", job("dead", ago(29))),
        ("stays", job("queued", None, created=ago(400))),
        ("stays", job("running", None, created=ago(400))),
        # Webhook ids 30 days; Slack signatures 15 minutes.
        ("gone", InboxEvent(provider="attendee", event_id="old", received_at=ago(31))),
        ("stays", InboxEvent(provider="attendee", event_id="young", received_at=ago(29))),
        ("gone", InboxEvent(provider="slack", event_id="old", received_at=ago(minutes=30))),
        ("stays", InboxEvent(provider="slack", event_id="young", received_at=ago(minutes=5))),
        # A closed meeting past the retention goes whole: items, their events, digest, posts.
        ("gone", item("m-old", "n:1", "done", ago(100))),
        ("gone", digest("m-old", ago(100))),
        ("gone", post("otter", "m-old", ago(100))),
        ("gone", HeldDigest(provider="otter", meeting_id="held-old", held_at=ago(100))),
        # One open item keeps its whole meeting, however old.
        ("stays", item("m-open", "n:1", "open", ago(100))),
        ("stays", item("m-open", "n:2", "done", ago(100))),
        ("stays", digest("m-open", ago(100))),
        ("stays", post("otter", "m-open", ago(100))),
        # So does an item closed recently, and a delivery under way.
        ("stays", item("m-recent", "n:1", "done", ago(10))),
        ("stays", digest("m-recent", ago(100))),
        ("stays", post("otter", "m-recent", ago(100))),
        ("stays", digest("m-leased", ago(100), lease=NOW + timedelta(minutes=1))),
        # A digest leased by a job is in use exactly while that job runs with a live lease.
        (
            "stays",
            Job(
                id=900001,
                kind="x",
                payload={},
                status="running",
                locked_by="w1",
                lease_until=NOW + timedelta(seconds=20),
                created_at=ago(400),
                run_at=ago(400),
            ),
        ),
        ("stays", leased_by_job("m-job-live", 900001)),
        ("gone", leased_by_job("m-job-dead", 900002)),
        # Young content stays.
        ("stays", digest("m-young", ago(10))),
        ("stays", post("otter", "m-young", ago(10))),
        ("stays", HeldDigest(provider="otter", meeting_id="held-young", held_at=ago(10))),
        # Notetakers: finished and old go (with their status message); running ones stay.
        ("gone", bot("b-ended", "ended", ago(100))),
        ("gone", post("attendee", "b-ended", ago(100), part="status")),
        ("stays", bot("b-live", "joined_recording", ago(100), open_key="k-live")),
        ("stays", post("attendee", "b-live", ago(100), part="status")),
        ("stays", bot("b-young", "ended", ago(10))),
        # Rooms: closed and old go; open or still being summarised stay.
        ("gone", room("r-closed", "closed", ago(100))),
        ("stays", room("r-open", "open", ago(100))),
        ("stays", room("r-summarising", "expired", ago(100), digest_state="summarising")),
        ("stays", room("r-young", "closed", ago(10))),
        ("stays", post("whereby", "r-open", ago(100), part="room")),
        # Slack bookkeeping.
        ("gone", post("action_items", "event.E1", ago(100), part="dm.U1")),
        (
            "gone",
            SlackPostIntent(
                provider="otter",
                meeting_id="i-old",
                channel_id="C1",
                part="digest",
                posting_by="w:1",
                posting_since=ago(8),
            ),
        ),
        (
            "stays",
            SlackPostIntent(
                provider="otter",
                meeting_id="i-young",
                channel_id="C1",
                part="digest",
                posting_by="w:1",
                posting_since=ago(1),
            ),
        ),
        ("gone", SlackPermalink(channel_id="C1", ts="1.1", url="https://x/1", created_at=ago(100))),
        ("stays", SlackPermalink(channel_id="C1", ts="2.2", url="https://x/2", created_at=ago(10))),
        ("gone", SlackEmailLookup(email="old@example.com", user_id="U1", looked_up_at=ago(2))),
        ("stays", SlackEmailLookup(email="new@example.com", user_id="U1", looked_up_at=ago(0.1))),
        ("gone", ReminderSent(user_id="U1", local_date=date(2020, 1, 1), claimed_at=ago(8))),
        ("stays", ReminderSent(user_id="U1", local_date=date(2020, 1, 2), claimed_at=ago(1))),
        # Claritalk: expired OAuth states a day on, reports after 30 days unless leased,
        # lapsed connections after the retention; a connected account and its tokens stay.
        (
            "gone",
            OAuthState(
                state_hash="a" * 64,
                provider="claritalk",
                team_id="T1",
                slack_user_id="U1",
                browser_hash="b" * 64,
                expires_at=ago(2),
            ),
        ),
        (
            "stays",
            OAuthState(
                state_hash="c" * 64,
                provider="claritalk",
                team_id="T1",
                slack_user_id="U1",
                browser_hash="b" * 64,
                expires_at=NOW + timedelta(minutes=10),
            ),
        ),
        ("gone", ClaritalkReport(meeting_id="rep-old", received_at=ago(31))),
        ("stays", ClaritalkReport(meeting_id="rep-young", received_at=ago(29))),
        (
            "stays",
            ClaritalkReport(
                meeting_id="rep-leased", received_at=ago(31), lease_until=NOW + timedelta(minutes=1)
            ),
        ),
        ("gone", connection("U-lapsed", "lapsed", ago(100))),
        ("stays", connection("U-connected", "connected", ago(400))),
        (
            "stays",
            StoredSecret(name="claritalk.user.U-connected", ciphertext="x", created_at=ago(400)),
        ),
        # Budget spending that can no longer count.
        ("gone", RateBudgetSpend(budget="otter", spent_at=now_wall - 2 * 86400, cost=1.0)),
        ("stays", RateBudgetSpend(budget="otter", spent_at=now_wall, cost=1.0)),
    ]


def identity(row: Any) -> tuple[str, tuple[Any, ...]]:
    return type(row).__tablename__, inspect(row).identity


async def remaining(services: Services) -> set[tuple[str, tuple[Any, ...]]]:
    found = set()
    async with services.sessions() as session:
        for mapper in Base.registry.mappers:
            model = mapper.class_
            for row in (await session.execute(select(model))).scalars():
                found.add(identity(row))
    return found


async def started(aiohttp_client: Any, clock: Callable[[], datetime], **settings: Any) -> Services:
    app = await create_web_app(make_settings(**settings), Options(workers=0, clock=clock))
    await aiohttp_client(app)
    return app[SERVICES]


async def insert(services: Services, rows: list[Any]) -> None:
    async with transaction(services.sessions) as session:
        # Action items first, so that their events can name them.
        session.add_all(rows)
        await session.flush()
        for row in rows:
            if isinstance(row, ActionItemRecord):
                session.add(ActionItemEvent(item_id=row.id, kind="close", actor="U1"))


async def run_purge(services: Services) -> None:
    await job_purge(services, PurgeJob(), JobRun(0, JOB_PURGE, 1, 1))


async def test_old_rows_go_young_ones_and_rows_in_use_stay(
    aiohttp_client: Any, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    services = await started(
        aiohttp_client, lambda: NOW, database_url=database_url, retention_days=90
    )
    rows = scenario(time.time())
    await insert(services, [row for _, row in rows])
    events_before = await remaining(services)
    with caplog.at_level(logging.INFO, logger="handlers.retention"):
        await run_purge(services)
    left = await remaining(services)

    gone = {identity(row) for fate, row in rows if fate == "gone"}
    stays = {identity(row) for fate, row in rows if fate == "stays"}
    assert gone & left == set(), "past their retention, still there"
    assert stays - left == set(), "deleted although young or in use"
    # Events went with their items, and only theirs.
    events = {key for key in events_before if key[0] == "action_item_events"}
    kept_items = {key[1][0] for key in left if key[0] == "action_items"}
    async with services.sessions() as session:
        owners = set((await session.execute(select(ActionItemEvent.item_id))).scalars())
    assert owners == kept_items and len(events) == len(kept_items) + 1

    metrics = await services.metrics.render()
    assert 'debrief_retention_deleted_rows_total{table="digests"} 2' in metrics
    assert 'debrief_retention_deleted_rows_total{table="jobs"} 2' in metrics
    assert any(
        "retention purge:" in r.message and "slack_posts 3" in r.message for r in caplog.records
    )


async def test_zero_keeps_meeting_content_for_ever(aiohttp_client: Any, database_url: str) -> None:
    services = await started(
        aiohttp_client,
        lambda: NOW,
        database_url=database_url,
        retention_days=0,
        dead_job_retention_days=0,
    )
    content = [
        item("m", "n:1", "done", ago(4000)),
        digest("m", ago(4000)),
        post("otter", "m", ago(4000)),
        HeldDigest(provider="otter", meeting_id="h", held_at=ago(4000)),
        bot("b", "ended", ago(4000)),
        room("r", "closed", ago(4000)),
        SlackPermalink(channel_id="C1", ts="1.1", url="https://x", created_at=ago(4000)),
        connection("U", "lapsed", ago(4000)),
        job("dead", ago(4000)),
    ]
    await insert(services, content)
    await run_purge(services)
    left = await remaining(services)
    assert {identity(row) for row in content} <= left
    # Operational rows still go: a done job's week is not meeting content's retention.
    await insert(services, [done := job("done", ago(8))])
    await run_purge(services)
    assert identity(done) not in await remaining(services)


async def test_nothing_holding_meeting_content_outlives_the_retention(
    aiohttp_client: Any, database_url: str
) -> None:
    """Job payloads and reports carry meeting content: a short retention shortens them too."""
    services = await started(
        aiohttp_client, lambda: NOW, database_url=database_url, retention_days=3
    )
    rows = [
        job("done", ago(4)),
        job("dead", ago(4)),
        ClaritalkReport(meeting_id="r", received_at=ago(4)),
    ]
    kept = [job("done", ago(2)), job("dead", ago(2))]
    await insert(services, rows + kept)
    await run_purge(services)
    left = await remaining(services)
    assert not {identity(row) for row in rows} & left
    assert {identity(row) for row in kept} <= left


async def test_the_purge_deletes_in_batches_each_its_own_transaction(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            session.add_all(job("done", ago(30)) for _ in range(7))
            session.add(job("done", ago(1)))
            items = [item(f"m{n}", "n:1", "done", ago(100)) for n in range(3)]
            session.add_all(items)
            await session.flush()
            session.add_all(ActionItemEvent(item_id=i.id, kind="close") for i in items)
        deletes: list[int] = []
        commits: list[int] = []

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def count(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("DELETE FROM JOBS"):
                deletes.append(cursor.rowcount)

        @event.listens_for(engine.sync_engine, "commit")
        def committed(_conn: Any) -> None:
            commits.append(len(deletes))

        by_table = {rule.name: rule for rule in RULES}
        rules: list[Rule] = [by_table["jobs (done)"], by_table["action_items"]]
        report = await purge(sessions, rules, Cutoffs.at(make_settings(), NOW), batch_size=2)
        assert deletes == [2, 2, 2, 1]
        assert commits[:4] == [1, 2, 3, 4], "one transaction per batch"
        assert report.rows["jobs"] == 7 and report.rows["action_items"] == 3
        assert report.rows["action_item_events"] == 3
        assert report.batches == 4 + 2
        async with sessions() as session:
            assert len((await session.execute(select(Job))).all()) == 1
    finally:
        await engine.dispose()


def test_the_leader_schedules_the_purge() -> None:
    assert (JOB_PURGE, 3600.0) in periodic_jobs(make_settings())
    assert (JOB_PURGE, 600.0) in periodic_jobs(make_settings(retention_interval_seconds=600))
    assert JOB_PURGE not in dict(periodic_jobs(make_settings(retention_interval_seconds=0)))


async def test_the_scheduler_enqueues_a_durable_purge_that_a_worker_runs(
    aiohttp_client: Any, sqlite_url: str
) -> None:
    app = await create_web_app(
        make_settings(database_url=sqlite_url), Options(workers=0, scheduler=True)
    )
    await aiohttp_client(app)
    services = app[SERVICES]
    scheduler = app[RUNTIME].scheduler
    assert scheduler is not None
    entry = next(p for p in scheduler.periodic if p.name == JOB_PURGE)
    await insert(services, [old := job("done", ago(30))])
    await entry.func()
    await entry.func()  # the same period: one job, however many leaders asked
    async with services.sessions() as session:
        queued = (await session.execute(select(Job).where(Job.kind == JOB_PURGE))).scalars().all()
    assert [j.status for j in queued] == ["queued"]
    assert await Worker(services.queue, services).run_one()
    left = await remaining(services)
    assert identity(old) not in left
    async with services.sessions() as session:
        ran = await session.get(Job, queued[0].id)
    assert ran is not None and ran.status == "done"
