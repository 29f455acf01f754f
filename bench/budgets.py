"""Provider budgets at client level: each provider client, given a backlog (many callers at
once, for longer than one budget window), against its stand-in. How much of the documented
budget it uses (peak: the most spent in any one window; mean: over the whole run) and how many
429s it draws. Then the same with two clients that do not share a limiter, which is what two
`debrief serve` processes are today.

- Otter: 10 requests/s (the stand-in answers the 11th in any second with 429).
- Whereby: 1000 points/min, a read costing 1 (the stand-in keeps Whereby's fixed window).
- Claritalk: 480 requests/min (the stand-in enforces nothing: its 429 count is 0 by
  construction; the peak share says whether a real Claritalk would have refused).

``--quick`` scales the Whereby and Claritalk minute down to 5 s (budgets unchanged per window).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.report import Section, main, table
from providers.claritalk.client import REQUESTS_PER_MINUTE, ClaritalkClient
from providers.claritalk.oauth import PersonalAccessToken
from providers.errors import ProviderError
from providers.http import TokenBucket, build_http_client
from providers.otter import OtterClient
from providers.whereby.budget import PointBudget, request_cost
from providers.whereby.client import WherebyClient
from sandbox.claritalk import ClaritalkStandIn
from sandbox.otter import OtterStandIn
from sandbox.whereby import WherebyStandIn

CALLERS = 40


@dataclass
class Ledger:
    """Every response a client received: when, its cost in budget units, its status."""

    seen: list[tuple[float, float, int]] = field(default_factory=list)
    failures: int = 0

    async def hook(self, response: httpx.Response) -> None:
        cost = request_cost(response.request.method) if self.weighted else 1.0
        self.seen.append((time.monotonic(), cost, response.status_code))

    weighted: bool = False

    def peak(self, window: float) -> float:
        """The most spent in any ``window`` seconds (a sliding window over the responses)."""
        spent = [(at, cost) for at, cost, status in self.seen if status != 429]
        best, total, first = 0.0, 0.0, 0
        for at, cost in spent:
            total += cost
            while spent[first][0] <= at - window:
                total -= spent[first][1]
                first += 1
            best = max(best, total)
        return best

    def count(self, status: int) -> int:
        return sum(1 for _, _, s in self.seen if s == status)


def client(ledger: Ledger) -> httpx.AsyncClient:
    http = build_http_client(max_connections=CALLERS)
    http.event_hooks["response"].append(ledger.hook)
    return http


async def backlog(call: Callable[[], Awaitable[Any]], seconds: float, ledger: Ledger) -> None:
    """``CALLERS`` callers calling as fast as the client lets them, for ``seconds``."""
    deadline = time.monotonic() + seconds

    async def caller() -> None:
        while time.monotonic() < deadline:
            try:
                await call()
            except ProviderError:
                ledger.failures += 1

    await asyncio.gather(*(caller() for _ in range(CALLERS)))


@dataclass(frozen=True)
class Result:
    provider: str
    setup: str
    budget: str
    seconds: float
    window: float
    limit: float
    ledger: Ledger

    def row(self) -> list[object]:
        ok = [c for _, c, s in self.ledger.seen if s != 429]
        times = [at for at, _, _ in self.ledger.seen]
        # Over the time requests were actually answered: callers queued at the deadline finish.
        elapsed = max(times) - min(times) if len(times) > 1 else self.seconds
        mean = sum(ok) / max(elapsed, self.window) * self.window / self.limit
        return [
            self.provider,
            self.setup,
            self.budget,
            f"{self.seconds:g}",
            len(self.ledger.seen),
            f"{self.ledger.peak(self.window) / self.limit:.0%}",
            f"{mean:.0%}",
            self.ledger.count(429),
            self.ledger.failures,
        ]


async def otter(seconds: float, processes: int) -> Result:
    ledger = Ledger()
    stand_in = OtterStandIn()
    async with stand_in:
        https = [client(ledger) for _ in range(processes)]
        clients = [
            OtterClient(h, api_key=stand_in.api_key, base_url=stand_in.api_url) for h in https
        ]
        try:
            await asyncio.gather(*(backlog(c.list_channels, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    return Result("Otter", setups(processes), "10 req/s", seconds, 1.0, 10.0, ledger)


async def whereby(seconds: float, window: float, processes: int) -> Result:
    ledger = Ledger(weighted=True)
    stand_in = WherebyStandIn(points=1000, window=window)
    async with stand_in:
        key = next(iter(stand_in.api_keys))
        https = [client(ledger) for _ in range(processes)]
        clients = [
            WherebyClient(
                h,
                api_key=key,
                base_url=stand_in.api_url,
                limiter=PointBudget(1000, window=window),
            )
            for h in https
        ]
        try:
            await asyncio.gather(*(backlog(c.list_meetings, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    budget = f"1000 points/{window:g} s"
    return Result("Whereby", setups(processes), budget, seconds, window, 1000.0, ledger)


async def claritalk(seconds: float, window: float, processes: int) -> Result:
    ledger = Ledger()
    stand_in = ClaritalkStandIn()
    async with stand_in:
        https = [client(ledger) for _ in range(processes)]
        clients = [
            ClaritalkClient(
                h,
                token_source=PersonalAccessToken("ctk-pat-ada-sandbox"),
                base_url=stand_in.url,
                # What the client builds by default, with the minute scaled to ``window``.
                limiter=TokenBucket.per_window(REQUESTS_PER_MINUTE, window),
            )
            for h in https
        ]
        try:
            await asyncio.gather(*(backlog(c.current_user, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    budget = f"{REQUESTS_PER_MINUTE} req/{window:g} s"
    return Result(
        "Claritalk", setups(processes), budget, seconds, window, float(REQUESTS_PER_MINUTE), ledger
    )


def setups(processes: int) -> str:
    return "1 process" if processes == 1 else f"{processes} processes, a limiter each"


async def run(quick: bool) -> Section:
    otter_seconds = 5.0 if quick else 30.0
    window = 5.0 if quick else 60.0
    span = window * 2.5
    results = []
    for processes in (1, 2):
        results.append(await otter(otter_seconds, processes))
        results.append(await whereby(span, window, processes))
        results.append(await claritalk(span, window, processes))
    rows = [r.row() for r in results]
    body = f"""
{CALLERS} callers at once per client, each calling again as soon as it is answered (Otter
`list_channels`, Whereby `list_meetings` (1 point), Claritalk `current_user`). Peak: the most
spent in any one budget window, as a share of the budget; mean: over the whole run.

{table(["provider", "setup", "budget", "s", "requests", "peak", "mean", "429s", "gave up"], rows)}

Claritalk's stand-in has no limiter: a peak over 100% is a run a real Claritalk would have
throttled. Two processes each with its own limiter are what two `debrief serve` share today.
"""
    return Section("budgets", "Provider budgets under a backlog", body)


if __name__ == "__main__":
    raise SystemExit(main("budgets", run))
