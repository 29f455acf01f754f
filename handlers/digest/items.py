"""The action items' side of the digest: what the renderer is told about each item's stored
state, the ids of the controls it draws, where each item lives among a digest's messages, and
the job that re-renders a meeting's digests in place after an item changed.

It imports nothing from ``handlers``, so that ``handlers.action_items`` can use it without
importing the delivery (which imports the action items' store).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.action_items.tables import ActionItemRecord

#: The per-item controls: a users select (assign), Done / Reopen buttons and a due-date picker.
ACTION_ASSIGN = "action_items.assign"
ACTION_DONE = "action_items.done"
ACTION_REOPEN = "action_items.reopen"
ACTION_DUE = "action_items.due"
ITEM_BLOCK_PREFIX = "digest.item."
CONTROLS_BLOCK_PREFIX = "digest.controls."
_ITEM_BLOCK = re.compile(r"^digest\.(?:item|controls)\.([1-9][0-9]{0,5})$")

#: The parent message and the thread replies of a digest, as stored under its natural key.
PARENT_PART = "digest"
#: Action items shown in the parent message; the rest go to the thread.
ITEMS_IN_PARENT = 10
#: Action items per thread message: two blocks each (the item and its controls) plus a heading
#: stay within Slack's 50 blocks.
ITEMS_PER_MESSAGE = 20

JOB_REFRESH = "digest.refresh"


@dataclass(frozen=True)
class ItemView:
    """An action item's stored state, as the digest shows it."""

    item_id: int
    done: bool = False
    #: The Slack user it is assigned to.
    assignee: str | None = None
    #: The assignee was suggested by this provider (matched by email), not chosen by a person.
    suggested: bool = False
    assigned_by: str | None = None
    closed_by: str | None = None
    reopened_by: str | None = None
    due: date | None = None
    due_set_by: str | None = None


class RefreshJob(BaseModel):
    """Re-render every digest of a meeting in place, after one of its items changed.

    When ``response_url`` is given and the message clicked (``channel``, ``ts``) turns out to be
    deleted, ``gone_text`` is said to the person who clicked.
    """

    provider: str
    meeting_id: str
    response_url: str | None = None
    channel: str | None = None
    ts: str | None = None
    gone_text: str | None = None


def view_of(row: ActionItemRecord) -> ItemView:
    """What the digest shows of a stored item."""
    return ItemView(
        item_id=row.id,
        done=row.status == "done",
        assignee=row.assignee_id,
        suggested=row.suggested,
        assigned_by=row.assigned_by,
        closed_by=row.closed_by,
        reopened_by=row.reopened_by,
        due=row.due,
        due_set_by=row.due_set_by,
    )


async def item_views(
    sessions: async_sessionmaker[AsyncSession], provider: str, meeting_id: str
) -> dict[int, ItemView]:
    """The stored state of each item of a meeting, by its 1-based place in the meeting."""
    async with sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord).where(
                ActionItemRecord.provider == provider,
                ActionItemRecord.meeting_id == meeting_id,
                ActionItemRecord.position.is_not(None),
            )
        )
        return {row.position: view_of(row) for row in rows.scalars() if row.position is not None}


def thread_part(number: int) -> str:
    """The part name of the ``number``-th (1-based) thread reply."""
    return f"{PARENT_PART}.{number}"


def item_part(position: int) -> str:
    """The part (message) of a digest that shows the item at ``position`` (1-based)."""
    if position <= ITEMS_IN_PARENT:
        return PARENT_PART
    return thread_part((position - ITEMS_IN_PARENT - 1) // ITEMS_PER_MESSAGE + 1)


def item_number(block_id: str) -> int | None:
    """The 1-based position named by an item's ``block_id`` (its section or its controls)."""
    match = _ITEM_BLOCK.match(block_id or "")
    return int(match[1]) if match else None
