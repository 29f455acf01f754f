"""Retention: which rows of a table may go, and the purge that deletes them in small batches.

A :class:`Rule` says, for one table, which rows may go at a given moment: old enough by the
settings (:class:`Cutoffs`) and not in use. :func:`purge` deletes what the rules allow, one
batch a transaction: on PostgreSQL the batch's rows are locked (``SKIP LOCKED``, so a row
someone is changing is left for the next run) only for that transaction, and on SQLite the one
write lock is held for one batch at a time, so writers queue behind a batch, never behind the
whole purge. The rules themselves, table by table, are in ``handlers/retention.py``: what "in
use" means is each feature's knowledge.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, inspect, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.config import Settings
from bot.store.db import rowcount, transaction
from bot.store.models import Base


@dataclass(frozen=True)
class Cutoffs:
    """The moments before which rows may go, from the settings, as seen at ``now``."""

    now: datetime
    #: Meeting content older than this goes; None: it is kept for ever.
    content: datetime | None
    #: Dead jobs older than this go; None: kept for ever.
    dead_jobs: datetime | None
    #: Webhook event ids older than this go.
    inbox: datetime

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Cutoffs:
        content = now - timedelta(days=settings.retention_days) if settings.retention_days else None
        dead = settings.dead_job_retention_days
        return cls(
            now=now,
            content=content,
            dead_jobs=_latest(now - timedelta(days=dead) if dead else None, content),
            inbox=now - timedelta(days=settings.inbox_retention_days),
        )

    def capped(self, age: timedelta) -> datetime:
        """``age`` before now, or the content cutoff when that is later: what holds meeting
        content (a job's payload, a report) never outlives DEBRIEF_RETENTION_DAYS."""
        cutoff = _latest(self.now - age, self.content)
        assert cutoff is not None
        return cutoff


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


#: Which rows of the rule's table may go: a WHERE clause, or None to keep every row this time.
Condition = Callable[[Cutoffs], ColumnElement[bool] | None]


@dataclass(frozen=True)
class Rule:
    """How long one table's rows are kept.

    ``doomed`` gives the rows that may go; a rule without one keeps its table by design
    (configuration, or rows another mechanism deletes), and ``kept`` says why. ``children``
    are foreign-key columns pointing at this table's (single-column) primary key: their rows
    are deleted with their parent, in the parent's batch.
    """

    model: type[Base]
    doomed: Condition | None = None
    children: tuple[InstrumentedAttribute[Any], ...] = ()
    kept: str = ""
    #: Several rules may share a table (the inbox: webhook ids and Slack signatures).
    label: str = ""

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    @property
    def name(self) -> str:
        return self.label or self.table


@dataclass
class PurgeReport:
    """Rows deleted per table, and how many batches it took."""

    rows: Counter[str] = field(default_factory=Counter)
    batches: int = 0

    def describe(self) -> str:
        gone = ", ".join(f"{table} {count}" for table, count in sorted(self.rows.items()) if count)
        return gone or "nothing to delete"


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    rules: Sequence[Rule],
    cutoffs: Cutoffs,
    batch_size: int,
) -> PurgeReport:
    """Delete every row the rules let go, at most ``batch_size`` of a table a transaction."""
    report = PurgeReport()
    for rule in rules:
        condition = rule.doomed(cutoffs) if rule.doomed is not None else None
        if condition is None:
            continue
        while True:
            async with transaction(sessions) as session:
                taken = await _purge_batch(session, rule, condition, batch_size, report)
            report.batches += 1
            if taken < batch_size:
                break
            # Let whoever waits for the connection (SQLite has one) write between two batches.
            await asyncio.sleep(0)
    return report


async def _purge_batch(
    session: AsyncSession,
    rule: Rule,
    condition: ColumnElement[bool],
    batch_size: int,
    report: PurgeReport,
) -> int:
    mapper = inspect(rule.model)
    key = list(mapper.primary_key)
    # FOR UPDATE (nothing on SQLite, whose transactions here hold the write lock anyway): the
    # rows chosen cannot change before they are deleted; SKIP LOCKED: one in use is left alone.
    chosen = select(*key).where(condition).limit(batch_size).with_for_update(skip_locked=True)
    # Core deletes: the ORM's would read every deleted key back (RETURNING) to no purpose.
    table = cast(Table, mapper.local_table)
    if rule.children:
        # The parent's keys are needed twice, so they are read once: a second look could pick
        # other rows and leave children without their parent's rows gone, or the reverse.
        ids = list((await session.execute(chosen)).scalars())
        if not ids:
            return 0
        for child in rule.children:
            child_table = cast(Table, inspect(child.class_).local_table)
            result = await session.execute(delete(child_table).where(child.in_(ids)))
            report.rows[child_table.name] += rowcount(result)
        result = await session.execute(delete(table).where(key[0].in_(ids)))
    else:
        # One statement, whatever the key: no list of keys to bind (PostgreSQL refuses a
        # statement with thousands of row values in it).
        target = key[0] if len(key) == 1 else tuple_(*key)
        result = await session.execute(delete(table).where(target.in_(chosen)))
    deleted = rowcount(result)
    report.rows[rule.table] += deleted
    return deleted
