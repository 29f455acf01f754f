"""Storing a meeting's action items when its digest is delivered, and reading back the state the
digest renders: every provider's items, the same way.

New items are pre-assigned to the Slack member whose email the provider names
(``users.lookupByEmail``, remembered for a day, a miss for an hour) and marked as suggested by
the provider; without a match they stay unassigned and the digest shows the provider's name.
Items already stored keep what people did with them; only their text and place follow the
provider. The digest's delivery calls :func:`sync_items` and then reads the states back
(``handlers.digest.items.item_views``); this module imports nothing from ``handlers`` so that
the digest can import it whatever is imported first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.meetings import ActionItem, Meeting
from bot.services import Services
from bot.slack import slack_error
from bot.store.db import insert_ignore, transaction
from handlers.action_items.tables import ActionItemRecord, SlackEmailLookup

log = logging.getLogger(__name__)

#: How long a ``users.lookupByEmail`` answer is trusted; a miss is asked again sooner, since
#: the person may join the workspace.
LOOKUP_TTL = timedelta(days=1)
MISS_TTL = timedelta(hours=1)
EMAIL_MAX = 255
OPEN, DONE = "open", "done"


def item_key(item: ActionItem, number: int) -> str:
    """What identifies an item across deliveries: the provider's id, else its place."""
    if item.provider_id and len(item.provider_id) <= 180:
        return f"id:{item.provider_id}"
    return f"n:{number}"


def normal_email(email: str | None) -> str | None:
    """An email as looked up and cached (lower case), or None when it is not one."""
    text = (email or "").strip().lower()
    return text if "@" in text and len(text) <= EMAIL_MAX else None


async def sync_items(services: Services, meeting: Meeting) -> None:
    """Store ``meeting``'s action items, new ones pre-assigned by email.

    Safe to run twice at once (two channels delivering one meeting): rows are inserted only
    where none exists, and what people changed is never overwritten.
    """
    keys: list[str] = []
    for number, item in enumerate(meeting.action_items, 1):
        key = item_key(item, number)
        keys.append(key if key not in keys else f"n:{number}")
    async with services.sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord.item_key).where(
                ActionItemRecord.provider == meeting.provider,
                ActionItemRecord.meeting_id == meeting.meeting_id,
            )
        )
        known = set(rows.scalars())
    fresh = [
        (number, item)
        for number, (key, item) in enumerate(zip(keys, meeting.action_items, strict=True), 1)
        if key not in known
    ]
    people = await lookup_emails(services, (normal_email(item.assignee_email) for _, item in fresh))
    now = services.clock()
    async with transaction(services.sessions) as session:
        for number, (key, item) in enumerate(zip(keys, meeting.action_items, strict=True), 1):
            described = {
                "position": number,
                "meeting_title": meeting.title[:300],
                "text": item.text,
                "provider_assignee_name": (item.assignee_name or "")[:255] or None,
                "provider_assignee_email": normal_email(item.assignee_email),
            }
            if key in known:
                await session.execute(
                    update(ActionItemRecord)
                    .where(*_is_item(meeting, key))
                    .values(**described, updated_at=now)
                )
                continue
            assignee = people.get(normal_email(item.assignee_email) or "")
            done = item.is_done
            await insert_ignore(
                session,
                ActionItemRecord,
                {
                    "provider": meeting.provider,
                    "meeting_id": meeting.meeting_id,
                    "item_key": key,
                    **described,
                    "assignee_id": assignee,
                    "suggested": assignee is not None,
                    "assigned_by": None,
                    "assigned_at": now if assignee else None,
                    "due": _due_date(item.due),
                    "status": DONE if done else OPEN,
                    "closed_by": None,
                    "closed_at": now if done else None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        # Items the provider no longer lists leave the digest, the Home tab and the reminders.
        await session.execute(
            update(ActionItemRecord)
            .where(
                ActionItemRecord.provider == meeting.provider,
                ActionItemRecord.meeting_id == meeting.meeting_id,
                ActionItemRecord.item_key.not_in(keys) if keys else true(),
                ActionItemRecord.position.is_not(None),
            )
            .values(position=None, updated_at=now)
        )


def _is_item(meeting: Meeting, key: str) -> tuple[ColumnElement[bool], ...]:
    return (
        ActionItemRecord.provider == meeting.provider,
        ActionItemRecord.meeting_id == meeting.meeting_id,
        ActionItemRecord.item_key == key,
    )


def _due_date(due: datetime | None) -> date | None:
    # The calendar day the provider means, in whatever zone it wrote the moment.
    return due.date() if due is not None else None


async def lookup_emails(services: Services, emails: Iterable[str | None]) -> dict[str, str | None]:
    """The Slack member of each email (None: nobody), from the cache or ``users.lookupByEmail``.

    A Slack failure other than "nobody has this email" leaves that email unanswered for now
    (and uncached): the item stays unassigned rather than the digest waiting.
    """
    wanted = sorted({e for e in emails if e})
    found: dict[str, str | None] = {}
    if not wanted:
        return found
    now = services.clock()
    async with services.sessions() as session:
        rows = await session.execute(
            select(SlackEmailLookup).where(SlackEmailLookup.email.in_(wanted))
        )
        for row in rows.scalars():
            ttl = LOOKUP_TTL if row.user_id else MISS_TTL
            if row.looked_up_at + ttl > now:
                found[row.email] = row.user_id
    for email in wanted:
        if email in found:
            continue
        try:
            answer = await services.slack.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if slack_error(exc) != "users_not_found":
                log.warning("cannot look up %s in Slack (%s)", email, slack_error(exc))
                continue
            user = None
        else:
            member = answer.get("user") or {}
            usable = not (member.get("deleted") or member.get("is_bot"))
            user = str(member["id"]) if usable and member.get("id") else None
        found[email] = user
        await _remember(services.sessions, email, user, now)
    return found


async def _remember(
    sessions: async_sessionmaker[AsyncSession], email: str, user: str | None, now: datetime
) -> None:
    async with transaction(sessions) as session:
        if not await insert_ignore(
            session, SlackEmailLookup, {"email": email, "user_id": user, "looked_up_at": now}
        ):
            await session.execute(
                update(SlackEmailLookup)
                .where(SlackEmailLookup.email == email)
                .values(user_id=user, looked_up_at=now)
            )
