"""The owner stays in charge: a DM each morning naming the day's calendar meetings and what will
happen to each, a DM a few minutes before each notetaker joins, and the buttons on both
(*Skip this one*, *Record*, *Never this series*).

A scan every minute only enqueues: one morning job per owner and local day, one reminder job per
event and start time (deduplicated by key, so scans in several processes enqueue one). Each job
reads its records again when it runs, so a meeting moved or cancelled after the scan picked it
is not announced, and posts under a natural key of the posting ledger, so a job run twice (two
workers, a crash after Slack posted) sends one DM. The key of a reminder names the start time:
a meeting moved after its reminder went out gets a new one.

A click only records the owner's word (``owner_choice``, or the series in the policy's
``never_series``) and enqueues, in one transaction, the calendar's own re-deciding job (its
kinds and payloads are the calendar core's: see ``ApplyEventJob``) and the redraw of the DM.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel
from slack_bolt.async_app import AsyncAck
from sqlalchemy import select, update

from bot.config import Settings
from bot.jobs import JobRun
from bot.posting import PostKey
from bot.services import Services
from bot.store.db import transaction, write
from bot.store.models import SlackPost
from handlers.action_items.reminders import due_now
from handlers.calendar import repo
from handlers.calendar.dm_blocks import (
    ACTIONS,
    CHOICES,
    Note,
    build_morning_dm,
    build_reminder_dm,
    notes_in,
)
from handlers.calendar.kinds import JOB_APPLY, JOB_REAPPLY, ApplyEventJob, ReapplyUserJob
from handlers.calendar.settings import calendar_settings
from handlers.calendar.tables import CalendarEventRecord
from handlers.wiring import Wiring, click_of, tell_clicker

log = logging.getLogger(__name__)

JOB_SCAN = "calendar.dms"
JOB_MORNING = "calendar.morning"
JOB_REMIND = "calendar.remind"
JOB_REDRAW = "calendar.redraw"
#: The scan's period: a reminder goes out within a minute of its time.
SCAN_SECONDS = 60.0
#: The ledger's provider for these DMs.
DM_PROVIDER = "calendar"
#: Decisions of meetings the morning DM leaves out: nothing will happen to them.
NOT_LISTED = ("cancelled", "past")


class ScanJob(BaseModel):
    pass


class MorningJob(BaseModel):
    """The morning DM of ``user_id`` for their local ``day``."""

    user_id: str
    day: date


class RemindJob(BaseModel):
    """The DM before ``event_id``'s notetaker joins, for the meeting starting at ``start``."""

    event_id: str
    start: datetime


class NoteModel(BaseModel):
    event_id: str
    choice: str
    user_id: str
    at: datetime


class RedrawJob(BaseModel):
    """Draw the DM at ``channel_id``/``ts`` again, with the owner's notes on it."""

    channel_id: str
    ts: str
    notes: list[NoteModel]


def schedule(settings: Settings) -> list[tuple[str, float]]:
    """The scan, every minute (it reads the database only)."""
    return [(JOB_SCAN, SCAN_SECONDS)]


def morning_key(user: str, day: date, channel: str) -> PostKey:
    return PostKey(DM_PROVIDER, f"morning.{user}.{day.isoformat()}", channel, "morning")


def reminder_key(event_id: str, start: datetime, channel: str) -> PostKey:
    stamp = int(start.timestamp())
    return PostKey(DM_PROVIDER, f"reminder.{event_id}.{stamp}", channel, "reminder")


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """A local day, as UTC moments: its start and the next day's."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


# --- reading -------------------------------------------------------------------------------


async def owners(services: Services) -> list[str]:
    """The people with a connected calendar."""
    return sorted({link.user_id for link in await repo.connected_links(services.sessions)})


async def todays_records(
    services: Services, user: str, since: datetime, until: datetime
) -> list[CalendarEventRecord]:
    """The owner's meetings starting in ``[since, until)`` that something will happen to."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(CalendarEventRecord)
            .where(
                CalendarEventRecord.user_id == user,
                CalendarEventRecord.start_time >= since,
                CalendarEventRecord.start_time < until,
                CalendarEventRecord.decision.not_in(NOT_LISTED),
            )
            .order_by(CalendarEventRecord.start_time, CalendarEventRecord.id)
        )
        return list(rows.scalars())


async def morning_sent(services: Services, user: str, day: date) -> bool:
    """Whether the owner's morning DM of ``day`` named any meeting already."""
    async with services.sessions() as session:
        found = await session.execute(
            select(CalendarEventRecord.id)
            .where(
                CalendarEventRecord.user_id == user,
                CalendarEventRecord.morning_of == day.isoformat(),
            )
            .limit(1)
        )
        return found.first() is not None


async def never_series_of(services: Services, user: str) -> list[str]:
    return list((await repo.get_policy(services.sessions, user)).never_series)


