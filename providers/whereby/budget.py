"""Whereby's point budget, kept on our side so that requests wait instead of drawing 429s.

Whereby charges every request against one budget per organisation, shared by all its API keys:
a read costs 1 point, a delete 2, a write 3; Grow plans get 1000 points a minute, Build plans 100.
Responses report ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (a
date); a 429 adds ``Retry-After`` (seconds) and a body ``{"error": …, "data": {"msLeft": n}}``.

Whether Whereby's window is fixed or sliding is not documented. :class:`PointBudget` is a
:class:`providers.budget.WindowBudget` (a sliding log, safe against either kind) that also reads
what Whereby reports. Its accounting sits behind a ledger, so that a scale-out deployment can
swap the in-process :class:`MemoryLedger` for the database-backed one every process shares.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from datetime import UTC, datetime

import httpx

from providers.budget import BudgetLedger, Clock, MemoryLedger, Sleep, WindowBudget
from providers.http import retry_after_seconds

__all__ = [
    "BUILD_POINTS_PER_MINUTE",
    "GROW_POINTS_PER_MINUTE",
    "MemoryLedger",
    "PointBudget",
    "PointLedger",
    "parse_reset",
    "request_cost",
    "retry_after",
]

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


#: Whereby's name for the ledger seam; any :class:`providers.budget.BudgetLedger` will do.
PointLedger = BudgetLedger


class PointBudget(WindowBudget):
    """A :class:`providers.http.RateLimiter` for Whereby's point budget.

    The sliding window, its margin and the ledger are :class:`providers.budget.WindowBudget`'s;
    what Whereby adds is read here. ``observe`` lowers our belief when a response reports less
    remaining (or a lower limit) than we think, never raises it, and learns how long requests
    take.

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
        ledger: BudgetLedger | None = None,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            points_per_minute, window=window, margin=margin, ledger=ledger, clock=clock, sleep=sleep
        )
        self._wall = wall

    @property
    def points(self) -> float:
        """The budget per window, as we believe it now."""
        return self.limit

    def observe(self, response: httpx.Response) -> None:
        super().observe(response)
        headers = response.headers
        limit = _number(headers.get("X-RateLimit-Limit"))
        if limit is not None and limit < self.limit:
            self.limit = limit
            self._later(lambda: self.ledger.set_limit(limit))
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        reset = parse_reset(headers.get("X-RateLimit-Reset"), now=self._wall)
        until = self._clock() + (reset - self._wall() if reset is not None else self.window)
        # Judged when applied, against what we believe then: spending of ours that has
        # expired since still counts on Whereby's side until its reset.
        self._later(lambda: self.ledger.sync(remaining, until, self._clock(), self.span))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
