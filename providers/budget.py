"""Window budgets: never more than ``limit`` units in any ``window`` seconds, kept in a ledger.

Providers document budgets as "N requests a second" or "N points a minute" without saying
whether the window is fixed or sliding. :class:`WindowBudget` keeps a sliding log (no span of
``window + margin`` seconds ever holds more than the limit), which is safe against either kind:
any fixed window lies inside some sliding one. The margin covers the time between our spending
the units and the provider counting the request: at least ``margin``, more when recent round
trips were slower.

The accounting sits behind :class:`BudgetLedger`, so that several processes can share one
budget: the in-process :class:`MemoryLedger` is the default, and ``bot.budgets`` keeps a ledger
in the database that every process on it shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import httpx

from providers.http import Clock, Sleep


class BudgetLedger(Protocol):
    """Where a budget's spending is recorded; all times are on the budget's clock.

    Spending is kept by when it happened, not when it expires: ``span`` (the window plus the
    current safety margin) is given at each call, so a margin learnt later still protects
    what was spent before. An implementation shared between processes (a database table with
    a row lock, using wall-clock time) makes the budget hold across them.
    """

    async def spend(self, cost: float, now: float, span: float) -> float:
        """Record ``cost`` units at ``now`` if what was spent in the last ``span`` seconds
        leaves room and return 0; otherwise record nothing and return how many seconds to
        wait before trying again."""
        ...

    async def block(self, until: float) -> None:
        """Refuse all spending until ``until`` (a 429 told us to stop)."""
        ...

    async def sync(self, remaining: float, until: float, now: float, span: float) -> None:
        """Lower what is left to ``remaining`` until ``until``, if we believed more was left."""
        ...

    async def set_limit(self, limit: float) -> None:
        """Lower the budget to ``limit`` units per window (never raises it)."""
        ...


def total(live: Iterable[tuple[float, float]]) -> float:
    """What the ``live`` spending (``(frees_at, cost)`` pairs) adds up to."""
    return sum(spent for _, spent in live)


def fits(cost: float, limit: float, used: float) -> bool:
    """Whether ``cost`` more leaves what was ``used`` within ``limit``."""
    return used + cost <= limit


def wait_for_room(
    cost: float, limit: float, now: float, live: Iterable[tuple[float, float]]
) -> float:
    """Seconds until ``cost`` fits beside the ``live`` spending; 0 when it fits now.

    ``live`` holds ``(frees_at, cost)`` of the spending that still counts, earliest to expire
    first. Every ledger answers with this, so that they all agree on what a budget allows.
    """
    entries = list(live)
    if fits(cost, limit, total(entries)):
        return 0.0
    excess = total(entries) + cost - limit
    for frees_at, spent in entries:
        excess -= spent
        if excess <= 0:
            return max(frees_at - now, 0.001)
    raise ValueError("a cost above the limit never fits; clamp it first")


def booked_for_sync(
    remaining: float, until: float, now: float, limit: float, live: Iterable[tuple[float, float]]
) -> float:
    """How much spending to book, until ``until``, so that we believe no more than the
    provider's ``remaining`` is left; 0 when we already believe no more (never syncs up)."""
    believed = limit - total(live)
    if remaining < believed and until > now:
        return believed - max(remaining, 0.0)
    return 0.0


@dataclass
class _Spend:
    at: float
    cost: float
    until: float | None = None  # set for spending we were told about, not spending we did

    def frees_at(self, span: float) -> float:
        return self.until if self.until is not None else self.at + span


