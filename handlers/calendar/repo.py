"""The calendar autopilot in the database: whose calendars Debrief follows, each owner's policy,
and one row per event with what Debrief decided for it.

Every write that two processes (or a retry and a replay) may race on decides with its WHERE
clause or a unique key: a link is upserted by Attendee's calendar id, an event by Attendee's
event id, and an event version older than the stored one is never applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import get_row, insert_ignore, transaction, write
from bot.store.models import utcnow
from handlers.calendar.tables import CalendarEventRecord, CalendarLink, CalendarPolicy
from providers.attendee.calendars import Calendar, CalendarEvent

Sessions = async_sessionmaker[AsyncSession]

#: Decisions after which a notetaker is (or should be) on its way.
SCHEDULED = "scheduled"
#: Stored for an event seen but not yet applied (the apply job decides).
PENDING = "pending"


async def link_calendar(
    sessions: Sessions, calendar: Calendar, *, team_id: str, user_id: str, now: datetime
) -> CalendarLink:
    """Upsert the owner's calendar from Attendee's answer (state, failure, last sync)."""
    values: dict[str, Any] = {
        "team_id": team_id,
        "user_id": user_id,
        "platform": calendar.platform,
        "deduplication_key": calendar.deduplication_key,
        "state": calendar.state,
        "state_detail": None if calendar.connected else calendar.failure,
        "last_synced_at": calendar.last_successful_sync_at,
        "updated_at": now,
    }
    async with transaction(sessions) as session:
        inserted = await insert_ignore(
            session,
            CalendarLink,
            {"calendar_id": calendar.id, "created_at": now, **values},
        )
        if not inserted:
            await session.execute(
                update(CalendarLink).where(CalendarLink.calendar_id == calendar.id).values(**values)
            )
    row = await get_row(sessions, CalendarLink, calendar.id)
    assert row is not None
    return row


async def get_link(sessions: Sessions, calendar_id: str) -> CalendarLink | None:
    return await get_row(sessions, CalendarLink, calendar_id)


async def links_of(sessions: Sessions, user_id: str) -> list[CalendarLink]:
    async with sessions() as session:
        rows = await session.execute(
            select(CalendarLink)
            .where(CalendarLink.user_id == user_id)
            .order_by(CalendarLink.created_at)
        )
        return list(rows.scalars())


async def connected_links(sessions: Sessions) -> list[CalendarLink]:
    async with sessions() as session:
        rows = await session.execute(select(CalendarLink).where(CalendarLink.state == "connected"))
        return list(rows.scalars())


async def set_state(
    sessions: Sessions,
    calendar_id: str,
    state: str,
    detail: str | None,
    last_synced_at: datetime | None,
) -> None:
    values: dict[str, Any] = {"state": state, "state_detail": detail, "updated_at": utcnow()}
    if last_synced_at is not None:
        values["last_synced_at"] = last_synced_at
    await write(
        sessions,
        update(CalendarLink).where(CalendarLink.calendar_id == calendar_id).values(**values),
    )


async def advance_cursor(sessions: Sessions, calendar_id: str, cursor: datetime) -> None:
    """Move ``events_cursor`` forward (never back: a slow sync must not undo a faster one)."""
    await write(
        sessions,
        update(CalendarLink)
        .where(
            CalendarLink.calendar_id == calendar_id,
            or_(CalendarLink.events_cursor.is_(None), CalendarLink.events_cursor < cursor),
        )
        .values(events_cursor=cursor, updated_at=utcnow()),
    )


async def forget_calendar(sessions: Sessions, calendar_id: str) -> None:
    """Drop the link and its events' rows (the notetakers' own rows stay: they are history)."""
    async with transaction(sessions) as session:
        await session.execute(
            delete(CalendarEventRecord).where(CalendarEventRecord.calendar_id == calendar_id)
        )
        await session.execute(delete(CalendarLink).where(CalendarLink.calendar_id == calendar_id))


# --- policies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """An owner's policy as the decision reads it (the default when they never set one)."""

    scope: str = "all"
    never_words: tuple[str, ...] = ()
    never_series: tuple[str, ...] = ()


async def get_policy(sessions: Sessions, user_id: str) -> Policy:
    row = await get_row(sessions, CalendarPolicy, user_id)
    if row is None:
        return Policy()
    return Policy(row.scope, tuple(row.never_words or ()), tuple(row.never_series or ()))


