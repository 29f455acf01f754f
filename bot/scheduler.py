"""APScheduler 3 in the event loop, in one process only: the leader.

With PostgreSQL the leader is whoever holds a session-level advisory lock on a connection it
keeps open (if that process dies, its connection closes and another takes over); with SQLite
there is one process and it always leads. Scheduled functions only enqueue durable jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

#: The advisory lock's key: any constant that no other application on the database uses.
LEADER_LOCK_KEY = 0x44_45_42_52_49_45_46  # "DEBRIEF"


class Leadership:
    """Holds (or not) the right to run the scheduler."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._is_sqlite = engine.dialect.name == "sqlite"

    @property
    def is_leader(self) -> bool:
        return self._is_sqlite or self._connection is not None

    async def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this process leads (now or already)."""
        if self._is_sqlite:
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection (and so the lock) is gone
                log.warning("lost the scheduler leader connection")
                await self._drop()
        connection = await self._engine.connect()
        try:
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
                )
            ).scalar()
            # Leave no transaction open on a connection held for hours.
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is None:
            return
        try:
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_KEY}
            )
            await self._connection.commit()
        except Exception:
            log.warning("could not release the leader lock cleanly", exc_info=True)
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                # Never hand the connection back to the pool: a session-level advisory lock
                # would stay held by a pooled connection nobody knows about. Closing the
                # database session is what guarantees the lock is gone.
                await connection.invalidate()
                await connection.close()
            except Exception:
                log.debug("closing the leader connection failed", exc_info=True)


@dataclass(frozen=True)
class Periodic:
    """A function the leader runs every ``seconds``; it should only enqueue jobs."""

    name: str
    seconds: float
    func: Callable[[], Awaitable[None]]


class Scheduler:
    """Campaigns for leadership and, while leading, runs the periodic functions."""

    def __init__(
        self, leadership: Leadership, periodic: list[Periodic], campaign_seconds: float = 15.0
    ) -> None:
        self.leadership = leadership
        self.periodic = periodic
        self.campaign_seconds = campaign_seconds
        self._aps: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self.started_at: float | None = None

    @property
    def running(self) -> bool:
        return self._aps is not None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._campaign(), name="scheduler-campaign")

    async def _campaign(self) -> None:
        while True:
            try:
                leading = await self.leadership.try_acquire()
            except Exception:
                log.warning("leader election failed; will try again", exc_info=True)
                leading = False
            if leading and self._aps is None:
                self._start_aps()
            elif not leading and self._aps is not None:
                self._stop_aps()
            await asyncio.sleep(self.campaign_seconds)

    def _start_aps(self) -> None:
        aps = AsyncIOScheduler(timezone="UTC")
        for item in self.periodic:
            aps.add_job(
                self._guard(item),
                "interval",
                seconds=item.seconds,
                id=item.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(item.seconds) or 1,
            )
        aps.start()
        self._aps = aps
        self.started_at = time.time()
        log.info("this process leads the scheduler: %s", ", ".join(p.name for p in self.periodic))

    def _stop_aps(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
            log.info("this process no longer leads the scheduler")

    @staticmethod
    def _guard(item: Periodic) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await item.func()
            except Exception:
                log.exception("scheduled %s failed", item.name)

        return run

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stop_aps()
        await self.leadership.release()
