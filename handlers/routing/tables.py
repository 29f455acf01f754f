"""Routing's tables: its rules, digests held for a route, sync cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow


class HeldDigest(Base):
    """A digest no route and no default channel could place: kept until a route appears."""

    __tablename__ = "held_digests"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    meeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    held_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DigestRoute(Base):
    """A routing rule: meetings matching ``kind``/``value`` get their digest in ``channel_id``."""

    __tablename__ = "digest_routes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: The rule's argument, normalised (lower case, single spaces); empty for default/external.
    value: Mapped[str] = mapped_column(String(255), default="")
    channel_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "value"),)


class SyncState(Base):
    """Small named state that must survive restarts (a provider's polling cursor, caches)."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
