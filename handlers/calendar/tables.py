"""The calendar autopilot's tables: whose calendars Debrief follows, each person's policy, and
what Debrief decided for every event it saw (one row per Attendee calendar event)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow


class CalendarLink(Base):
    """A calendar synced by Attendee that belongs to a Slack user (its metadata names them)."""

    __tablename__ = "calendars"

    #: Attendee's calendar id (``cal_…``).
    calendar_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    #: ``google`` or ``microsoft``.
    platform: Mapped[str] = mapped_column(String(16), default="")
    deduplication_key: Mapped[str | None] = mapped_column(String(191), default=None)
    #: ``connected`` or ``disconnected`` (Attendee's two states).
    state: Mapped[str] = mapped_column(String(16), default="connected")
    #: Why it is disconnected, in words (from Attendee's ``connection_failure_data``).
    state_detail: Mapped[str | None] = mapped_column(Text, default=None)
    #: Attendee's ``last_successful_sync_at``.
    last_synced_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The newest event ``updated_at`` taken in: the next fetch asks for ``updated_after`` it.
    events_cursor: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarPolicy(Base):
    """Which of a person's calendar meetings get a notetaker."""

    __tablename__ = "calendar_policies"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")
    #: ``all`` (every meeting with a link), ``organised``, ``accepted``, ``internal``,
    #: ``external``.
    scope: Mapped[str] = mapped_column(String(16), default="all")
    #: Words in a title that mean "never record" (lower case).
    never_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Recurring series the owner said never to record (Attendee/Google/Microsoft series ids).
    never_series: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarEventRecord(Base):
    """One calendar event as Debrief last applied it, and what it decided for it."""

    __tablename__ = "calendar_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: Attendee's event id (``evt_…``).
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    calendar_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    #: The recurring series it belongs to, if any.
    series: Mapped[str | None] = mapped_column(String(255), default=None)
    title: Mapped[str] = mapped_column(String(300), default="")
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime | None] = mapped_column(default=None)
    meeting_url: Mapped[str | None] = mapped_column(Text, default=None)
    #: What Debrief decided: ``scheduled``, ``policy`` (the policy leaves it out), ``no_link``,
    #: ``cancelled``, ``past``, ``skipped`` (the owner said so), ``refused`` (Attendee said no).
    decision: Mapped[str] = mapped_column(String(16))
    #: Why, in words a person reads (shown in DMs and ``/debrief calendar``).
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: The owner's own word on this one event: ``skip`` or ``record`` (None: the policy decides).
    owner_choice: Mapped[str | None] = mapped_column(String(16), default=None)
    #: The notetaker's ``deduplication_key`` at Attendee, derived from the event.
    dedup_key: Mapped[str] = mapped_column(String(128))
    #: The notetaker request (``attendee_bots.id``) made for it, if one was.
    bot_request_id: Mapped[str | None] = mapped_column(String(36), default=None)
    #: Attendee's ``updated_at`` of the version applied (an older one is never applied again).
    event_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The day (``YYYY-MM-DD``, owner's time zone) whose morning DM named it.
    morning_of: Mapped[str | None] = mapped_column(String(10), default=None)
    #: When the DM a few minutes before its notetaker joins went out.
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
