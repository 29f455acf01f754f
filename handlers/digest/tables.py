"""The digests posted for each meeting (on the one ``Base`` metadata)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow


class Digest(Base):
    """A meeting's digest in one channel: the meeting it was rendered from, how many thread
    parts it has, and a lease so that two deliveries of it never run at once.
    """

    __tablename__ = "digests"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    meeting: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    thread_parts: Mapped[int] = mapped_column(default=0)
    # The lease (bot/leases.py): the job that holds it, or an untied holder until lease_until.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    lease_job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    leased_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
