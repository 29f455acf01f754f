"""The review gate's table: digests of external meetings waiting for (or decided by) their
owner, one row per meeting and target channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow

PENDING = "pending"
SHARED = "shared"
PRIVATE = "private"


class DigestReview(Base):
    """A digest held for its owner's review before it reaches ``channel_id``.

    ``meeting`` is the meeting as it would be posted (with the owner's edited summary, once
    edited); ``owner_id`` None means nobody was found, and the operators were asked instead.
    """

    __tablename__ = "digest_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[str] = mapped_column(String(191))
    channel_id: Mapped[str] = mapped_column(String(32))
    #: The thread the digest goes in once shared (Attendee's status message), if any.
    thread_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    title: Mapped[str] = mapped_column(String(300), default="")
    meeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The outside addresses that made it external, as shown in the review message.
    external: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``pending``, ``shared`` or ``private``.
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    #: The summary the owner wrote with *Edit summary*: kept over the provider's on redelivery.
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    #: A job of the caller's to run again once shared (Attendee's transcript upload and status
    #: message): its kind and payload.
    resume_kind: Mapped[str | None] = mapped_column(String(64), default=None)
    resume_payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("provider", "meeting_id", "channel_id"),)
