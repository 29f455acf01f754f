"""Who may change an action item: one rule for the digest message, the App Home tab and DMs.

Its assignee, whoever assigned it, the person who asked for the meeting from Slack, the members
of any channel its digest was delivered to, and workspace admins may complete, reopen, reassign
or date it; anyone else is refused with the reason (``handlers.access`` applies the rule).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from handlers.access import Belongs, digest_channels
from handlers.action_items.repo import ItemState, Kind
from handlers.attendee.tables import AttendeeBot
from handlers.whereby.tables import WherebyRoom

OWNERS_ARE = "its assignee, who assigned it, the person who asked for the meeting"
VERBS: dict[Kind, str] = {
    "assign": "reassign",
    "done": "complete",
    "reopen": "reopen",
    "due": "date",
}


async def requester(session: AsyncSession, provider: str, meeting_id: str) -> str | None:
    """Who asked for the meeting from Slack (a room's opener, a notetaker's sender), if anyone."""
    if provider == "whereby":
        # A session's digest in the room's thread is keyed by its transcription.
        query = select(WherebyRoom.creator_id).where(
            or_(
                WherebyRoom.meeting_id == meeting_id,
                WherebyRoom.id == meeting_id,
                WherebyRoom.transcription_id == meeting_id,
            )
        )
    elif provider == "attendee":
        query = select(AttendeeBot.user_id).where(
            or_(AttendeeBot.id == meeting_id, AttendeeBot.bot_id == meeting_id)
        )
    else:
        return None  # Otter and Claritalk meetings come by webhook, not from a Slack request
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def item_belongs(services: Services, item: ItemState) -> Belongs:
    """The channels an item's digest lives in and the people it is theirs."""
    channels = await digest_channels(services, item.provider, item.meeting_id)
    async with services.sessions() as session:
        asked_by = await requester(session, item.provider, item.meeting_id)
    return Belongs.of(
        "action item", channels, [item.assignee, item.assigned_by, asked_by], OWNERS_ARE
    )
