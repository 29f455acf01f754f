"""Provider budgets at client level: each provider client, given a backlog (many callers at
once, for longer than one budget window), against its stand-in. How much of the documented
budget it uses (peak: the most spent in any one window; mean: over the whole run) and how many
429s it draws. Then the same with two clients, each on its own engine, sharing the budget
through the database ledger of ``bot.budgets``: what two `debrief serve` processes on one
database do (on PostgreSQL when its server answers, else on one SQLite file). Last, what one
ledger transaction adds to a request.

- Otter: 10 requests/s (the stand-in answers the 11th in any second with 429).
- Whereby: 1000 points/min, a read costing 1 (the stand-in keeps Whereby's fixed window).
- Claritalk: 480 requests/min (the stand-in enforces nothing: its 429 count is 0 by
  construction; the peak share says whether a real Claritalk would have refused).

``--quick`` scales the Whereby and Claritalk minute down to 5 s (budgets unchanged per window).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.e2e import POSTGRES_ADMIN_URL
from bench.harness import create_postgres_database, drop_postgres_database, migrate
from bench.report import Section, main, milliseconds, table
from bot.budgets import DatabaseLedger
from bot.store.db import create_engine, create_sessionmaker
from providers.budget import BudgetLedger
from providers.claritalk.client import (
    REQUESTS_PER_MINUTE,
    ClaritalkClient,
    claritalk_rate_limiter,
)
from providers.claritalk.oauth import PersonalAccessToken
from providers.errors import ProviderError
from providers.http import build_http_client
from providers.otter import OtterClient
from providers.otter.client import REQUESTS_PER_SECOND, otter_rate_limiter
from providers.whereby.budget import PointBudget, request_cost
from providers.whereby.client import WherebyClient
from sandbox.claritalk import ClaritalkStandIn
from sandbox.otter import OtterStandIn
from sandbox.whereby import WherebyStandIn

CALLERS = 40
#: One process's ledger of a budget, from its name and limit; None: the client's own, in memory.
Ledgers = Callable[[str, float], BudgetLedger | None]
Sessions = async_sessionmaker[AsyncSession]


ALONE = "1 process, ledger in memory"


def in_process(name: str, limit: float) -> BudgetLedger | None:
    return None


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


async def otter(seconds: float, ledgers: list[Ledgers], setup: str) -> Result:
    ledger = Ledger()
    stand_in = OtterStandIn()
    async with stand_in:
        https = [client(ledger) for _ in ledgers]
        clients = [
            OtterClient(
                h,
                api_key=stand_in.api_key,
                base_url=stand_in.api_url,
                limiter=otter_rate_limiter(
                    ledger=ledger_of("otter", REQUESTS_PER_SECOND), clock=time.time
                ),
            )
            for h, ledger_of in zip(https, ledgers, strict=True)
        ]
        try:
            await asyncio.gather(*(backlog(c.list_channels, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    return Result("Otter", setup, "10 req/s", seconds, 1.0, 10.0, ledger)


async def whereby(seconds: float, window: float, ledgers: list[Ledgers], setup: str) -> Result:
    ledger = Ledger(weighted=True)
    stand_in = WherebyStandIn(points=1000, window=window)
    async with stand_in:
        key = next(iter(stand_in.api_keys))
        https = [client(ledger) for _ in ledgers]
        clients = [
            WherebyClient(
                h,
                api_key=key,
                base_url=stand_in.api_url,
                limiter=PointBudget(
                    1000, window=window, ledger=ledger_of("whereby", 1000), clock=time.time
                ),
            )
            for h, ledger_of in zip(https, ledgers, strict=True)
        ]
        try:
            await asyncio.gather(*(backlog(c.list_meetings, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    budget = f"1000 points/{window:g} s"
    return Result("Whereby", setup, budget, seconds, window, 1000.0, ledger)


async def claritalk(seconds: float, window: float, ledgers: list[Ledgers], setup: str) -> Result:
    ledger = Ledger()
    stand_in = ClaritalkStandIn()
    async with stand_in:
        https = [client(ledger) for _ in ledgers]
        clients = [
            ClaritalkClient(
                h,
                token_source=PersonalAccessToken("ctk-pat-ada-sandbox"),
                base_url=stand_in.url,
                # What the client builds by default, with the minute scaled to ``window``.
                limiter=claritalk_rate_limiter(
                    window=window,
                    ledger=ledger_of("claritalk", REQUESTS_PER_MINUTE),
                    clock=time.time,
                ),
            )
            for h, ledger_of in zip(https, ledgers, strict=True)
        ]
        try:
            await asyncio.gather(*(backlog(c.current_user, seconds, ledger) for c in clients))
        finally:
            for h in https:
                await h.aclose()
    budget = f"{REQUESTS_PER_MINUTE} req/{window:g} s"
    return Result("Claritalk", setup, budget, seconds, window, float(REQUESTS_PER_MINUTE), ledger)


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A new, migrated database: ``PostgreSQL`` on the test server, or an ``SQLite`` file."""
    if kind == "SQLite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'budgets.db'}"
            await migrate(url)
            yield url
        return
    url = await create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        await migrate(url)
        yield url
    finally:
        await drop_postgres_database(POSTGRES_ADMIN_URL, url)


