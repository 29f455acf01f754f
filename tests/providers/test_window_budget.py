"""The sliding-window budget every provider is paced by, on a simulated clock."""

from __future__ import annotations

import asyncio

import pytest

from providers.budget import WindowBudget
from tests.conftest import FakeTime


def budget(t: FakeTime, limit: float, window: float, margin: float = 0.25) -> WindowBudget:
    return WindowBudget(limit, window=window, margin=margin, clock=t.clock, sleep=t.sleep)


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of ``times`` (ascending) in any half-open ``window`` starting at one of them."""
    right = worst = 0
    for left, start in enumerate(times):
        while right < len(times) and times[right] < start + window:
            right += 1
        worst = max(worst, right - left)
    return worst


async def test_never_spends_more_than_the_limit_in_any_window() -> None:
    t = FakeTime()
    limiter = budget(t, 600, window=60.0)
    stamps = []
    for _ in range(1800):
        await limiter.acquire(1)
        stamps.append(t.now)
    # Not in the window, nor in the window plus the margin for latency...
    assert most_in_any_window(stamps, limiter.span) == 600
    # ...while spending the whole budget in each: three windows' worth within two spans.
    assert stamps[-1] == pytest.approx(2 * limiter.span)


async def test_a_heavy_request_is_not_overtaken_by_lighter_ones() -> None:
    t = FakeTime()
    limiter = budget(t, 3, window=10.0, margin=0.0)
    await limiter.acquire(2)
    served: list[tuple[str, float]] = []

    async def take(name: str, cost: float) -> None:
        await limiter.acquire(cost)
        served.append((name, t.now))

    # The light request would fit at once, beside the 2 spent; it waits its turn behind the
    # heavy one, which needs the whole budget back.
    await asyncio.gather(take("heavy", 3), take("light", 1))
    assert served == [("heavy", 10.0), ("light", 20.0)]


class NoLedger:
    """A ledger that fails the test if it is asked anything."""

    async def spend(self, cost: float, now: float, span: float) -> float:
        raise AssertionError(f"spent {cost}")

    async def block(self, until: float) -> None:
        raise AssertionError("blocked")

    async def sync(self, remaining: float, until: float, now: float, span: float) -> None:
        raise AssertionError("synced")

    async def set_limit(self, limit: float) -> None:
        raise AssertionError("limited")


async def test_a_request_that_costs_nothing_never_waits_nor_reaches_the_ledger() -> None:
    t = FakeTime()
    limiter = WindowBudget(1, window=60.0, ledger=NoLedger(), clock=t.clock, sleep=t.sleep)
    limiter.pause(30)  # a 429: what costs something waits, what costs nothing is not counted
    await limiter.acquire(0)
    assert t.sleeps == []