class MemoryLedger:
    """A sliding log of what was spent, in this process only."""

    def __init__(self, limit: float) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = float(limit)
        self._log: list[_Spend] = []
        self._blocked_until = 0.0

    def _live(self, now: float, span: float) -> list[tuple[float, float]]:
        self._log = [entry for entry in self._log if entry.frees_at(span) > now]
        return [(entry.frees_at(span), entry.cost) for entry in self._log]

    def used(self, now: float, span: float) -> float:
        """Units spent in the ``span`` seconds before ``now``."""
        return total(self._live(now, span))

    async def spend(self, cost: float, now: float, span: float) -> float:
        cost = min(cost, self.limit)
        if now < self._blocked_until:
            return self._blocked_until - now
        live = self._live(now, span)
        if not fits(cost, self.limit, total(live)):
            return wait_for_room(cost, self.limit, now, sorted(live))
        self._log.append(_Spend(now, cost))
        return 0.0

    async def block(self, until: float) -> None:
        self._blocked_until = max(self._blocked_until, until)

    async def sync(self, remaining: float, until: float, now: float, span: float) -> None:
        booked = booked_for_sync(remaining, until, now, self.limit, self._live(now, span))
        if booked > 0:
            # Spending we did not see (another process, another key): book it as ours.
            self._log.append(_Spend(now, booked, until))

    async def set_limit(self, limit: float) -> None:
        if 0 < limit < self.limit:
            self.limit = float(limit)


class WindowBudget:
    """A :class:`providers.http.RateLimiter` allowing ``limit`` units in any ``window`` seconds.

    ``acquire`` waits, before a request is sent, until its units fit the budget; waiters in
    this process are served first come, first served, so a heavy request is not starved by
    lighter ones behind it. ``pause`` (a 429) holds every request that costs something until
    the wait has passed, in every process sharing the ledger. A request that costs nothing
    (one the provider does not count, such as Attendee's GETs) never waits, not even during a
    pause, and never touches the ledger. ``observe`` learns how long requests take, to widen
    the margin; subclasses also read what a provider reports.

    Spending counts for ``window`` plus a margin: a provider counts a request when it arrives,
    which is up to one round trip after we spent its units, so the margin is the larger of
    ``margin`` and the slowest recent round trip (capped at a quarter of the window).

    Args:
        limit: units per window.
        window: the budget's period in seconds.
        margin: the least margin, in seconds.
        ledger: where spending is recorded; a :class:`MemoryLedger` of ``limit`` when omitted.
        clock: time for the ledger: monotonic in one process, wall time for a shared ledger.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        limit: float,
        *,
        window: float,
        margin: float = 0.25,
        ledger: BudgetLedger | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit <= 0 or window <= 0 or margin < 0:
            raise ValueError("limit and window must be positive, margin not negative")
        self.limit = float(limit)
        self.window = float(window)
        self.ledger: BudgetLedger = ledger or MemoryLedger(self.limit)
        self._margin = float(margin)
        self._round_trips: deque[float] = deque(maxlen=50)
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        # observe() and pause() are synchronous (transport hooks); a shared ledger is not, so
        # their effects are queued here and applied before the next spend.
        self._pending: list[Callable[[], Awaitable[None]]] = []

    @property
    def span(self) -> float:
        """How long spent units count: the window plus the current margin."""
        slowest = max(self._round_trips, default=0.0)
        return self.window + max(self._margin, min(slowest, self.window / 4))

    async def acquire(self, cost: float = 1.0) -> None:
        if cost <= 0:
            return
        async with self._lock:
            while True:
                await self._flush()
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                wait = await self.ledger.spend(cost, now, self.span)
                if wait <= 0:
                    return
                await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        until = self._clock() + max(seconds, 0.0)
        self._paused_until = max(self._paused_until, until)
        self._later(lambda: self.ledger.block(until))

    def observe(self, response: httpx.Response) -> None:
        # A response built by hand (not received) has no round trip to learn from.
        with contextlib.suppress(RuntimeError):
            self._round_trips.append(response.elapsed.total_seconds())

    def _later(self, apply: Callable[[], Awaitable[None]]) -> None:
        """Apply ``apply`` to the ledger before the next spend (for the synchronous hooks)."""
        self._pending.append(apply)

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for apply in pending:
            await apply()
