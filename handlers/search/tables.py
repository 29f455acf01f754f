"""The tables of stored meetings and their passages, and the full-text index beside them.

The index itself is not a model: on SQLite an FTS5 table over ``search_passages`` kept in step by
triggers, on PostgreSQL a generated ``tsvector`` column with a GIN index; both are created by
migration 0013. Their names are listed in the metadata (``UNMANAGED``), so that comparing the
schema with the models leaves them out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, BigId, utcnow

MEETINGS = "search_meetings"
PASSAGES = "search_passages"
#: SQLite: the FTS5 table over the passages' text (external content: the text is stored once).
FTS = "search_passages_fts"
#: PostgreSQL: the generated tsvector column and its GIN index.
VECTOR = "search_vector"
VECTOR_INDEX = "ix_search_passages_search_vector"
#: The text-search configuration of the PostgreSQL index (and of every query against it).
CONFIG = "english"

#: Database objects the migrations create by hand, which the models do not describe.
UNMANAGED = frozenset(
    {FTS, f"{FTS}_data", f"{FTS}_idx", f"{FTS}_docsize", f"{FTS}_config", VECTOR, VECTOR_INDEX}
)
Base.metadata.info.setdefault("unmanaged", set()).update(UNMANAGED)


class StoredMeeting(Base):
    """A meeting Debrief digested: what it said and where its digest went, kept for search."""

    __tablename__ = MEETINGS
    __table_args__ = (UniqueConstraint("provider", "meeting_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[str] = mapped_column(String(191))
    team_id: Mapped[str | None] = mapped_column(String(32), default=None)
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    decisions: Mapped[list[str]] = mapped_column(JSON, default=list)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    #: The Slack user the meeting is theirs: who sent the notetaker or asked for the summary.
    requester_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    #: Where the digest went last (its parent message), and that message's permalink.
    channel_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    digest_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    permalink: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Last delivery: retention counts from here.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class StoredPassage(Base):
    """A stretch of a stored meeting's transcript: whole turns, about 60 to 120 words."""

    __tablename__ = PASSAGES

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    meeting_pk: Mapped[int] = mapped_column(
        BigId, ForeignKey(f"{MEETINGS}.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Seconds from the meeting's start.
    start: Mapped[float | None] = mapped_column(Double, default=None)
    text: Mapped[str] = mapped_column(Text)
