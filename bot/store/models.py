"""The one ``Base`` (one metadata, one migration history) and the core's own tables: jobs, the
inbox, Slack posts, stored secrets and rate budgets. Each feature's tables are beside it
(``handlers/<feature>/tables.py``). Every schema change comes with an Alembic revision in
``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL should have a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class Job(Base):
    """A durable unit of work: claimed with a lease, retried with backoff, dead at the end."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=6)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    trace_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_jobs_claim", "status", "run_at"),
        # The retention purge: finished jobs by age.
        Index("ix_jobs_finished", "status", "finished_at"),
    )


class InboxEvent(Base):
    """A webhook delivery already accepted, keyed by the provider's own event id."""

    __tablename__ = "inbox"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SlackPost(Base):
    """A Slack message Debrief posted for a meeting, under the meeting's natural key.

    ``part`` names which message of the meeting it is ("status", "digest", "digest.3" …), so that
    delivering the same meeting again updates each message instead of posting a twin.
    """

    __tablename__ = "slack_posts"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SlackPostIntent(Base):
    """A message about to be posted under a natural key, written before ``chat.postMessage``.

    Posting and remembering the answer cannot be one transaction, so a process that dies in
    between leaves this row behind: whoever posts under the key next first looks in Slack for a
    message carrying the key in its metadata, and adopts it instead of posting a twin. The row
    also keeps two workers from posting the same new message at once (``posting_by`` owns it).
    """

    __tablename__ = "slack_post_intents"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The attempt that owns the intent: ``<process instance>:<attempt>``.
    posting_by: Mapped[str] = mapped_column(String(80))
    #: When the owning attempt took it over; a stale one is presumed dead.
    posting_since: Mapped[datetime] = mapped_column(default=utcnow)
    #: The job (and the worker that claimed it) the owning attempt ran in, if any: the intent
    #: is presumed dead exactly when that job's lease is (bot/leases.py).
    lease_job_id: Mapped[int | None] = mapped_column(BigId, default=None)
    leased_by: Mapped[str | None] = mapped_column(String(100), default=None)
    #: When the first attempt began: a message it posted cannot be older than this.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredSecret(Base):
    """A secret Debrief keeps (a provider token), Fernet-encrypted with ``DEBRIEF_ENCRYPTION_KEYS``.

    Every stored secret lives here and nowhere else, so that ``debrief rotate-keys`` re-encrypts
    them all with the newest key by walking one table.
    """

    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(String(191), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateBudget(Base):
    """A provider budget shared by every process on the database (see ``bot.budgets``).

    Its row is locked by whoever spends from the budget, so spenders take turns; times are
    unix seconds (wall clock), the one clock all processes share.
    """

    __tablename__ = "rate_budgets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Units a window; lowered when the provider reports a smaller budget.
    units: Mapped[float] = mapped_column(Double)
    #: No spending before this (a 429 asked us to wait).
    blocked_until: Mapped[float] = mapped_column(Double, default=0.0)


class RateBudgetSpend(Base):
    """Units spent from a :class:`RateBudget`, kept until they can no longer count."""

    __tablename__ = "rate_budget_spends"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    budget: Mapped[str] = mapped_column(String(64))
    spent_at: Mapped[float] = mapped_column(Double)
    cost: Mapped[float] = mapped_column(Double)
    #: Set for spending a provider told us about: it counts until then, not for a window.
    held_until: Mapped[float | None] = mapped_column(Double, default=None)

    __table_args__ = (Index("ix_rate_budget_spends_budget", "budget", "spent_at"),)


def managed(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Alembic's ``include_name``: leave out what migrations create by hand and no model
    describes (full-text indexes: ``Base.metadata.info["unmanaged"]``)."""
    return name not in Base.metadata.info.get("unmanaged", ())
