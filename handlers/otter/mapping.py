"""An Otter conversation as the provider-neutral ``Meeting`` the digest renders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.meetings import (
    ActionItem,
    Insight,
    Links,
    Meeting,
    OutlineSection,
    Person,
    Utterance,
    speaking_seconds,
)
from providers.otter import Conversation

PROVIDER = "otter"
#: The relationships the digest renders (not `all`: it would add the custom prompt output).
RELATIONSHIPS = ("action_items", "insights", "outlines", "transcript")


def is_complete(conversation: Conversation) -> bool:
    """Processed, and carrying every relationship the digest needs (the transcript may lack)."""
    return (
        conversation.ready
        and conversation.action_items is not None
        and conversation.insights is not None
        and conversation.outline is not None
    )


def channel_names(conversation: Conversation, extra: Iterable[str] = ()) -> list[str]:
    """The Otter channels the conversation is in: those named by a webhook, then its shares."""
    names = [name for name in extra if name]
    for share in conversation.shared_channels:
        if share.channel is not None and share.channel.name:
            names.append(share.channel.name)
    return list(dict.fromkeys(names))


def to_meeting(conversation: Conversation, *, channels: Iterable[str] = ()) -> Meeting:
    """Map a conversation (with whichever relationships it carries) into a ``Meeting``.

    Args:
        conversation: from ``GET /conversations/{id}`` or a webhook's ``data``.
        channels: Otter channel names known from elsewhere (the webhook's source channel).
    """
    segments = conversation.transcript.segments if conversation.transcript else []
    transcript = [
        Utterance(
            speaker=segment.speaker or "Unknown speaker",
            text=segment.text,
            start_seconds=segment.start or 0.0,
            # Otter's text transcript stamps when each turn starts; the next one's start ends
            # it, and the last one lasts as long as its words take to say.
            duration_seconds=(
                max(0.0, segment.end - segment.start)
                if segment.end is not None and segment.start is not None
                else speaking_seconds(segment.text)
            ),
        )
        for segment in segments
        if segment.text
    ]
    owner = None
    if conversation.owner is not None:
        owner = Person(
            name=conversation.owner.display_name, email=conversation.owner.email, is_host=True
        )
    participants: list[Person] = []
    for guest in conversation.calendar_guests:
        if guest.name or guest.email:
            participants.append(Person(name=guest.name or guest.email or "", email=guest.email))
    known = {p.name.lower() for p in participants} | ({owner.name.lower()} if owner else set())
    for speaker in conversation.speakers:
        if speaker.lower() not in known:
            known.add(speaker.lower())
            participants.append(Person(name=speaker))
    extra = conversation.model_extra or {}
    started = _moment(extra.get("start_time")) or conversation.created_at
    ended = _moment(extra.get("end_time"))
    duration = _seconds(extra.get("duration"))
    return Meeting(
        provider=PROVIDER,
        meeting_id=conversation.id,
        title=conversation.display_title,
        started_at=started,
        ended_at=ended,
        duration=duration,
        owner=owner,
        participants=participants,
        summary=conversation.abstract_summary,
        action_items=[
            ActionItem(
                text=item.text,
                assignee_name=item.assignee_name,
                assignee_email=item.assignee_email,
                status="done" if item.completed else "open",
                provider_id=item.id,
            )
            for item in conversation.action_items or []
            if item.text.strip()
        ],
        insights=[
            Insight(topic=insight.topic, points=insight.text)
            for insight in conversation.insights or []
        ],
        outline=[
            OutlineSection(title=section.section or "Untitled section", points=section.text)
            for section in conversation.outline or []
        ],
        transcript=transcript,
        links=Links(
            provider_page=conversation.url or f"https://otter.ai/u/{conversation.id}",
            call=conversation.conf_join_url,
        ),
        provider_channels=channel_names(conversation, channels),
    )


def _moment(value: Any) -> datetime | None:
    # Fields Otter's reference does not document, read leniently: ISO text or epoch seconds.
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str) and value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _seconds(value: Any) -> timedelta | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=float(value))
    return None
