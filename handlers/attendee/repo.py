"""Notetaker requests in the database: who asked for which bot, and its newest known state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import get_row, insert_ignore, transaction, write
from bot.store.models import utcnow
from handlers.attendee.tables import AttendeeBot
from providers.attendee import TERMINAL_STATES

#: Debrief's own states that end a request without a bot.
FINAL_LOCAL_STATES = frozenset({"duplicate", "refused", "cancelled"})


def new_request(
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    meeting_url: str,
    dedup_key: str,
    join_at: datetime | None = None,
) -> AttendeeBot:
    now = utcnow()
    return AttendeeBot(
        id=str(uuid.uuid4()),
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        meeting_url=meeting_url,
        dedup_key=dedup_key,
        open_key=dedup_key,
        join_at=join_at,
        state="requested",
        created_at=now,
        updated_at=now,
    )


async def add_request(session: AsyncSession, row: AttendeeBot) -> AttendeeBot | None:
    """Insert a request unless one for the same meeting and channel is under way; then return
    that earlier one instead (None when this one was added).
    """
    values = {c.key: getattr(row, c.key) for c in AttendeeBot.__table__.columns}
    if await insert_ignore(session, AttendeeBot, values):
        return None
    rows = await session.execute(select(AttendeeBot).where(AttendeeBot.open_key == row.open_key))
    return rows.scalar_one_or_none() or row


async def get(sessions: async_sessionmaker[AsyncSession], request_id: str) -> AttendeeBot | None:
    return await get_row(sessions, AttendeeBot, request_id)


async def find_by_bot_id(
    sessions: async_sessionmaker[AsyncSession], bot_id: str
) -> AttendeeBot | None:
    async with sessions() as session:
        rows = await session.execute(select(AttendeeBot).where(AttendeeBot.bot_id == bot_id))
        return rows.scalar_one_or_none()


async def mark_stopped(
    sessions: async_sessionmaker[AsyncSession], request_id: str, user_id: str
) -> None:
    """Remember who made the notetaker leave (the first to ask, if several did)."""
    await write(
        sessions,
        update(AttendeeBot)
        .where(AttendeeBot.id == request_id, AttendeeBot.stopped_by.is_(None))
        .values(stopped_by=user_id, updated_at=utcnow()),
    )


async def find_for_webhook(
    sessions: async_sessionmaker[AsyncSession], bot_id: str | None, metadata: dict[str, Any] | None
) -> AttendeeBot | None:
    """The request behind a webhook: by bot id, or by the request id in the bot's metadata
    (a webhook can arrive before the job that created the bot has stored its id).
    """
    request_id = (metadata or {}).get("debrief_request_id")
    conditions = []
    if bot_id:
        conditions.append(AttendeeBot.bot_id == bot_id)
    if isinstance(request_id, str):
        conditions.append(AttendeeBot.id == request_id)
    if not conditions:
        return None
    async with sessions() as session:
        rows = await session.execute(select(AttendeeBot).where(or_(*conditions)).limit(1))
        return rows.scalar_one_or_none()


async def adopt(
    sessions: async_sessionmaker[AsyncSession],
    bot_id: str,
    meeting_url: str,
    metadata: dict[str, Any],
) -> AttendeeBot | None:
    """Track a bot started outside Debrief whose metadata names a Slack channel to report to."""
    team, channel, user = (
        metadata.get(k) for k in ("slack_team_id", "slack_channel_id", "slack_user_id")
    )
    if not (isinstance(team, str) and isinstance(channel, str)):
        return None
    row = new_request(
        team_id=team,
        channel_id=channel,
        user_id=str(user or ""),
        meeting_url=meeting_url,
        dedup_key=f"adopted-{bot_id}",
    )
    row.bot_id = bot_id
    async with transaction(sessions) as session:
        existing = (
            await session.execute(select(AttendeeBot).where(AttendeeBot.bot_id == bot_id))
        ).scalar_one_or_none()
        if existing is not None:
            return existing
        session.add(row)
    return row


async def attach_bot(
    sessions: async_sessionmaker[AsyncSession], request_id: str, bot_id: str
) -> None:
    await write(
        sessions,
        update(AttendeeBot)
        .where(AttendeeBot.id == request_id)
        .values(bot_id=bot_id, updated_at=utcnow()),
    )


async def apply_state(
    sessions: async_sessionmaker[AsyncSession],
    request_id: str,
    state: str,
    at: datetime | None,
    detail: str | None = None,
    *,
    join_at: datetime | None = None,
) -> bool:
    """Record a state unless a newer one is already known; True when it was applied.

    Deliveries arrive out of order and late: the event's own time decides, and nothing moves a
    bot out of a terminal state.
    """
    values: dict[str, Any] = {
        "state": state,
        "state_at": at,
        "state_detail": detail,
        "updated_at": utcnow(),
    }
    if join_at is not None:
        values["join_at"] = join_at
    if str(state) in TERMINAL_STATES | FINAL_LOCAL_STATES:
        values["open_key"] = None
    terminal = [str(s) for s in TERMINAL_STATES | FINAL_LOCAL_STATES]
    statement = update(AttendeeBot).where(AttendeeBot.id == request_id)
    if str(state) not in terminal:
        statement = statement.where(AttendeeBot.state.not_in(terminal))
    if at is not None:
        statement = statement.where(or_(AttendeeBot.state_at.is_(None), AttendeeBot.state_at < at))
    return await write(sessions, statement.values(**values))
