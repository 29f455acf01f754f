"""Provider budgets shared by every process on the database.

Each process paces its provider requests with a ``providers.budget.WindowBudget``. On a
:class:`DatabaseLedger` their spending is one sliding log in ``rate_budget_spends``, so two
``debrief serve`` processes together stay within a provider's budget instead of spending it
twice. Spenders of one budget take turns on its ``rate_budgets`` row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite every transaction already begins with ``BEGIN IMMEDIATE``), one short
transaction per request. Times are unix seconds: wall-clock time is the one clock that all
processes share (they are as far apart as the hosts' clocks are, milliseconds under NTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.db import insert_ignore, rowcount, transaction
from bot.store.models import RateBudget, RateBudgetSpend
from providers.budget import booked_for_sync, fits, wait_for_room
from providers.http import Clock, Sleep

Spending = list[tuple[float, float]]


@dataclass(frozen=True)
class _Locked:
    session: AsyncSession
    units: float
    blocked_until: float
    #: When the lock was obtained (see :meth:`DatabaseLedger.spend`).
    now: float


class DatabaseLedger:
    """A ``providers.budget.BudgetLedger`` in the database, shared by every process on it.

    Args:
        sessions: the application's sessions.
        name: the budget's name (a provider's, or one of its budgets'): ledgers of one name
            share it.
        limit: units per window, as this process is configured. The first use in a process
            writes it to the shared row, replacing a lower limit an earlier process learnt
            from the provider (the plan may have changed since); the next response that
            reports the limit lowers it again, as it does for an in-process ledger.
        clock: wall-clock unix seconds; the budgets using this ledger must use the same.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        name: str,
        limit: float,
        *,
        clock: Clock = time.time,
    ) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.name = name
        self.limit = float(limit)
        self._sessions = sessions
        self._clock = clock
        self._configured = False
        self._next_prune = float("-inf")

    async def spend(
        self, cost: float, now: float, span: float, *, session: AsyncSession | None = None
    ) -> float:
        """As ``BudgetLedger.spend``, at the later of ``now`` and when the lock was obtained.

        A spender that waited for the lock sends its request after that wait, so its spending
        counts from then: from when it asked, it would stop counting too early, and the log
        would fall out of time order (a late spender could find pruned what it must count).

        Given a ``session``, the spend is made in that session's transaction: it commits or
        rolls back with whatever else the caller writes there (a job counted against a limit
        is spent only if it is enqueued), and other spenders wait until then.
        """
        async with self._locked(session) as locked:
            now = max(now, locked.now)
            cost = min(cost, locked.units)
            if now < locked.blocked_until:
                return locked.blocked_until - now
            # Summed in the database: only a refusal needs the spending one by one.
            if not fits(cost, locked.units, await self._used(locked.session, now, span)):
                live = await self._live(locked.session, now, span)
                return wait_for_room(cost, locked.units, now, live)
            await self._record(locked.session, now, cost)
            if now >= self._next_prune:
                await self._prune(locked.session, now, span)
                self._next_prune = now + span
            return 0.0

    async def block(self, until: float) -> None:
        async with self._locked() as locked:
            if until > locked.blocked_until:
                await self._update(locked.session, blocked_until=until)

    async def sync(self, remaining: float, until: float, now: float, span: float) -> None:
        async with self._locked() as locked:
            now = max(now, locked.now)
            live = await self._live(locked.session, now, span)
            booked = booked_for_sync(remaining, until, now, locked.units, live)
            if booked > 0:
                await self._record(locked.session, now, booked, held_until=until)

    async def set_limit(self, limit: float) -> None:
        async with self._locked() as locked:
            if 0 < limit < locked.units:
                await self._update(locked.session, units=limit)

    async def used(self, now: float, span: float) -> float:
        """Units spent in the ``span`` seconds before ``now``, by every process."""
        async with transaction(self._sessions) as session:
            return await self._used(session, now, span)

    async def prune(self, now: float, span: float) -> int:
        """Delete spending that can no longer count; how many rows went."""
        async with self._locked() as locked:
            return await self._prune(locked.session, max(now, locked.now), span)

    @asynccontextmanager
    async def _locked(self, session: AsyncSession | None = None) -> AsyncIterator[_Locked]:
        """A transaction holding the budget's row, which spenders of this budget take turns on:
        the caller's ``session``, else one of its own."""
        async with contextlib.AsyncExitStack() as stack:
            if session is None:
                session = await stack.enter_async_context(transaction(self._sessions))
            if not self._configured:
                await self._configure(session)
            statement = (
                select(RateBudget.units, RateBudget.blocked_until)
                .where(RateBudget.name == self.name)
                .with_for_update()
            )
            row = (await session.execute(statement)).one_or_none()
            if row is None:  # deleted since this process configured it
                await self._configure(session)
                row = (await session.execute(statement)).one()
            yield _Locked(session, row.units, row.blocked_until, self._clock())

    async def _configure(self, session: AsyncSession) -> None:
        values = {"name": self.name, "units": self.limit, "blocked_until": 0.0}
        if not await insert_ignore(session, RateBudget, values):
            await self._update(session, units=self.limit)
        self._configured = True

    async def _update(self, session: AsyncSession, **values: float) -> None:
        await session.execute(update(RateBudget).where(RateBudget.name == self.name).values(values))

    async def _used(self, session: AsyncSession, now: float, span: float) -> float:
        frees_at = _frees_at(span)
        statement = select(func.coalesce(func.sum(RateBudgetSpend.cost), 0.0)).where(
            RateBudgetSpend.budget == self.name, frees_at > now
        )
        return float(await session.scalar(statement) or 0.0)

    async def _live(self, session: AsyncSession, now: float, span: float) -> Spending:
        """``(frees_at, cost)`` of the spending that still counts, earliest to expire first."""
        frees_at = _frees_at(span)
        statement = (
            select(frees_at, RateBudgetSpend.cost)
            .where(RateBudgetSpend.budget == self.name, frees_at > now)
            .order_by(frees_at)
        )
        return [(row[0], row[1]) for row in await session.execute(statement)]

    async def _record(
        self, session: AsyncSession, now: float, cost: float, held_until: float | None = None
    ) -> None:
        await session.execute(
            insert(RateBudgetSpend).values(
                budget=self.name, spent_at=now, cost=cost, held_until=held_until
            )
        )

    async def _prune(self, session: AsyncSession, now: float, span: float) -> int:
        # A margin learnt later widens the span, but never past a quarter of the window
        # (providers.budget.WindowBudget.span): twice today's span outlasts any future one.
        frees_at = _frees_at(2 * span)
        result = await session.execute(
            delete(RateBudgetSpend).where(RateBudgetSpend.budget == self.name, frees_at <= now)
        )
        return rowcount(result)


def _frees_at(span: float) -> ColumnElement[float]:
    """When a spend stops counting: its hold, else ``span`` after it was spent."""
    return func.coalesce(RateBudgetSpend.held_until, RateBudgetSpend.spent_at + span)


@dataclass(frozen=True)
class SharedBudgets:
    """Where the provider limiters of this process keep their spending: a ledger every process
    shares, per budget (each provider builds its own limiters on it: ``Provider.build_client``).

    Args:
        sessions: the application's sessions.
        clock: wall-clock unix seconds (the ledger is shared between processes).
        sleep: how the limiters wait; injectable for tests.
    """

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = time.time
    sleep: Sleep = asyncio.sleep

    def ledger(self, name: str, limit: float) -> DatabaseLedger:
        """The shared ledger of the budget ``name``."""
        return DatabaseLedger(self.sessions, name, limit, clock=self.clock)
