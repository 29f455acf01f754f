"""The daily reminder: each person's local hour (their Slack time zone) on a fake clock, at most
one a day across scans, processes and a restart in the middle of sending one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime

from aiohttp import web
from sqlalchemy import select

from bot.blockkit import slack_day
from bot.jobs import Worker
from bot.meetings import ActionItem, Meeting
from bot.store.db import transaction
from handlers import periodic_jobs
from handlers.action_items.reminders import JOB_REMIND, JOB_SCAN, ScanJob, due_now
from handlers.action_items.repo import set_reminders
from handlers.action_items.tables import ReminderSent
from sandbox.slack import SlackStandIn
from tests.conftest import make_settings
from tests.handlers.action_items.support import Clock, deliver, rig, set_due, settle
from tests.handlers.digest.support import Rig, text_of

PEOPLE = {
    "U0ADA": "ada@example.com",  # Europe/London: UTC+0 in November
    "U0GRACE": "grace@example.com",  # America/New_York: UTC-5
    "U0KATHERINE": "katherine@example.com",  # America/Los_Angeles: UTC-8
    "U0LINUS": "linus@example.com",  # Asia/Tokyo: UTC+9
}


def team_meeting() -> Meeting:
    items = [
        ActionItem(
            text=f"{email.split('@')[0].title()}'s task {n}",
            assignee_email=email,
            provider_id=f"{user}-{n}",
        )
        for user, email in PEOPLE.items()
        for n in (1, 2)
    ]
    items.append(ActionItem(text="Nobody's task", provider_id="nobody"))
    return Meeting(provider="otter", meeting_id="team", title="Team sync", action_items=items)


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def enqueue_scan(r: Rig) -> None:
    """What the scheduler does: enqueue the scan (the scan then enqueues the reminders)."""
    async with transaction(r.services.sessions) as session:
        await r.services.queue.enqueue(session, JOB_SCAN, ScanJob())


async def scan(r: Rig) -> None:
    await enqueue_scan(r)
    await settle(r)


def reminded(slack: SlackStandIn, user: str) -> list[str]:
    return [m.text for m in slack.dms(user)]


class Gate:
    """Holds Slack's answer to chat.postMessage (after posting) while closed: the moment a
    process dies between Slack acting and the app hearing of it."""

    def __init__(self) -> None:
        self.closed = False
        self.release = asyncio.Event()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if self.closed and request.path == "/api/chat.postMessage":
            await self.release.wait()
        return response


@contextlib.asynccontextmanager
async def gated_slack() -> AsyncIterator[tuple[SlackStandIn, Gate]]:
    gate = Gate()
    slack = SlackStandIn(signing_secret="test-signing-secret-0000")
    slack.app.middlewares.append(gate.middleware)
    async with slack:
        yield slack, gate
        gate.release.set()


def test_the_scan_is_scheduled_and_the_window_is_the_local_hour() -> None:
    assert (JOB_SCAN, 300.0) in periodic_jobs(make_settings())
    assert (JOB_SCAN, 300.0) not in periodic_jobs(make_settings(reminder_scan_seconds=0))
    assert not due_now(at(8, 59), 9)
    assert due_now(at(9, 0), 9) and due_now(at(11, 59), 9)
    assert not due_now(at(12, 0), 9), "a missed reminder is not sent in the evening"


async def test_reminders_follow_each_persons_time_zone_across_a_restart(database_url: str) -> None:
    clock = Clock(at(0, 30))  # Monday: 09:30 in Tokyo, 00:30 in London, Sunday evening in America
    async with gated_slack() as (slack, gate):
        async with rig(database_url, clock=clock, slack=slack) as r:
            await deliver(r, team_meeting())
            await scan(r)
            assert reminded(slack, "U0LINUS") == ["Good morning! You have 2 open action items"], (
                "Linus's own 9 o'clock"
            )
            assert all(reminded(slack, u) == [] for u in PEOPLE if u != "U0LINUS")

        # Tuesday 00:30 UTC: Tokyo again. The process dies after Slack posted the DM and before
        # it heard back; a new process takes the job over once its lease has run out.
        clock.set(at(0, 30, day=24))
        async with rig(database_url, clock=clock, slack=slack) as r:
            await enqueue_scan(r)
            worker = Worker(r.services.queue, r.services, name="doomed")
            assert await worker.run_one()  # the scan: it enqueues Linus's reminder
            gate.closed = True
            since = slack.last_seq
            running = asyncio.create_task(worker.run_one())
            await asyncio.wait_for(
                slack.wait_for("message_posted", channel="D0LINUS", since=since), 5
            )
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        gate.closed = False
        gate.release.set()
        assert len(reminded(slack, "U0LINUS")) == 2, "Slack has Tuesday's DM already"

        clock.advance(minutes=5)  # past the dead worker's lease
        async with rig(database_url, clock=clock, slack=slack) as r:
            await scan(r)  # scans again too: nothing new may come of it
            assert len(reminded(slack, "U0LINUS")) == 2, "no second DM on Tuesday"
            assert (await sent(r))[("U0LINUS", date(2026, 11, 24))] is not None

            # Tuesday in London, New York and Los Angeles, each at nine their time.
            for moment, user in (
                (at(9, 5, day=24), "U0ADA"),
                (at(14, 5, day=24), "U0GRACE"),
                (at(17, 5, day=24), "U0KATHERINE"),
            ):
                clock.set(moment)
                await scan(r)
                await scan(r)
                assert len(reminded(slack, user)) == 1, user
            assert len(reminded(slack, "U0LINUS")) == 2
            # The digest, Linus on Monday and Tuesday, the others on Tuesday: nothing twice.
            assert len(slack.calls_of("chat.postMessage")) == 6


async def test_overdue_and_due_today_come_first_and_off_means_off(database_url: str) -> None:
    clock = Clock(at(9, 10))  # Monday 23 November in London
    async with rig(database_url, clock=clock) as r:
        await deliver(r, team_meeting())
        await set_due(r, "team", 2, date(2026, 11, 20))  # Ada's task 2: overdue
        await set_due(r, "team", 1, date(2026, 11, 23))  # Ada's task 1: due today
        await scan(r)
        (dm,) = r.slack.dms("U0ADA")
        assert dm.text == "Good morning! You have 2 open action items (1 overdue, 1 due today)"
        body = text_of(dm.blocks)
        assert body.index("Ada's task 2") < body.index("Ada's task 1")
        assert (
            f"🔴 *overdue* (was due {slack_day(date(2026, 11, 20))})" in body
            and "🟡 *due today*" in body
        )
        assert "/archives/C0MEETINGS/p" in body

        async with transaction(r.services.sessions) as session:
            await set_reminders(session, "U0ADA", False, clock())
        clock.set(at(9, 10, day=24))
        await scan(r)
        assert len(r.slack.dms("U0ADA")) == 1, "turned off: no Tuesday reminder"
        assert ("U0ADA", date(2026, 11, 24)) not in await sent(r)


async def sent(r: Rig) -> dict[tuple[str, date], datetime | None]:
    async with r.services.sessions() as session:
        rows = await session.execute(select(ReminderSent))
        return {(row.user_id, row.local_date): row.sent_at for row in rows.scalars()}


async def test_two_processes_scanning_at_once_send_one_reminder(database_url: str) -> None:
    clock = Clock(at(9, 10))
    async with contextlib.AsyncExitStack() as stack:
        slack = await stack.enter_async_context(
            SlackStandIn(signing_secret="test-signing-secret-0000")
        )
        one = await stack.enter_async_context(rig(database_url, clock=clock, slack=slack))
        two = await stack.enter_async_context(rig(database_url, clock=clock, slack=slack))
        await deliver(one, team_meeting())
        await asyncio.gather(enqueue_scan(one), enqueue_scan(two))
        await asyncio.gather(one.drain(), two.drain())
        await settle(one)
        assert len(slack.dms("U0ADA")) == 1
        assert len(await one.jobs(JOB_REMIND)) == 1
