"""Storing a delivered meeting for search, and forgetting one everywhere Debrief keeps it."""

from __future__ import annotations

from sqlalchemy import update

from bot.meetings import Meeting
from bot.services import Services
from bot.store.db import transaction
from handlers.action_items.links import permalink
from handlers.digest.tables import Digest
from handlers.search.index import MeetingKey, forget, index_meeting
from handlers.search.tables import StoredMeeting

#: The key of ``Meeting.extras`` naming the Slack user a meeting belongs to (who sent its
#: notetaker or asked for it).
REQUESTER = "slack_user_id"


def requester_of(meeting: Meeting) -> str | None:
    """The Slack user the meeting is theirs, when its provider's metadata says (an Attendee
    notetaker sent from Slack carries ``slack_user_id``)."""
    for source in (meeting.extras, meeting.extras.get("metadata")):
        if isinstance(source, dict):
            user = source.get(REQUESTER)
            if isinstance(user, str) and user:
                return user
    return None


async def store_delivered(services: Services, meeting: Meeting, channel: str, ts: str) -> int:
    """Store and index a meeting whose digest is now at ``ts`` in ``channel``; a re-delivery
    replaces what was stored. Returns the stored meeting's id."""
    link = await permalink(services, channel, ts)
    async with transaction(services.sessions) as session:
        return await index_meeting(
            session,
            meeting,
            now=services.clock(),
            channel_id=channel,
            digest_ts=ts,
            permalink=link,
            requester_id=requester_of(meeting),
            team_id=str(meeting.extras.get("slack_team_id") or "") or None,
        )


async def forget_meeting(services: Services, stored: StoredMeeting) -> None:
    """Delete a stored meeting, its passages and index entries, and the copy of the meeting
    its digests kept (the Slack messages themselves stay, as people posted replies under them)."""
    async with transaction(services.sessions) as session:
        await forget(session, stored.id)
        await session.execute(
            update(Digest)
            .where(Digest.provider == stored.provider, Digest.meeting_id == stored.meeting_id)
            .values(meeting=None)
        )


__all__ = ["REQUESTER", "MeetingKey", "forget_meeting", "requester_of", "store_delivered"]
