"""The Whereby point budget, on a simulated clock."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers.whereby import MemoryLedger, PointBudget, parse_reset, request_cost, retry_after
from tests.conftest import FakeTime

WALL0 = 1_700_000_000.0


def budget(
    t: FakeTime, points: float = 10, window: float = 60.0, margin: float = 0.0
) -> PointBudget:
    return PointBudget(
        points, window=window, margin=margin, clock=t.clock, wall=t.wall, sleep=t.sleep
    )


def response(
    status: int = 200, headers: dict[str, str] | None = None, json: object = None
) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=json)


@pytest.mark.parametrize(
    ("method", "cost"),
    [("GET", 1), ("head", 1), ("DELETE", 2), ("POST", 3), ("PUT", 3), ("PATCH", 3), ("OPTIONS", 1)],
)
def test_request_cost(method: str, cost: float) -> None:
    assert request_cost(method) == cost


async def test_documented_mix_fits_one_minute() -> None:
    # 200 DELETE + 100 POST + 300 GET = 1000 points: all within the first minute, no wait.
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=1000)
    for method in ["DELETE"] * 200 + ["POST"] * 100 + ["GET"] * 300:
        await limiter.acquire(request_cost(method))
    assert t.now == 0.0
    await limiter.acquire(1)
    assert t.now == pytest.approx(60.0)


async def test_waits_for_the_oldest_spending_to_expire() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=10, window=60.0, margin=0.5)
    await limiter.acquire(3)  # at 0
    t.now = 10.0
    await limiter.acquire(3)  # at 10
    t.now = 20.0
    await limiter.acquire(3)  # at 20: 9 of 10 spent
    await limiter.acquire(3)  # needs the first 3 back: at 60.5
    assert t.now == pytest.approx(60.5)
    await limiter.acquire(2)  # 3 + 3 + 3 spent at 10, 20, 60.5; the one at 10 frees at 70.5
    assert t.now == pytest.approx(70.5)


async def test_a_request_costlier_than_the_budget_still_goes() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=2)
    await limiter.acquire(3)
    assert t.now == 0.0


async def test_waiters_are_served_in_order() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=3, window=10.0)
    order: list[str] = []

    async def take(name: str, cost: float) -> None:
        await limiter.acquire(cost)
        order.append(name)

    await asyncio.gather(take("a", 3), take("b", 3), take("c", 1), take("d", 1))
    # When a's points come back, c and d would fit as well as b does: they wait their turn.
    assert order == ["a", "b", "c", "d"]
    assert t.now == pytest.approx(20.0)


async def test_observe_syncs_down_to_what_the_server_reports() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=100, window=60.0)
    await limiter.acquire(1)
    reset = datetime.fromtimestamp(t.wall() + 30, UTC).isoformat()
    # Another process spent most of the budget: 5 left until the reset in 30 s.
    limiter.observe(response(headers={"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": reset}))
    for _ in range(5):
        await limiter.acquire(1)
    assert t.now == 0.0
    await limiter.acquire(1)
    assert t.now == pytest.approx(30.0)


async def test_observe_never_syncs_up() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=10)
    for _ in range(10):
        await limiter.acquire(1)
    limiter.observe(
        response(headers={"X-RateLimit-Remaining": "1000", "X-RateLimit-Limit": "1000"})
    )
    await limiter.acquire(1)
    assert t.now == pytest.approx(60.0)


async def test_observe_adopts_a_lower_limit() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=1000)
    # A Build plan: 100 points, the server counted just this request.
    limiter.observe(response(headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99"}))
    for _ in range(99):
        await limiter.acquire(1)
    assert t.now == 0.0
    await limiter.acquire(1)
    assert t.now > 0.0


async def test_observe_ignores_responses_without_headers() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=3)
    limiter.observe(response())
    limiter.observe(response(headers={"X-RateLimit-Remaining": "lots"}))
    await limiter.acquire(3)
    assert t.now == 0.0


async def test_pause_holds_every_request() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=100)
    limiter.pause(7.5)
    await limiter.acquire(1)
    assert t.now == pytest.approx(7.5)


async def test_memory_ledger_is_the_accounting_seam() -> None:
    ledger = MemoryLedger(limit=5)
    assert await ledger.spend(3, now=0.0, span=10.0) == 0.0
    assert await ledger.spend(3, now=1.0, span=10.0) == pytest.approx(9.0)
    # A longer span (a larger margin learnt since) keeps old spending longer.
    assert await ledger.spend(3, now=1.0, span=12.0) == pytest.approx(11.0)
    assert ledger.used(1.0, 10.0) == 3
    await ledger.block(until=20.0)
    assert await ledger.spend(1, now=15.0, span=10.0) == pytest.approx(5.0)
    await ledger.sync(remaining=0, until=40.0, now=20.0, span=10.0)
    assert await ledger.spend(1, now=30.0, span=10.0) == pytest.approx(10.0)
    await ledger.set_limit(50)
    assert ledger.limit == 5


async def test_the_margin_grows_with_slow_round_trips() -> None:
    t = FakeTime(wall0=WALL0)
    limiter = budget(t, points=1, window=60.0, margin=0.1)
    assert limiter.span == pytest.approx(60.1)
    slow = httpx.Response(200, request=httpx.Request("GET", "https://x"))
    slow.elapsed = timedelta(seconds=2.5)
    limiter.observe(slow)
    assert limiter.span == pytest.approx(62.5)
    huge = httpx.Response(200)
    huge.elapsed = timedelta(seconds=500)
    limiter.observe(huge)
    assert limiter.span == pytest.approx(75.0)  # capped at a quarter of the window
    await limiter.acquire(1)
    await limiter.acquire(1)
    assert t.now == pytest.approx(75.0)


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        PointBudget(0)
    with pytest.raises(ValueError):
        MemoryLedger(0)


# --- reading the server's wait --------------------------------------------------------------


def test_parse_reset_formats() -> None:
    def now() -> float:
        return WALL0

    iso = datetime.fromtimestamp(WALL0 + 12.5, UTC).isoformat().replace("+00:00", "Z")
    assert parse_reset(iso, now=now) == pytest.approx(WALL0 + 12.5)
    http_date = email.utils.formatdate(WALL0 + 12, usegmt=True)
    assert parse_reset(http_date, now=now) == pytest.approx(WALL0 + 13)  # rounded up
    assert parse_reset(str(int(WALL0 + 20)), now=now) == WALL0 + 20
    assert parse_reset(str(int((WALL0 + 20) * 1000)), now=now) == pytest.approx(WALL0 + 20)
    assert parse_reset("15", now=now) == WALL0 + 15
    naive = datetime.fromtimestamp(WALL0 + 5, UTC).replace(tzinfo=None).isoformat()
    assert parse_reset(naive, now=now) == pytest.approx(WALL0 + 5)  # read as UTC
    assert parse_reset("tomorrow", now=now) is None
    assert parse_reset(None, now=now) is None


def test_retry_after_takes_the_longest_of_all_three() -> None:
    def now() -> float:
        return WALL0

    reset = datetime.fromtimestamp(WALL0 + 4, UTC).isoformat()
    throttled = response(
        429,
        headers={"Retry-After": "2", "X-RateLimit-Reset": reset},
        json={"error": "Rate limit exceeded", "data": {"msLeft": 38689}},
    )
    assert retry_after(throttled, now=now) == pytest.approx(38.689)
    assert retry_after(
        response(429, headers={"Retry-After": "2", "X-RateLimit-Reset": reset}), now=now
    ) == pytest.approx(4.0)
    assert retry_after(
        response(429, headers={"Retry-After": "9", "X-RateLimit-Reset": reset}), now=now
    ) == pytest.approx(9.0)
    assert retry_after(response(429, json={"data": {"msLeft": 1500}}), now=now) == 1.5


def test_only_a_429_is_about_the_budget() -> None:
    reset = datetime.fromtimestamp(WALL0 + 50, UTC).isoformat()
    unavailable = response(503, headers={"Retry-After": "2", "X-RateLimit-Reset": reset})
    assert retry_after(unavailable, now=lambda: WALL0) == 2.0
    assert retry_after(response(503, headers={"X-RateLimit-Reset": reset})) is None


def test_retry_after_with_nothing_to_go_by() -> None:
    assert retry_after(response(429)) is None
    assert retry_after(response(429, json={"error": "slow down", "data": {"msLeft": "x"}})) is None
    assert retry_after(httpx.Response(429, text="<html>")) is None
