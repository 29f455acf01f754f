"""The table Attendee notetakers keep their state in (on the one ``Base`` metadata)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class AttendeeBot(Base):
    """A notetaker sent from Slack: who asked, where to report, and the newest state applied."""

    __tablename__ = "attendee_bots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bot_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    meeting_url: Mapped[str] = mapped_column(Text)
    join_at: Mapped[datetime | None] = mapped_column(default=None)
    dedup_key: Mapped[str] = mapped_column(String(128), index=True)
    #: The dedup key while the request is under way, NULL once it is over: unique, so two
    #: simultaneous requests for one meeting from one channel cannot both be accepted.
    open_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    state: Mapped[str] = mapped_column(String(40), default="requested")
    state_at: Mapped[datetime | None] = mapped_column(default=None)
    state_detail: Mapped[str | None] = mapped_column(Text, default=None)
    #: Who made it leave from Slack (its status message says so).
    stopped_by: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The Attendee calendar event it was scheduled for by the calendar autopilot (None: sent
    #: from Slack). Attendee moves or deletes such a bot itself when its event changes.
    calendar_event_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
