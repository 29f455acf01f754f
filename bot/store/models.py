"""The tables. Every schema change here comes with an Alembic revision in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
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


class OAuthState(Base):
    """A pending OAuth authorization: the SHA-256 of its single-use ``state``, the Slack user it
    is bound to, and the hash of the cookie of the browser that started it.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    browser_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SpentLink(Base):
    """A single-use link (a provider's account-connect link) that was used: the SHA-256 of its
    id, kept until the link would have expired anyway, when its own signature check refuses it.
    """

    __tablename__ = "spent_links"

    link_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    spent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow)


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