def reminder_lead(services: Services) -> timedelta:
    return timedelta(minutes=calendar_settings(services.settings).calendar_reminder_minutes)


def reminder_due(record: CalendarEventRecord, now: datetime, lead: timedelta) -> bool:
    """Whether a notetaker's reminder is due now: it is scheduled, it joins within ``lead``,
    and no reminder went out since this start time's window opened (one sent for an earlier
    start time does not count: the meeting moved)."""
    if lead <= timedelta(0) or record.owner_choice == "skip" or record.decision != "scheduled":
        return False
    opens = record.start_time - lead
    if not opens <= now < record.start_time:
        return False
    return record.reminded_at is None or record.reminded_at < opens


# --- the scan ------------------------------------------------------------------------------


async def job_scan(services: Services, payload: ScanJob, run: JobRun) -> None:
    """The scheduled scan: see :func:`scan`."""
    await scan(services)


async def scan(services: Services) -> int:
    """Enqueue the morning DMs and the reminders due now; how many were enqueued."""
    return await scan_mornings(services) + await scan_reminders(services)


async def scan_mornings(services: Services) -> int:
    now = services.clock()
    hour = calendar_settings(services.settings).calendar_morning_hour
    enqueued = 0
    for user in await owners(services):
        zone = await services.slack.user_timezone(user)
        local = now.astimezone(zone)
        if not due_now(local, hour) or await morning_sent(services, user, local.date()):
            continue
        _, until = day_bounds(local.date(), zone)
        if not await todays_records(services, user, now, until):
            continue
        enqueued += await services.queue.submit(
            JOB_MORNING,
            MorningJob(user_id=user, day=local.date()),
            dedupe_key=f"{JOB_MORNING}:{user}:{local.date().isoformat()}",
        )
    return enqueued


async def scan_reminders(services: Services) -> int:
    lead = reminder_lead(services)
    if lead <= timedelta(0):
        return 0
    now = services.clock()
    async with services.sessions() as session:
        rows = await session.execute(
            select(CalendarEventRecord).where(
                CalendarEventRecord.decision == "scheduled",
                CalendarEventRecord.start_time > now,
                CalendarEventRecord.start_time <= now + lead,
            )
        )
        candidates = list(rows.scalars())
    enqueued = 0
    for record in candidates:
        if not reminder_due(record, now, lead):
            continue
        stamp = int(record.start_time.timestamp())
        enqueued += await services.queue.submit(
            JOB_REMIND,
            RemindJob(event_id=record.event_id, start=record.start_time),
            dedupe_key=f"{JOB_REMIND}:{record.event_id}:{stamp}",
        )
    return enqueued


# --- sending -------------------------------------------------------------------------------


async def job_morning(services: Services, payload: MorningJob, run: JobRun) -> None:
    """Send the owner's morning DM, naming the meetings as they are now (once per day)."""
    user, day = payload.user_id, payload.day
    zone = await services.slack.user_timezone(user)
    _, until = day_bounds(day, zone)
    records = await todays_records(services, user, services.clock(), until)
    if not records:
        log.info("no meetings left today for %s: no morning DM", user)
        return
    channel = await services.slack.open_dm(user)
    key = morning_key(user, day, channel)
    if await services.posts.find(key) is None:
        text, blocks = build_morning_dm(records, await never_series_of(services, user), zone)
        await services.posts.upsert(key, text, blocks)
    ids = [r.id for r in records]
    await write(
        services.sessions,
        update(CalendarEventRecord)
        .where(CalendarEventRecord.id.in_(ids))
        .values(morning_of=day.isoformat()),
    )


async def job_remind(services: Services, payload: RemindJob, run: JobRun) -> None:
    """Send the DM before a notetaker joins, unless the meeting moved, was cancelled or
    skipped since the scan, or its reminder went out already."""
    now = services.clock()
    record = await repo.get_event(services.sessions, payload.event_id)
    lead = reminder_lead(services)
    if record is None or record.start_time != payload.start or not reminder_due(record, now, lead):
        log.info("reminder of %s no longer due: not sent", payload.event_id)
        return
    zone = await services.slack.user_timezone(record.user_id)
    channel = await services.slack.open_dm(record.user_id)
    minutes = max(1, round((record.start_time - now).total_seconds() / 60))
    text, blocks = build_reminder_dm(
        record, await never_series_of(services, record.user_id), zone, minutes
    )
    await services.posts.upsert(
        reminder_key(record.event_id, record.start_time, channel), text, blocks
    )
    await write(
        services.sessions,
        update(CalendarEventRecord)
        .where(
            CalendarEventRecord.event_id == record.event_id,
            CalendarEventRecord.start_time == payload.start,
        )
        .values(reminded_at=services.clock()),
    )


