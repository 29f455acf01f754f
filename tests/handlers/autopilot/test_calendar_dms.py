"""The calendar owner's DMs: the morning list at the owner's local hour, the reminder a few
minutes before a notetaker joins (once, across scans and workers, again after a move, never
after a cancellation), and the buttons on them, on a fake clock against the Slack stand-in.

The calendar core's own jobs (``calendar.apply``, ``calendar.reapply_user``) are stood in for by
recorders here: what is asserted is that a click enqueues them with the contract's payload.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
from sqlalchemy import select, update

from bot.jobs import JobRun, Worker
from bot.services import Services
from bot.store.db import transaction
from handlers import periodic_jobs
from handlers.calendar import reminders
from handlers.calendar.dm_blocks import ACTION_NEVER_SERIES, ACTION_RECORD, ACTION_SKIP
from handlers.calendar.tables import CalendarEventRecord, CalendarLink, CalendarPolicy
from sandbox.slack import Message, SlackStandIn
from tests.conftest import make_settings
from tests.handlers.action_items.support import Clock, app_url, eventually, rig, settle
from tests.handlers.digest.support import Rig, text_of

#: Grace's calendar (America/New_York: UTC-5 in November); Alan's (Europe/London: UTC).
GRACE, ALAN = "U0GRACE", "U0ALAN"


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def record(event_id: str, user: str, start: datetime, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": event_id,
        "calendar_id": f"cal_{user}",
        "user_id": user,
        "title": f"Meeting {event_id}",
        "start_time": start,
        "end_time": start + timedelta(minutes=30),
        "meeting_url": "https://meet.google.com/abc-defg-hij",
        "decision": "scheduled",
        "dedup_key": f"dedup-{event_id}",
    }
    row.update(values)
    return row


async def seed(r: Rig, *rows: dict[str, Any]) -> None:
    """Calendars of Grace and Alan, and the events as the calendar core decided them (set-up,
    not the behaviour under test)."""
    async with transaction(r.services.sessions) as session:
        for user in (GRACE, ALAN):
            if await session.get(CalendarLink, f"cal_{user}") is None:
                session.add(
                    CalendarLink(
                        calendar_id=f"cal_{user}",
                        team_id="T0SANDBOX",
                        user_id=user,
                        platform="google",
                    )
                )
        for row in rows:
            session.add(CalendarEventRecord(**row))


async def change(r: Rig, event_id: str, **values: Any) -> None:
    async with transaction(r.services.sessions) as session:
        await session.execute(
            update(CalendarEventRecord)
            .where(CalendarEventRecord.event_id == event_id)
            .values(**values)
        )


async def get(r: Rig, event_id: str) -> CalendarEventRecord:
    async with r.services.sessions() as session:
        found = await session.execute(
            select(CalendarEventRecord).where(CalendarEventRecord.event_id == event_id)
        )
        return found.scalar_one()


class ApplyEvent(pydantic.BaseModel):
    """The contract's ``ApplyEventJob``: exactly ``event_id``."""

    model_config = pydantic.ConfigDict(extra="forbid")
    event_id: str


class ReapplyUser(pydantic.BaseModel):
    """The contract's ``ReapplyUserJob``: exactly ``user_id``."""

    model_config = pydantic.ConfigDict(extra="forbid")
    user_id: str


async def _nothing(services: Services, payload: pydantic.BaseModel, run: JobRun) -> None:
    """The calendar core does the real work; here the job only has to exist."""


@asynccontextmanager
async def calendar_rig(
    database_url: str, clock: Clock, slack: SlackStandIn | None = None, **settings: Any
) -> AsyncIterator[Rig]:
    async with rig(database_url, clock=clock, slack=slack, **settings) as r:
        # The DMs alone: the calendar core's re-decisions (tested with an Attendee in
        # test_calendar_scheduling) become no-ops that check the payload's exact shape.
        registry = r.services.queue.registry
        for kind, model in (
            (reminders.JOB_APPLY, ApplyEvent),
            (reminders.JOB_REAPPLY, ReapplyUser),
        ):
            registry._specs.pop(kind, None)
            registry.add(kind, _nothing, model)
        yield r


async def enqueue_scan(r: Rig) -> None:
    """What the scheduler does every minute."""
    async with transaction(r.services.sessions) as session:
        await r.services.queue.enqueue(session, reminders.JOB_SCAN, reminders.ScanJob())


