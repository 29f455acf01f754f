"""Action items' tables: the items, their history, reminders, looked-up emails and permalinks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow


class ActionItemRecord(Base):
    """An action item of a meeting, owned in Slack: who it is for, by when, and whether done.

    Keyed by the provider's item id (``item_key`` ``id:<id>``) or, for providers without ids, by
    its place in the meeting (``n:<number>``). ``position`` is its 1-based place in the meeting's
    latest delivery (the digest's ``digest.item.<n>``), NULL once the provider dropped it.
    ``version`` grows with every change: an update names the version it read, so two clicks
    racing on one item are applied one after the other, never half each.
    """

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[str] = mapped_column(String(191))
    item_key: Mapped[str] = mapped_column(String(191))
    position: Mapped[int | None] = mapped_column(default=None)
    meeting_title: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    provider_assignee_name: Mapped[str | None] = mapped_column(String(255), default=None)
    provider_assignee_email: Mapped[str | None] = mapped_column(String(255), default=None)
    assignee_id: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The assignee is the provider's suggestion (matched by email), not a person's choice.
    suggested: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_by: Mapped[str | None] = mapped_column(String(32), default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    due: Mapped[date | None] = mapped_column(Date, default=None)
    due_set_by: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    reopened_by: Mapped[str | None] = mapped_column(String(32), default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("provider", "meeting_id", "item_key"),
        Index("ix_action_items_assignee", "assignee_id", "status"),
        Index("ix_action_items_assigned_by", "assigned_by", "status"),
        Index("ix_action_items_updated_at", "updated_at"),
    )


class ActionItemEvent(Base):
    """One change to an action item: who did what, when, and from which click.

    ``action_key`` names the Slack interaction that caused it (unique): the same click applied
    twice (a redelivery, a retried job) is recognised and changes nothing the second time.
    """

    __tablename__ = "action_item_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("action_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(32), default=None)
    before: Mapped[str | None] = mapped_column(String(64), default=None)
    after: Mapped[str | None] = mapped_column(String(64), default=None)
    action_key: Mapped[str | None] = mapped_column(String(191), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderPreference(Base):
    """Whether a person wants the daily action-item reminder (on unless they turned it off)."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSent(Base):
    """The daily reminder of one person on one local date: at most one, whoever sends it.

    The primary key is the guarantee: a second process, a restart or a second scan cannot claim
    the same (person, date) again; ``job_id`` lets the claiming job finish after a crash.
    """

    __tablename__ = "reminders_sent"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    items: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_reminders_sent_claimed_at", "claimed_at"),)


class SlackEmailLookup(Base):
    """``users.lookupByEmail`` answers, kept for a while (a miss too, for less long)."""

    __tablename__ = "slack_email_lookups"

    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(32), default=None)
    looked_up_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SlackPermalink(Base):
    """``chat.getPermalink`` answers: a message's permalink never changes."""

    __tablename__ = "slack_permalinks"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
