"""Storage of what people do with action items: changes applied with an optimistic version,
who has open items, reminder preferences and the daily reminders already claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import get_row, insert_ignore, touched, transaction, write
from bot.store.models import SlackPost
from handlers.action_items.store import DONE, OPEN
from handlers.action_items.tables import (
    ActionItemEvent,
    ActionItemRecord,
    ReminderPreference,
    ReminderSent,
)

Kind = Literal["assign", "done", "reopen", "due"]


class Conflict(Exception):
    """Another change of the item was committed since it was read: read it again and retry."""


@dataclass(frozen=True)
class ItemState:
    """An action item as stored, detached from the database session."""

    id: int
    provider: str
    meeting_id: str
    position: int | None
    meeting_title: str
    text: str
    provider_assignee: str | None
    assignee: str | None
    suggested: bool
    assigned_by: str | None
    due: date | None
    status: str
    closed_by: str | None
    version: int
    created_at: datetime

    @property
    def done(self) -> bool:
        return self.status == DONE

    @property
    def meeting_key(self) -> tuple[str, str]:
        return (self.provider, self.meeting_id)


def state_of(row: ActionItemRecord) -> ItemState:
    return ItemState(
        id=row.id,
        provider=row.provider,
        meeting_id=row.meeting_id,
        position=row.position,
        meeting_title=row.meeting_title,
        text=row.text,
        provider_assignee=row.provider_assignee_name or row.provider_assignee_email,
        assignee=row.assignee_id,
        suggested=row.suggested,
        assigned_by=row.assigned_by,
        due=row.due,
        status=row.status,
        closed_by=row.closed_by,
        version=row.version,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class Applied:
    """The outcome of a change: the item before and after, and the event that recorded it.

    ``changed`` is False when the item already was as asked (nothing stored); ``duplicate``
    when this very interaction had been applied before.
    """

    before: ItemState
    after: ItemState
    event_id: int | None
    changed: bool
    duplicate: bool = False


async def get_item(sessions: async_sessionmaker[AsyncSession], item_id: int) -> ItemState | None:
    row = await get_row(sessions, ActionItemRecord, item_id)
    return state_of(row) if row is not None else None


async def item_at(
    sessions: async_sessionmaker[AsyncSession], provider: str, meeting_id: str, position: int
) -> ItemState | None:
    """The item shown at ``position`` in a meeting's digest."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(ActionItemRecord).where(
                    ActionItemRecord.provider == provider,
                    ActionItemRecord.meeting_id == meeting_id,
                    ActionItemRecord.position == position,
                )
            )
        ).scalar_one_or_none()
        return state_of(row) if row is not None else None


async def digest_post(
    sessions: async_sessionmaker[AsyncSession], channel_id: str, ts: str
) -> SlackPost | None:
    """The digest message Debrief posted at ``ts`` in a channel (a part named ``digest…``)."""
    # Looked up by (channel, ts), not by the stored key: a click names only the message.
    async with sessions() as session:
        rows = await session.execute(
            select(SlackPost).where(SlackPost.channel_id == channel_id, SlackPost.ts == ts)
        )
        for post in rows.scalars():
            if post.part == "digest" or post.part.startswith("digest."):
                return post
    return None


def _changes(
    before: ItemState, kind: Kind, value: str | None, actor: str, now: datetime
) -> dict[str, Any]:
    """The columns a change sets; empty when the item already is as asked."""
    if kind == "assign":
        if value == before.assignee and not before.suggested:
            return {}
        return {"assignee_id": value, "suggested": False, "assigned_by": actor, "assigned_at": now}
    if kind == "done":
        if before.done:
            return {}
        return {"status": DONE, "closed_by": actor, "closed_at": now, "reopened_by": None}
    if kind == "reopen":
        if not before.done:
            return {}
        return {"status": OPEN, "closed_by": None, "closed_at": None, "reopened_by": actor}
    due = date.fromisoformat(value) if value else None
    return {} if due == before.due else {"due": due, "due_set_by": actor if due else None}


def _after(before: ItemState, values: dict[str, Any]) -> ItemState:
    names = {
        "assignee_id": "assignee",
        "suggested": "suggested",
        "assigned_by": "assigned_by",
        "status": "status",
        "closed_by": "closed_by",
        "due": "due",
    }
    moved = {names[k]: v for k, v in values.items() if k in names}
    return replace(before, **moved, version=before.version + 1)


def _event_values(kind: Kind, before: ItemState, after: ItemState) -> tuple[str | None, str | None]:
    if kind == "assign":
        return before.assignee, after.assignee
    if kind == "due":
        return (
            before.due.isoformat() if before.due else None,
            after.due.isoformat() if after.due else None,
        )
    return before.status, after.status