@contextlib.asynccontextmanager
async def processes(url: str, count: int) -> AsyncIterator[list[Sessions]]:
    """``count`` engines on ``url``: the database side of that many `debrief serve`."""
    engines = [create_engine(url) for _ in range(count)]
    try:
        yield [create_sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def postgres_answers() -> bool:
    try:
        async with database("PostgreSQL"):
            return True
    except Exception:  # no server: the shared runs use SQLite
        return False


async def ledger_latency(url: str, spenders: int, spends: int) -> list[float]:
    """Seconds each ``spend`` took, ``spenders`` processes at once (each one spend at a time)."""
    took: list[float] = []
    async with processes(url, spenders) as sessions:

        async def spender(ledger: DatabaseLedger) -> None:
            for _ in range(spends):
                started = time.perf_counter()
                await ledger.spend(1, time.time(), 60.0)
                took.append(time.perf_counter() - started)

        await asyncio.gather(*(spender(DatabaseLedger(s, "latency", 1e9)) for s in sessions))
    return took


async def run(quick: bool) -> Section:
    otter_seconds = 5.0 if quick else 30.0
    window = 5.0 if quick else 60.0
    span = window * 2.5
    results = [
        await otter(otter_seconds, [in_process], ALONE),
        await whereby(span, window, [in_process], ALONE),
        await claritalk(span, window, [in_process], ALONE),
    ]
    kinds = ["SQLite", "PostgreSQL"] if await postgres_answers() else ["SQLite"]
    async with database(kinds[-1]) as url, processes(url, 2) as sessions:
        setup = f"2 processes, one ledger ({kinds[-1]})"
        ledgers: list[Ledgers] = [partial(DatabaseLedger, s) for s in sessions]
        results.append(await otter(otter_seconds, ledgers, setup))
        results.append(await whereby(span, window, ledgers, setup))
        results.append(await claritalk(span, window, ledgers, setup))
    spends = 200 if quick else 2000
    latency = []
    for kind in kinds:
        async with database(kind) as url:
            for spenders in (1, 2):
                took = await ledger_latency(url, spenders, spends)
                latency.append([kind, spenders, len(took), milliseconds(took)])
    rows = [r.row() for r in results]
    body = f"""
{CALLERS} callers at once per client, each calling again as soon as it is answered (Otter
`list_channels`, Whereby `list_meetings` (1 point), Claritalk `current_user`). Peak: the most
spent in any one budget window, as a share of the budget; mean: over the whole run.

{table(["provider", "setup", "budget", "s", "requests", "peak", "mean", "429s", "gave up"], rows)}

Claritalk's stand-in has no limiter: a peak over 100% is a run a real Claritalk would have
throttled. Two processes share each budget through the database ledger (`bot.budgets`), as two
`debrief serve` on one database do.

What the shared ledger adds to each provider request: one transaction that locks the budget's
row, reads the spending that still counts and records the new one; alone, and with two
processes spending from one budget at once.

{table(["database", "processes", "spends", "ms p50 / p99 / max"], latency)}
"""
    return Section("budgets", "Provider budgets under a backlog", body)


if __name__ == "__main__":
    raise SystemExit(main("budgets", run))