async def scan(r: Rig) -> None:
    """A scan, then every job that follows from it."""
    await enqueue_scan(r)
    await settle(r)


async def scan_in_both(one: Rig, two: Rig) -> None:
    """Two processes' schedulers and workers at once."""
    await asyncio.gather(enqueue_scan(one), enqueue_scan(two))
    await asyncio.gather(one.drain(), two.drain())
    await settle(one)


def buttons_of(message: Message) -> dict[str, list[str]]:
    """Each meeting's buttons (by event id), as the message shows them."""
    return {
        str(block["block_id"]).removeprefix("calendar.event."): [
            e["action_id"] for e in block["elements"]
        ]
        for block in message.blocks
        if block["type"] == "actions"
    }


def test_the_scan_runs_every_minute() -> None:
    assert (reminders.JOB_SCAN, 60.0) in periodic_jobs(make_settings(attendee_api_key="k"))


def test_a_reminder_is_due_in_its_window_once_per_start_time() -> None:
    lead = timedelta(minutes=5)
    row = CalendarEventRecord(**record("evt_1", ALAN, at(10)))
    assert not reminders.reminder_due(row, at(9, 54), lead), "before the window"
    assert reminders.reminder_due(row, at(9, 55), lead)
    assert not reminders.reminder_due(row, at(10), lead), "the meeting has begun"
    assert not reminders.reminder_due(row, at(9, 55), timedelta(0)), "0 minutes: off"
    row.reminded_at = at(9, 55)
    assert not reminders.reminder_due(row, at(9, 57), lead), "sent already"
    row.start_time = at(11)  # moved after its reminder went out
    assert reminders.reminder_due(row, at(10, 55), lead)
    row.owner_choice = "skip"
    assert not reminders.reminder_due(row, at(10, 55), lead), "skipped: no notetaker joins"


async def test_the_morning_dm_comes_at_eight_in_the_owners_zone_once(database_url: str) -> None:
    clock = Clock(at(12, 59))  # 07:59 in New York, 12:59 in London
    async with calendar_rig(database_url, clock) as r:
        await seed(
            r,
            # Grace's Monday: a weekly stand-up, a meeting her policy leaves out, one without a
            # link, one cancelled, and Tuesday's.
            record("evt_standup", GRACE, at(15), title="Stand-up", series="weekly-standup"),
            record(
                "evt_board",
                GRACE,
                at(18),
                title="Board <!channel> review",
                decision="policy",
                reason="only meetings you organise",
            ),
            record(
                "evt_coffee", GRACE, at(21), title="Coffee", decision="no_link", meeting_url=None
            ),
            record("evt_gone", GRACE, at(16), title="Cancelled one", decision="cancelled"),
            record("evt_tuesday", GRACE, at(15, day=24), title="Tuesday's"),
            # Alan's: London's morning is over (13:00 there), so he gets no morning DM today.
            record("evt_alan", ALAN, at(14), title="Alan's review"),
        )
        await scan(r)
        assert r.slack.dms(GRACE) == [], "not before eight in New York"

        clock.set(at(13, 0))
        await scan(r)
        (dm,) = r.slack.dms(GRACE)
        assert dm.text == "Your meetings today: 1 with a notetaker, 2 without"
        body = text_of(dm.blocks)
        assert body.index("Stand-up") < body.index("Board") < body.index("Coffee")
        assert "Cancelled one" not in body and "Tuesday's" not in body
        assert "🎥 A notetaker will join." in body
        assert "Left out: only meetings you organise" in body
        assert "Left out: it has no meeting link" in body
        assert "&lt;!channel&gt;" in body and "<!channel>" not in body
        assert "10:00" in body, "the fallback time is Grace's own"
        assert buttons_of(dm) == {
            "evt_standup": [ACTION_SKIP, ACTION_NEVER_SERIES],
            "evt_board": [ACTION_RECORD],
        }
        assert r.slack.dms(ALAN) == []
        assert (await get(r, "evt_standup")).morning_of == "2026-11-23"

        for minutes in (1, 30, 120):  # later scans of the same morning send nothing more
            clock.set(at(13) + timedelta(minutes=minutes))
            await scan(r)
        assert len(r.slack.dms(GRACE)) == 1
        assert len(await r.jobs(reminders.JOB_MORNING)) == 1


