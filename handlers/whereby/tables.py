"""The table Whereby rooms keep their state in (on the one ``Base`` metadata)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class WherebyRoom(Base):
    """A Whereby room opened from Slack: where its message is, and what its session is doing.

    The session fields hold the provider's own event times, so that webhooks applied in any
    order leave the newest truth (an ``ended`` seen before its ``started`` stays ended).
    """

    __tablename__ = "whereby_rooms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meeting_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    #: Without Whereby's leading "/", as ``providers.whereby.normalize_room_name`` gives it.
    room_name: Mapped[str | None] = mapped_column(String(191), unique=True, default=None)
    room_url: Mapped[str | None] = mapped_column(Text, default=None)
    title: Mapped[str] = mapped_column(String(200), default="")
    name_prefix: Mapped[str | None] = mapped_column(String(39), default=None)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    creator_id: Mapped[str] = mapped_column(String(32))
    minutes: Mapped[int] = mapped_column(default=60)
    end_at: Mapped[datetime | None] = mapped_column(default=None)
    #: creating | open | failed | closed | expired
    status: Mapped[str] = mapped_column(String(16), default="creating")
    status_detail: Mapped[str | None] = mapped_column(Text, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    session_id: Mapped[str | None] = mapped_column(String(64), default=None)
    session_started_at: Mapped[datetime | None] = mapped_column(default=None)
    session_ended_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The earliest and latest event times seen of ``session_id``: an event of another
    #: session replaces it only when it is newer than everything seen of this one.
    session_first_at: Mapped[datetime | None] = mapped_column(default=None)
    session_last_at: Mapped[datetime | None] = mapped_column(default=None)
    participants: Mapped[int] = mapped_column(default=0)
    participants_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Display names of the people who joined, for the digest.
    people: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recording_id: Mapped[str | None] = mapped_column(String(64), default=None)
    recording_at: Mapped[datetime | None] = mapped_column(default=None)
    transcription_id: Mapped[str | None] = mapped_column(String(64), default=None)
    summary_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: summarising | posted | failed
    digest_state: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