async def job_redraw(services: Services, payload: RedrawJob, run: JobRun) -> None:
    """Draw a DM again after a click: what will happen as the records say now, and the notes
    of what the owner did."""
    async with services.sessions() as session:
        found = await session.execute(
            select(SlackPost).where(
                SlackPost.provider == DM_PROVIDER,
                SlackPost.channel_id == payload.channel_id,
                SlackPost.ts == payload.ts,
            )
        )
        post = found.scalars().first()
    if post is None:
        log.info("no calendar DM at %s/%s to draw again", payload.channel_id, payload.ts)
        return
    notes = [Note(n.event_id, n.choice, n.user_id, n.at) for n in payload.notes]
    key = PostKey(post.provider, post.meeting_id, post.channel_id, post.part)
    kind, _, rest = post.meeting_id.partition(".")
    if kind == "morning":
        user, _, day_text = rest.rpartition(".")
        day = date.fromisoformat(day_text)
        zone = await services.slack.user_timezone(user)
        async with services.sessions() as session:
            rows = await session.execute(
                select(CalendarEventRecord)
                .where(
                    CalendarEventRecord.user_id == user,
                    CalendarEventRecord.morning_of == day.isoformat(),
                )
                .order_by(CalendarEventRecord.start_time, CalendarEventRecord.id)
            )
            records = list(rows.scalars())
        text, blocks = build_morning_dm(records, await never_series_of(services, user), zone, notes)
    else:
        event_id = rest.rpartition(".")[0]
        record = await repo.get_event(services.sessions, event_id)
        if record is None:
            return
        zone = await services.slack.user_timezone(record.user_id)
        minutes = max(1, round((record.start_time - services.clock()).total_seconds() / 60))
        text, blocks = build_reminder_dm(
            record, await never_series_of(services, record.user_id), zone, minutes, notes
        )
    await services.posts.upsert(key, text, blocks)


# --- the buttons ---------------------------------------------------------------------------


NOT_YOURS = "This is not yours: only the person whose calendar it is can change it."
UNKNOWN = "I no longer know that meeting; nothing was changed."


async def handle_dm_action(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], services: Services
) -> None:
    """*Skip this one*, *Record* or *Never this series*: the owner's word, written with the
    calendar's job that makes Attendee match it and the redraw of the DM, then acknowledged.
    Anyone else is told it is not theirs, and nothing changes."""
    click = click_of(body)
    choice = CHOICES.get(str(action.get("action_id", "")))
    record = await repo.get_event(services.sessions, str(action.get("value", "")))
    if choice is None or record is None:
        await tell_clicker(ack, services, body, UNKNOWN)
        return
    if not await is_owner(services, record, click.team_id, click.user_id):
        await tell_clicker(ack, services, body, NOT_YOURS)
        return
    if choice == "never" and not record.series:
        await tell_clicker(ack, services, body, "That meeting is not part of a series.")
        return
    now = services.clock()
    notes = [
        NoteModel(event_id=n.event_id, choice=n.choice, user_id=n.user_id, at=n.at)
        for n in notes_in((body.get("message") or {}).get("blocks"))
    ]
    notes.append(NoteModel(event_id=record.event_id, choice=choice, user_id=click.user_id, at=now))
    container = body.get("container") or {}
    async with transaction(services.sessions) as session:
        if choice == "never":
            assert record.series
            await repo.add_never_series(
                session, team_id=click.team_id, user_id=record.user_id, series=record.series
            )
            await services.queue.enqueue(
                session, JOB_REAPPLY, ReapplyUserJob(user_id=record.user_id)
            )
        else:
            await repo.choose(session, record.event_id, choice)
            await services.queue.enqueue(
                session, JOB_APPLY, ApplyEventJob(event_id=record.event_id)
            )
        if container.get("message_ts") and click.channel_id:
            await services.queue.enqueue(
                session,
                JOB_REDRAW,
                RedrawJob(
                    channel_id=click.channel_id, ts=str(container["message_ts"]), notes=notes
                ),
            )
    await ack()


async def is_owner(
    services: Services, record: CalendarEventRecord, team_id: str, user_id: str
) -> bool:
    """Whether the clicker owns the meeting's calendar (in the workspace it belongs to)."""
    if not user_id or user_id != record.user_id:
        return False
    link = await repo.get_link(services.sessions, record.calendar_id)
    return link is None or not link.team_id or not team_id or link.team_id == team_id


def register(wiring: Wiring) -> None:
    for action_id in ACTIONS:
        wiring.bolt.action(action_id)(handle_dm_action)
    # Few attempts for the scan: the next one, a minute later, looks again anyway.
    wiring.jobs.add(JOB_SCAN, job_scan, ScanJob, max_attempts=2)
    wiring.jobs.add(JOB_MORNING, job_morning, MorningJob)
    wiring.jobs.add(JOB_REMIND, job_remind, RemindJob)
    wiring.jobs.add(JOB_REDRAW, job_redraw, RedrawJob)