async def test_the_reminder_comes_five_minutes_before_once_across_processes(
    database_url: str,
) -> None:
    # Afternoon in London: Alan's morning DM is not due, only reminders.
    clock = Clock(at(13, 54))
    async with contextlib.AsyncExitStack() as stack:
        slack = await stack.enter_async_context(
            SlackStandIn(signing_secret="test-signing-secret-0000")
        )
        one = await stack.enter_async_context(calendar_rig(database_url, clock, slack))
        two = await stack.enter_async_context(calendar_rig(database_url, clock, slack))
        await seed(
            one,
            record("evt_1", ALAN, at(14), title="Design review", series="s-design"),
            record("evt_2", ALAN, at(14), title="Budget"),
        )
        await scan(one)
        assert slack.dms(ALAN) == [], "six minutes before: not yet"

        clock.set(at(13, 55))
        # Two workers running one reminder at once (a job taken over, a replay): one DM.
        async with transaction(one.services.sessions) as session:
            for _ in range(2):
                await one.services.queue.enqueue(
                    session,
                    reminders.JOB_REMIND,
                    reminders.RemindJob(event_id="evt_2", start=at(14)),
                )
        workers = [
            Worker(r.services.queue, r.services, name=n) for r, n in ((one, "a"), (two, "b"))
        ]
        await asyncio.gather(*(w.run_one() for w in workers))
        assert [m.text for m in slack.dms(ALAN)] == ["In 5 minutes a notetaker joins Budget"]

        # Two processes scanning at once: one reminder for the other meeting.
        await scan_in_both(one, two)
        reminder = slack.dms(ALAN)[1]
        assert reminder.text == "In 5 minutes a notetaker joins Design review"
        assert reminder.blocks[0]["text"]["text"] == "*⏰ In 5 minutes*", "said in the message too"
        assert buttons_of(reminder) == {"evt_1": [ACTION_SKIP, ACTION_NEVER_SERIES]}
        assert (await get(one, "evt_1")).reminded_at == at(13, 55)

        clock.set(at(13, 57))
        await scan_in_both(one, two)
        assert len(slack.dms(ALAN)) == 2, "one reminder per meeting"
        assert len(slack.calls_of("chat.postMessage")) == 2
        # (the ledger may have rewritten one with the same words; never with other ones)
        assert {c["text"] for c in slack.calls_of("chat.update")} <= {
            m.text for m in slack.dms(ALAN)
        }

        # Moved an hour later after its reminder went out: a new reminder before the new time.
        await change(one, "evt_1", start_time=at(15))
        clock.set(at(14, 55))
        await scan(one)
        assert [m.text for m in slack.dms(ALAN)][1:] == [
            "In 5 minutes a notetaker joins Design review"
        ] * 2


async def test_nothing_is_sent_for_a_meeting_cancelled_or_moved_after_it_was_picked(
    database_url: str,
) -> None:
    clock = Clock(at(13))  # eight in New York; afternoon in London
    async with calendar_rig(database_url, clock) as r:
        await seed(
            r,
            record("evt_grace", GRACE, at(15), title="Grace's only meeting"),
            record("evt_cancel", ALAN, at(14)),
            record("evt_move", ALAN, at(14)),
        )
        # Grace's morning DM is picked at eight in New York; her only meeting is cancelled
        # before the DM is sent: no DM at all (it would name nothing).
        await enqueue_scan(r)
        await r.drain(limit=1)  # the scan alone
        assert [j.payload for j in await r.jobs(reminders.JOB_MORNING)] == [
            {"user_id": GRACE, "day": "2026-11-23"}
        ]
        await change(r, "evt_grace", decision="cancelled")
        await settle(r)
        assert r.slack.dms(GRACE) == []

        # Alan's two reminders are picked five minutes before; one meeting is cancelled and
        # the other moved before they are sent.
        clock.set(at(13, 55))
        await enqueue_scan(r)
        await r.drain(limit=1)
        assert len(await r.jobs(reminders.JOB_REMIND)) == 2
        await change(r, "evt_cancel", decision="cancelled")
        await change(r, "evt_move", start_time=at(16))
        await settle(r)
        assert r.slack.dms(ALAN) == []
        assert r.slack.dms(GRACE) == []


