"""Whereby's point budget, kept on our side so that requests wait instead of drawing 429s.

Whereby charges every request against one budget per organisation, shared by all its API keys:
a read costs 1 point, a delete 2, a write 3; Grow plans get 1000 points a minute, Build plans 100.
Responses report ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (a
date); a 429 adds ``Retry-After`` (seconds) and a body ``{"error": …, "data": {"msLeft": n}}``.

Whether Whereby's window is fixed or sliding is not documented. :class:`PointBudget` keeps a
sliding log (no span of ``window + margin`` seconds ever holds more than the budget), which is
safe against either kind: any fixed window lies inside some sliding one. The margin covers the
time between our spending the points and Whereby counting the request: at least ``margin``,
more when recent round trips were slower.

The accounting sits behind :class:`PointLedger` so that a scale-out deployment can swap the
in-process :class:`MemoryLedger` for a database-backed one that every process shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from providers.http import retry_after_seconds

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

GROW_POINTS_PER_MINUTE = 1000
BUILD_POINTS_PER_MINUTE = 100

_COSTS = {"GET": 1.0, "HEAD": 1.0, "DELETE": 2.0, "POST": 3.0, "PUT": 3.0, "PATCH": 3.0}


def request_cost(method: str) -> float:
    """Points Whereby charges for a request: read 1, delete 2, write 3."""
    return _COSTS.get(method.upper(), 1.0)


def parse_reset(value: str | None, *, now: Clock = time.time) -> float | None:
    """The unix time an ``X-RateLimit-Reset`` value names, or ``None`` if unreadable.

    Whereby documents it only as "a date". ISO 8601 and HTTP dates are read as such (an HTTP
    date is rounded up to the next second, since it is truncated); a number is unix seconds,
    or milliseconds when it is that large, or a delay in seconds when it is small.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number > 1e11:
            return number / 1000.0
        if number > 1e9:
            return number
        return now() + max(0.0, number)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    else:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() + 1.0
    except (TypeError, ValueError, IndexError):
        return None


def retry_after(response: httpx.Response, *, now: Clock = time.time) -> float | None:
    """Seconds a throttled Whereby response asks us to wait: the longest of ``Retry-After``,
    ``X-RateLimit-Reset`` and the body's ``data.msLeft``; ``None`` when none is given.

    Only a 429 is about the budget; for anything else (a 503) only ``Retry-After`` counts,
    since ``X-RateLimit-Reset`` there says nothing about when the service is back.
    """
    header_wait = retry_after_seconds(response, now)
    if response.status_code != 429:
        return header_wait
    waits: list[float] = []
    if header_wait is not None:
        waits.append(header_wait)
    reset = parse_reset(response.headers.get("X-RateLimit-Reset"), now=now)
    if reset is not None:
        waits.append(max(0.0, reset - now()))
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        ms_left = body["data"].get("msLeft")
        if isinstance(ms_left, int | float) and not isinstance(ms_left, bool) and ms_left >= 0:
            waits.append(ms_left / 1000.0)
    return max(waits) if waits else None