async def apply_change(
    session: AsyncSession,
    item_id: int,
    kind: Kind,
    value: str | None,
    *,
    actor: str,
    action_key: str,
    now: datetime,
) -> Applied | None:
    """Apply one person's change to an item inside ``session``'s transaction.

    Returns None when the item does not exist. The update names the version it read: when
    another change got in first, :class:`Conflict` is raised and the caller, having rolled
    back, tries again on fresh data. The same ``action_key`` is applied once only.
    """
    row = (
        await session.execute(select(ActionItemRecord).where(ActionItemRecord.id == item_id))
    ).scalar_one_or_none()
    if row is None:
        return None
    before = state_of(row)
    values = _changes(before, kind, value, actor, now)
    if not values:
        return Applied(before, before, None, changed=False)
    after = _after(before, values)
    old, new = _event_values(kind, before, after)
    fresh = await insert_ignore(
        session,
        ActionItemEvent,
        {
            "item_id": item_id,
            "kind": kind,
            "actor": actor,
            "before": old,
            "after": new,
            "action_key": action_key,
            "created_at": now,
        },
    )
    if not fresh:
        return Applied(before, before, None, changed=False, duplicate=True)
    result = await session.execute(
        update(ActionItemRecord)
        .where(ActionItemRecord.id == item_id, ActionItemRecord.version == before.version)
        .values(**values, version=before.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not touched(result):
        raise Conflict(f"action item {item_id} changed since version {before.version}")
    event_id = (
        await session.execute(
            select(ActionItemEvent.id).where(ActionItemEvent.action_key == action_key)
        )
    ).scalar_one()
    return Applied(before, after, event_id, changed=True)


async def get_event(
    sessions: async_sessionmaker[AsyncSession], event_id: int
) -> tuple[ActionItemEvent, ItemState] | None:
    """An event and the item it changed (as the item is now)."""
    async with sessions() as session:
        event = await session.get(ActionItemEvent, event_id)
        if event is None:
            return None
        row = await session.get(ActionItemRecord, event.item_id)
        return (event, state_of(row)) if row is not None else None


def _listed() -> Sequence[Any]:
    return (ActionItemRecord.status == OPEN, ActionItemRecord.position.is_not(None))


async def open_items_of(sessions: async_sessionmaker[AsyncSession], user: str) -> list[ItemState]:
    """The open items assigned to ``user`` (those still in their meeting)."""
    async with sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord)
            .where(ActionItemRecord.assignee_id == user, *_listed())
            .order_by(ActionItemRecord.id)
        )
        return [state_of(row) for row in rows.scalars()]


async def open_items_assigned_by(
    sessions: async_sessionmaker[AsyncSession], user: str
) -> list[ItemState]:
    """The open items ``user`` assigned to somebody else."""
    async with sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord)
            .where(
                ActionItemRecord.assigned_by == user,
                ActionItemRecord.assignee_id != user,
                *_listed(),
            )
            .order_by(ActionItemRecord.id)
        )
        return [state_of(row) for row in rows.scalars()]


async def people_to_remind(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Everyone with open items who has not turned the daily reminder off."""
    async with sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord.assignee_id)
            .outerjoin(
                ReminderPreference, ReminderPreference.user_id == ActionItemRecord.assignee_id
            )
            .where(
                ActionItemRecord.assignee_id.is_not(None),
                *_listed(),
                or_(ReminderPreference.enabled.is_(None), ReminderPreference.enabled.is_(True)),
            )
            .distinct()
        )
        return sorted(str(user) for user in rows.scalars() if user)


async def reminders_enabled(sessions: async_sessionmaker[AsyncSession], user: str) -> bool:
    row = await get_row(sessions, ReminderPreference, user)
    return row is None or row.enabled


async def set_reminders(session: AsyncSession, user: str, enabled: bool, now: datetime) -> None:
    """Turn ``user``'s daily reminder on or off, in ``session``'s transaction."""
    values = {"user_id": user, "enabled": enabled, "updated_at": now}
    if not await insert_ignore(session, ReminderPreference, values):
        await session.execute(
            update(ReminderPreference)
            .where(ReminderPreference.user_id == user)
            .values(enabled=enabled, updated_at=now)
        )


async def reminder_claimed(
    sessions: async_sessionmaker[AsyncSession], user: str, local_date: date
) -> bool:
    return await get_row(sessions, ReminderSent, (user, local_date)) is not None


async def claim_reminder(
    sessions: async_sessionmaker[AsyncSession],
    user: str,
    local_date: date,
    job_id: int,
    now: datetime,
) -> bool:
    """Take the one reminder of ``user`` on ``local_date``; True for the job that holds it.

    The primary key makes the claim exclusive across processes; the claiming job (the same
    job id, run again after a crash) keeps it and finishes what it started.
    """
    async with transaction(sessions) as session:
        values = {
            "user_id": user,
            "local_date": local_date,
            "job_id": job_id,
            "items": 0,
            "claimed_at": now,
        }
        if await insert_ignore(session, ReminderSent, values):
            return True
        row = await session.get(ReminderSent, (user, local_date))
        return row is not None and row.job_id == job_id and row.sent_at is None


async def mark_reminded(
    sessions: async_sessionmaker[AsyncSession],
    user: str,
    local_date: date,
    items: int,
    now: datetime,
) -> None:
    await write(
        sessions,
        update(ReminderSent)
        .where(ReminderSent.user_id == user, ReminderSent.local_date == local_date)
        .values(items=items, sent_at=now),
    )