async def save_policy(
    sessions: Sessions,
    *,
    team_id: str,
    user_id: str,
    scope: str | None = None,
    never_words: list[str] | None = None,
) -> Policy:
    """Change what was given and keep the rest."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if scope is not None:
        values["scope"] = scope
    if never_words is not None:
        values["never_words"] = never_words
    async with transaction(sessions) as session:
        row = {"user_id": user_id, "team_id": team_id, "never_words": [], "never_series": []}
        if not await insert_ignore(session, CalendarPolicy, {**row, **values}):
            await session.execute(
                update(CalendarPolicy).where(CalendarPolicy.user_id == user_id).values(**values)
            )
    return await get_policy(sessions, user_id)


async def never_series(sessions: Sessions, *, team_id: str, user_id: str, series: str) -> Policy:
    """Add a recurring series the owner never wants recorded (*Never this series*)."""
    async with transaction(sessions) as session:
        await add_never_series(session, team_id=team_id, user_id=user_id, series=series)
    return await get_policy(sessions, user_id)


async def add_never_series(
    session: AsyncSession, *, team_id: str, user_id: str, series: str
) -> None:
    """:func:`never_series` inside the caller's transaction (the DM button enqueues the
    re-decision in the same one): the policy is made if the owner has none, then changed under
    a row lock where the database has them, so two clicks at once on two series keep both."""
    now = utcnow()
    await insert_ignore(
        session,
        CalendarPolicy,
        {
            "user_id": user_id,
            "team_id": team_id,
            "never_words": [],
            "never_series": [],
            "updated_at": now,
        },
    )
    found = await session.execute(
        select(CalendarPolicy).where(CalendarPolicy.user_id == user_id).with_for_update()
    )
    policy = found.scalar_one()
    if series not in (policy.never_series or []):
        policy.never_series = [*(policy.never_series or []), series]
        policy.updated_at = now


# --- events --------------------------------------------------------------------------------


def dedup_key(event_id: str) -> str:
    """The notetaker's ``deduplication_key`` at Attendee: one per event, whatever the attempt."""
    return f"debrief-cal-{event_id}"


def event_values(event: CalendarEvent) -> dict[str, Any]:
    """What a row keeps of Attendee's event."""
    return {
        "calendar_id": event.calendar_id,
        "series": (event.series or "")[:255] or None,
        "title": (event.name or "")[:300],
        "start_time": event.start_time,
        "end_time": event.end_time,
        "meeting_url": event.meeting_url,
        "event_updated_at": event.updated_at,
    }


async def store_event(
    session: AsyncSession, event: CalendarEvent, user_id: str, now: datetime
) -> bool:
    """Insert or update the row of ``event`` unless the stored version is newer or the same;
    True when this version was taken in (then it needs applying)."""
    values = {**event_values(event), "user_id": user_id, "updated_at": now}
    fresh = {
        "event_id": event.id,
        "decision": PENDING,
        "dedup_key": dedup_key(event.id),
        "created_at": now,
        **values,
    }
    if await insert_ignore(session, CalendarEventRecord, fresh):
        return True
    statement = update(CalendarEventRecord).where(CalendarEventRecord.event_id == event.id)
    if event.updated_at is not None:
        statement = statement.where(
            or_(
                CalendarEventRecord.event_updated_at.is_(None),
                CalendarEventRecord.event_updated_at < event.updated_at,
            )
        )
    else:
        return False
    result = await session.execute(statement.values(**values))
    return bool(getattr(result, "rowcount", 0))


async def get_event(sessions: Sessions, event_id: str) -> CalendarEventRecord | None:
    async with sessions() as session:
        rows = await session.execute(
            select(CalendarEventRecord).where(CalendarEventRecord.event_id == event_id)
        )
        return rows.scalar_one_or_none()


async def decide(
    sessions: Sessions,
    event_id: str,
    decision: str,
    reason: str | None,
    *,
    bot_request_id: str | None = None,
) -> None:
    values: dict[str, Any] = {"decision": decision, "reason": reason, "updated_at": utcnow()}
    if bot_request_id is not None:
        values["bot_request_id"] = bot_request_id
    await write(
        sessions,
        update(CalendarEventRecord)
        .where(CalendarEventRecord.event_id == event_id)
        .values(**values),
    )


async def set_choice(sessions: Sessions, event_id: str, choice: str | None) -> None:
    """The owner's word on one event (``skip``, ``record``, or None to let the policy decide)."""
    async with transaction(sessions) as session:
        await choose(session, event_id, choice)


async def choose(session: AsyncSession, event_id: str, choice: str | None) -> None:
    """:func:`set_choice` inside the caller's transaction."""
    await session.execute(
        update(CalendarEventRecord)
        .where(CalendarEventRecord.event_id == event_id)
        .values(owner_choice=choice, updated_at=utcnow())
    )


async def future_events(
    sessions: Sessions, user_id: str, now: datetime, *, decision: str | None = None
) -> list[CalendarEventRecord]:
    """The owner's events not started yet, soonest first."""
    statement = select(CalendarEventRecord).where(
        CalendarEventRecord.user_id == user_id, CalendarEventRecord.start_time > now
    )
    if decision is not None:
        statement = statement.where(CalendarEventRecord.decision == decision)
    async with sessions() as session:
        rows = await session.execute(statement.order_by(CalendarEventRecord.start_time))
        return list(rows.scalars())


async def events_of_calendar(
    sessions: Sessions, calendar_id: str, now: datetime
) -> list[CalendarEventRecord]:
    async with sessions() as session:
        rows = await session.execute(
            select(CalendarEventRecord).where(
                CalendarEventRecord.calendar_id == calendar_id,
                CalendarEventRecord.start_time > now,
            )
        )
        return list(rows.scalars())