class PointLedger(Protocol):
    """Where a budget's spending is recorded; all times are on the budget's clock.

    Spending is kept by when it happened, not when it expires: ``span`` (the window plus the
    current safety margin) is given at each call, so a margin learnt later still protects
    what was spent before. An implementation shared between processes (a database table with
    a row lock, using wall-clock time) makes the budget hold across them; the in-process
    :class:`MemoryLedger` is the default.
    """

    async def spend(self, cost: float, now: float, span: float) -> float:
        """Record ``cost`` points at ``now`` if what was spent in the last ``span`` seconds
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
        """Lower the budget to ``limit`` points per window (never raises it)."""
        ...


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

    def _live(self, now: float, span: float) -> list[_Spend]:
        self._log = [entry for entry in self._log if entry.frees_at(span) > now]
        return self._log

    def used(self, now: float, span: float) -> float:
        """Points spent in the ``span`` seconds before ``now``."""
        return sum(entry.cost for entry in self._live(now, span))

    async def spend(self, cost: float, now: float, span: float) -> float:
        cost = min(cost, self.limit)
        if now < self._blocked_until:
            return self._blocked_until - now
        live = self._live(now, span)
        used = sum(entry.cost for entry in live)
        if used + cost <= self.limit:
            self._log.append(_Spend(now, cost))
            return 0.0
        # The earliest moment enough old spending has expired to make room.
        excess = used + cost - self.limit
        for entry in sorted(live, key=lambda e: e.frees_at(span)):
            excess -= entry.cost
            if excess <= 0:
                return max(entry.frees_at(span) - now, 0.001)
        return span  # pragma: no cover - the loop always ends first

    async def block(self, until: float) -> None:
        self._blocked_until = max(self._blocked_until, until)

    async def sync(self, remaining: float, until: float, now: float, span: float) -> None:
        believed = self.limit - self.used(now, span)
        if remaining < believed and until > now:
            # Spending we did not see (another process, another key): book it as ours.
            self._log.append(_Spend(now, believed - max(remaining, 0.0), until))

    async def set_limit(self, limit: float) -> None:
        if 0 < limit < self.limit:
            self.limit = float(limit)


class PointBudget:
    """A :class:`providers.http.RateLimiter` for Whereby's point budget.

    ``acquire`` waits, before a request is sent, until its points fit the budget; waiters are
    served first come, first served. ``observe`` lowers our belief when a response reports
    less remaining (or a lower limit) than we think, never raises it, and learns how long
    requests take. ``pause`` (a 429) holds every request until the wait has passed.

    Spending counts for ``window`` plus a margin: Whereby counts a request when it arrives,
    which is up to one round trip after we spent its points, so the margin is the larger of
    ``margin`` and the slowest recent round trip (capped at a quarter of the window).

    Args:
        points_per_minute: the organisation's budget (Grow 1000, Build 100).
        window: the budget's period in seconds; tests scale it down.
        margin: the least margin, in seconds.
        ledger: where spending is recorded; a :class:`MemoryLedger` when omitted.
        clock: monotonic time for the ledger (a shared ledger wants wall time).
        wall: unix time, to read ``X-RateLimit-Reset`` dates.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        points_per_minute: float = GROW_POINTS_PER_MINUTE,
        *,
        window: float = 60.0,
        margin: float = 0.25,
        ledger: PointLedger | None = None,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if points_per_minute <= 0 or window <= 0 or margin < 0:
            raise ValueError("points and window must be positive, margin not negative")
        self.points = float(points_per_minute)
        self.window = float(window)
        self.ledger: PointLedger = ledger or MemoryLedger(self.points)
        self._margin = float(margin)
        self._round_trips: deque[float] = deque(maxlen=50)
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        # observe() and pause() are synchronous (transport hooks); a shared ledger is not, so
        # their effects are queued here and applied before the next spend.
        self._pending: list[Callable[[], Awaitable[None]]] = []

    @property
    def span(self) -> float:
        """How long spent points count: the window plus the current margin."""
        slowest = max(self._round_trips, default=0.0)
        return self.window + max(self._margin, min(slowest, self.window / 4))

    async def acquire(self, cost: float = 1.0) -> None:
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
        self._pending.append(lambda: self.ledger.block(until))

    def observe(self, response: httpx.Response) -> None:
        # A response built by hand (not received) has no round trip to learn from.
        with contextlib.suppress(RuntimeError):
            self._round_trips.append(response.elapsed.total_seconds())
        headers = response.headers
        limit = _number(headers.get("X-RateLimit-Limit"))
        if limit is not None and limit < self.points:
            self.points = limit
            self._pending.append(lambda: self.ledger.set_limit(limit))
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        reset = parse_reset(headers.get("X-RateLimit-Reset"), now=self._wall)
        until = self._clock() + (reset - self._wall() if reset is not None else self.window)
        # Judged when applied, against what we believe then: spending of ours that has
        # expired since still counts on Whereby's side until its reset.
        self._pending.append(lambda: self.ledger.sync(remaining, until, self._clock(), self.span))

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for apply in pending:
            await apply()


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
