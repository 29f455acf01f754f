"""Leases on rows (a digest being delivered, a report being uploaded), held by the job that took
them for exactly as long as that job holds its own lease.

A row leased by a job names the job and the worker that claimed it (``lease_job_id``,
``leased_by``, the job's ``locked_by``). The row counts as taken while that job is still running
under that worker with a live lease: the job queue's heartbeat keeps it so, and nothing else
has to be renewed. When the worker dies its job lease runs out (``DEBRIEF_JOB_LEASE_SECONDS``
after its last heartbeat) and the row is free at that very moment, so the job, claimed again
by another worker, takes the row over at once; a live job keeps everyone else out for as long
as it runs, however long that is. There is no second, longer timer to wait out after a crash.

Work run outside the job queue (tests, a shell) holds a row for a fixed :data:`UNTIED_LEASE`
instead, in ``lease_until``, since nothing heartbeats for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.store.db import touched
from bot.store.models import Job

#: How long work outside any job holds a row; longer than any delivery or upload takes.
UNTIED_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a row: a job as claimed by one worker, or (``job_id`` None) untied work."""

    job_id: int | None
    worker: str = field(default_factory=lambda: f"untied:{uuid.uuid4().hex[:12]}")


#: The job this task is running, set by the worker around each job.
running_job: ContextVar[LeaseHolder | None] = ContextVar("debrief_running_job", default=None)


def current_holder() -> LeaseHolder:
    """The running job as a lease holder; outside a job, a holder of its own (keep it: the
    same one must release what it took)."""
    return running_job.get() or LeaseHolder(None)


def job_alive(job_id: Any, worker: Any, now: datetime) -> ColumnElement[bool]:
    """Job ``job_id`` still runs under ``worker`` with a live lease (columns, or values)."""
    return exists().where(
        Job.id == job_id,
        Job.locked_by == worker,
        Job.status == "running",
        Job.lease_until >= now,
    )


async def job_holds(session: AsyncSession, holder: LeaseHolder, now: datetime) -> bool:
    """Whether the job ``holder`` names still holds its lease."""
    if holder.job_id is None:
        return False
    return bool(await session.scalar(select(job_alive(holder.job_id, holder.worker, now))))


class RowLease:
    """Taking and giving back rows of one table by their lease columns (``lease_until``,
    ``lease_job_id``, ``leased_by``)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.until: InstrumentedAttribute[datetime | None] = model.lease_until
        self.job_id: InstrumentedAttribute[int | None] = model.lease_job_id
        self.by: InstrumentedAttribute[str | None] = model.leased_by

    async def take(
        self,
        session: AsyncSession,
        where: Sequence[ColumnElement[bool]],
        holder: LeaseHolder,
        now: datetime,
    ) -> bool:
        """Lease the row ``where`` picks to ``holder``, in ``session``'s transaction; False
        when someone else's live lease is on it (or no row matches)."""
        # Lock the row first, so that the UPDATE's snapshot is taken after whoever took it
        # meanwhile committed: PostgreSQL re-checks a row it had to wait for against the
        # snapshot its statement started with, in which that taker's job may not be running yet.
        await session.execute(select(self.by).where(*where).with_for_update())
        until = now + UNTIED_LEASE if holder.job_id is None else None
        result = await session.execute(
            update(self.model)
            .where(*where, self.free_for(holder, now))
            .values({self.until: until, self.job_id: holder.job_id, self.by: holder.worker})
        )
        return touched(result)

    async def release(
        self,
        session: AsyncSession,
        where: Sequence[ColumnElement[bool]],
        holder: LeaseHolder,
        **values: Any,
    ) -> bool:
        """Give the row back, writing ``values`` with it, unless ``holder`` lost it meanwhile
        (then nothing is written: the one who took it over writes its own); whether it held."""
        result = await session.execute(
            update(self.model)
            .where(*where, self.held_by(holder))
            .values({self.until.key: None, self.job_id.key: None, self.by.key: None, **values})
        )
        return touched(result)

    def held_by(self, holder: LeaseHolder) -> ColumnElement[bool]:
        """The row is leased by ``holder``."""
        return and_(
            self.job_id.is_(None) if holder.job_id is None else self.job_id == holder.job_id,
            self.by == holder.worker,
        )

    def taken(self, now: datetime) -> ColumnElement[bool]:
        """Somebody's live lease is on the row (a running job's, or untied work's)."""
        untied_alive = and_(self.until.is_not(None), self.until >= now)
        return or_(job_alive(self.job_id, self.by, now), untied_alive)

    def free_for(self, holder: LeaseHolder, now: datetime) -> ColumnElement[bool]:
        """``holder`` may take the row: nobody's live lease is on it, or it is its own already
        (a job claimed again by the same worker after a release that did not reach the row)."""
        return or_(self.held_by(holder), not_(self.taken(now)))
