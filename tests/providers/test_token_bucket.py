"""The shared token bucket never spends more than its budget in any window."""

from __future__ import annotations

from providers.http import TokenBucket
from tests.conftest import FakeTime


async def test_per_window_never_exceeds_the_budget_in_any_window() -> None:
    time = FakeTime()
    bucket = TokenBucket.per_window(600, 60.0, clock=time.clock, sleep=time.sleep)
    stamps = []
    for _ in range(1800):
        await bucket.acquire(1)
        stamps.append(time.clock())
    right = 0
    worst = 0
    for left, start in enumerate(stamps):  # every window that starts at a request
        while right < len(stamps) and stamps[right] < start + 60.0:
            right += 1
        worst = max(worst, right - left)
    assert worst <= 600
    # The price of that guarantee is one second's share of the window, about 2 % here.
    assert stamps[-1] <= 1800 / 600 * 60.0 * 1.02


async def test_per_minute_is_per_window_of_sixty_seconds() -> None:
    bucket = TokenBucket.per_minute(480)
    assert bucket.capacity == 8 and abs(bucket.rate - 472 / 60) < 1e-9
