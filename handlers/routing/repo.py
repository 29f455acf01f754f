"""Storage of routing rules, held digests and the workspace's email domains."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.meetings import Meeting
from bot.store.db import insert_ignore, touched, transaction
from handlers.routing.rules import Rule
from handlers.routing.tables import DigestRoute, HeldDigest, SyncState


def _rule(row: DigestRoute) -> Rule:
    return Rule(row.id, row.kind, row.value, row.channel_id)


async def list_routes(sessions: async_sessionmaker[AsyncSession]) -> list[Rule]:
    """Every rule, oldest first."""
    async with sessions() as session:
        rows = await session.execute(select(DigestRoute).order_by(DigestRoute.id))
        return [_rule(row) for row in rows.scalars()]


async def save_route(
    sessions: async_sessionmaker[AsyncSession],
    kind: str,
    value: str,
    channel: str,
    user: str,
    now: datetime,
) -> tuple[Rule, str | None]:
    """Add a rule, or point the existing one for the same target elsewhere.

    Returns the rule and the channel it pointed to before (None when it is new).
    """
    async with transaction(sessions) as session:
        inserted = await insert_ignore(
            session,
            DigestRoute,
            {
                "kind": kind,
                "value": value,
                "channel_id": channel,
                "created_by": user,
                "created_at": now,
            },
        )
        row = (
            await session.execute(
                select(DigestRoute).where(DigestRoute.kind == kind, DigestRoute.value == value)
            )
        ).scalar_one()
        before = None
        if not inserted:
            before = row.channel_id
            row.channel_id, row.created_by = channel, user
        return _rule(row), before


async def delete_route(sessions: async_sessionmaker[AsyncSession], rule_id: int) -> Rule | None:
    """Remove the rule with this id; the removed rule, or None if there was none."""
    async with transaction(sessions) as session:
        row = await session.get(DigestRoute, rule_id)
        if row is None:
            return None
        rule = _rule(row)
        await session.delete(row)
        return rule


async def hold(session: AsyncSession, meeting: Meeting, now: datetime) -> bool:
    """Keep a digest that has nowhere to go; True when it was not held already."""
    data = meeting.model_dump(mode="json")
    title = meeting.title[:300]
    values = {
        "provider": meeting.provider,
        "meeting_id": meeting.meeting_id,
        "title": title,
        "meeting": data,
        "held_at": now,
    }
    if await insert_ignore(session, HeldDigest, values):
        return True
    row = await session.get(HeldDigest, (meeting.provider, meeting.meeting_id))
    if row is not None:
        row.meeting, row.title = data, title  # the newest version
    return False


async def held(sessions: async_sessionmaker[AsyncSession]) -> list[HeldDigest]:
    async with sessions() as session:
        rows = await session.execute(select(HeldDigest).order_by(HeldDigest.held_at))
        return list(rows.scalars())


async def held_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = (await session.execute(select(func.count()).select_from(HeldDigest))).scalar()
        return int(count or 0)


async def unhold(session: AsyncSession, provider: str, meeting_id: str) -> bool:
    """Take a held digest out; False when another process took it first."""
    result = await session.execute(
        delete(HeldDigest).where(
            HeldDigest.provider == provider, HeldDigest.meeting_id == meeting_id
        )
    )
    return touched(result)


async def read_state(
    sessions: async_sessionmaker[AsyncSession], name: str, max_age: timedelta, now: datetime
) -> dict[str, Any] | None:
    """A named state value no older than ``max_age``."""
    async with sessions() as session:
        row = await session.get(SyncState, name)
        if row is None or row.updated_at < now - max_age:
            return None
        return dict(row.value)


async def write_state(
    sessions: async_sessionmaker[AsyncSession], name: str, value: dict[str, Any], now: datetime
) -> None:
    async with transaction(sessions) as session:
        fresh = {"name": name, "value": value, "updated_at": now}
        if not await insert_ignore(session, SyncState, fresh):
            await session.execute(
                update(SyncState).where(SyncState.name == name).values(value=value, updated_at=now)
            )