async def morning_dm(r: Rig, clock: Clock) -> Message:
    await seed(
        r,
        record("evt_standup", GRACE, at(15), title="Stand-up", series="weekly-standup"),
        record("evt_board", GRACE, at(18), title="Board review", decision="policy"),
    )
    clock.set(at(13))
    await scan(r)
    (dm,) = r.slack.dms(GRACE)
    return dm


async def click(r: Rig, message: Message, action_id: str, event_id: str, user: str) -> None:
    current = r.slack.workspace.find(message.channel, message.ts)
    assert current is not None
    delivery = await r.slack.click(
        app_url(r), current, action_id, block_id=f"calendar.event.{event_id}", user_id=user
    )
    assert delivery.status == 200, delivery.body


async def payloads(r: Rig, kind: str) -> list[dict[str, Any]]:
    return [job.payload for job in await r.jobs(kind)]


async def test_only_the_owner_may_press_the_buttons(database_url: str) -> None:
    clock = Clock(at(12))
    async with calendar_rig(database_url, clock) as r:
        dm = await morning_dm(r, clock)
        await click(r, dm, ACTION_SKIP, "evt_standup", "U0ADA")
        await eventually(r, lambda: bool(r.slack.ephemerals("U0ADA")))
        (refusal,) = r.slack.ephemerals("U0ADA")
        assert refusal.text == reminders.NOT_YOURS
        await settle(r)
        assert (await get(r, "evt_standup")).owner_choice is None
        assert await payloads(r, reminders.JOB_APPLY) == []
        current = r.slack.workspace.find(dm.channel, dm.ts)
        assert current is not None and current.blocks == dm.blocks, "the DM is as it was"


async def test_skip_record_and_never_this_series_update_the_dm_in_place(
    database_url: str,
) -> None:
    clock = Clock(at(12))
    async with calendar_rig(database_url, clock) as r:
        dm = await morning_dm(r, clock)

        clock.set(at(13, 2))
        await click(r, dm, ACTION_SKIP, "evt_standup", GRACE)
        await eventually(r, lambda: r.slack.calls_of("chat.update") != [])
        await settle(r)
        assert (await get(r, "evt_standup")).owner_choice == "skip"
        assert await payloads(r, reminders.JOB_APPLY) == [{"event_id": "evt_standup"}]
        (shown,) = r.slack.dms(GRACE)
        assert shown.ts == dm.ts, "updated in place, not posted again"
        body = text_of(shown.blocks)
        assert "No notetaker: you skipped this one." in body
        assert f"Skipped by <@{GRACE}> <!date^{int(at(13, 2).timestamp())}^at {{time}}|" in body
        assert buttons_of(shown) == {
            "evt_standup": [ACTION_RECORD, ACTION_NEVER_SERIES],
            "evt_board": [ACTION_RECORD],
        }

        clock.set(at(13, 5))
        await click(r, shown, ACTION_RECORD, "evt_board", GRACE)
        await eventually(r, lambda: len(r.slack.calls_of("chat.update")) >= 2)
        await settle(r)
        assert (await get(r, "evt_board")).owner_choice == "record"
        assert await payloads(r, reminders.JOB_APPLY) == [
            {"event_id": "evt_standup"},
            {"event_id": "evt_board"},
        ]
        (shown,) = r.slack.dms(GRACE)
        body = text_of(shown.blocks)
        assert "A notetaker will join (you asked for it)." in body
        assert "Skipped by" in body, "the earlier note stays"
        assert f"<@{GRACE}> asked for a notetaker" in body

        clock.set(at(13, 7))
        await click(r, shown, ACTION_NEVER_SERIES, "evt_standup", GRACE)
        await eventually(r, lambda: len(r.slack.calls_of("chat.update")) >= 3)
        await settle(r)
        async with r.services.sessions() as session:
            policy = await session.get(CalendarPolicy, GRACE)
        assert policy is not None and policy.never_series == ["weekly-standup"]
        assert await payloads(r, reminders.JOB_REAPPLY) == [{"user_id": GRACE}]
        (shown,) = r.slack.dms(GRACE)
        assert f"<@{GRACE}> said never to record this series" in text_of(shown.blocks)
        assert ACTION_NEVER_SERIES not in buttons_of(shown)["evt_standup"]
        assert len(r.slack.calls_of("chat.postMessage")) == 1
