"""Whereby rooms in the database: the request, the room Whereby made, and its session state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import get_row, transaction, write
from bot.store.models import utcnow
from handlers.whereby.session import RoomEvent, SessionState, add_person, apply_event
from handlers.whereby.tables import WherebyRoom

Sessions = async_sessionmaker[AsyncSession]

CREATING, OPEN, FAILED, CLOSED, EXPIRED = "creating", "open", "failed", "closed", "expired"


def new_room(
    *,
    team_id: str,
    channel_id: str,
    creator_id: str,
    minutes: int,
    title: str,
    name_prefix: str | None,
    now: datetime,
) -> WherebyRoom:
    return WherebyRoom(
        id=str(uuid.uuid4()),
        team_id=team_id,
        channel_id=channel_id,
        creator_id=creator_id,
        minutes=minutes,
        title=title,
        name_prefix=name_prefix,
        status=CREATING,
        participants=0,
        people={},
        created_at=now,
        updated_at=now,
    )


async def get(sessions: Sessions, room_id: str) -> WherebyRoom | None:
    return await get_row(sessions, WherebyRoom, room_id)


async def find(
    sessions: Sessions, *, meeting_id: str | None = None, room_name: str | None = None
) -> WherebyRoom | None:
    """The room of a webhook: by meeting id, else by room name (without its leading "/")."""
    conditions = []
    if meeting_id:
        conditions.append(WherebyRoom.meeting_id == meeting_id)
    if room_name:
        conditions.append(WherebyRoom.room_name == room_name)
    if not conditions:
        return None
    async with sessions() as session:
        rows = await session.execute(select(WherebyRoom).where(or_(*conditions)).limit(1))
        return rows.scalar_one_or_none()


async def open_rooms_ended_before(sessions: Sessions, moment: datetime) -> list[str]:
    """Ids of rooms still shown open whose end date is before ``moment``."""
    async with sessions() as session:
        rows = await session.execute(
            select(WherebyRoom.id).where(WherebyRoom.status == OPEN, WherebyRoom.end_at < moment)
        )
        return [str(room_id) for room_id in rows.scalars()]


async def change(sessions: Sessions, room_id: str, **values: Any) -> None:
    """Set columns of one room."""
    values.setdefault("updated_at", utcnow())
    await write(sessions, update(WherebyRoom).where(WherebyRoom.id == room_id).values(**values))


async def set_status(
    sessions: Sessions, room_id: str, status: str, *, only_from: tuple[str, ...], **values: Any
) -> bool:
    """Move a room to ``status`` if it is in one of ``only_from``; True when it moved."""
    return await write(
        sessions,
        update(WherebyRoom)
        .where(WherebyRoom.id == room_id, WherebyRoom.status.in_(only_from))
        .values(status=status, updated_at=utcnow(), **values),
    )


def session_state(row: WherebyRoom) -> SessionState:
    return SessionState(
        session_id=row.session_id,
        started_at=row.session_started_at,
        ended_at=row.session_ended_at,
        first_at=row.session_first_at,
        last_at=row.session_last_at,
        participants=row.participants,
        participants_at=row.participants_at,
    )


def people(row: WherebyRoom) -> list[str]:
    names = (row.people or {}).get("names")
    return [str(n) for n in names] if isinstance(names, list) else []


async def apply_room_event(
    sessions: Sessions,
    room_id: str,
    kind: RoomEvent,
    at: datetime,
    session_id: str | None,
    num_clients: int | None,
    display_name: str | None,
) -> bool:
    """Fold one event into the room's stored state under a row lock; True when it changed."""
    async with transaction(sessions) as session:
        rows = await session.execute(
            select(WherebyRoom)
            .where(WherebyRoom.id == room_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = rows.scalar_one_or_none()
        if row is None:
            return False
        before = session_state(row)
        after = apply_event(before, kind, at, session_id, num_clients)
        names = people(row)
        if kind is RoomEvent.JOINED:
            names = add_person(names, display_name)
        if after == before and names == people(row):
            return False
        row.session_id = after.session_id
        row.session_started_at = after.started_at
        row.session_ended_at = after.ended_at
        row.session_first_at = after.first_at
        row.session_last_at = after.last_at
        row.participants = after.participants
        row.participants_at = after.participants_at
        row.people = {"names": names}
        row.updated_at = utcnow()
    return True


async def set_digest_state(
    sessions: Sessions, room_id: str, transcription_id: str, state: str
) -> None:
    """Record how the summary of the room's latest transcription went (older ones are past)."""
    await write(
        sessions,
        update(WherebyRoom)
        .where(WherebyRoom.id == room_id, WherebyRoom.transcription_id == transcription_id)
        .values(digest_state=state, updated_at=utcnow()),
    )


async def record_recording(
    sessions: Sessions, room_id: str, recording_id: str, at: datetime
) -> bool:
    """Keep the newest recording of a room; True when this one is now it."""
    return await write(
        sessions,
        update(WherebyRoom)
        .where(
            WherebyRoom.id == room_id,
            or_(WherebyRoom.recording_at.is_(None), WherebyRoom.recording_at <= at),
        )
        .values(recording_id=recording_id, recording_at=at, updated_at=utcnow()),
    )
