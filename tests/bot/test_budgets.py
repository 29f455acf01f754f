"""Provider budgets on the database: several processes (engines) spending from one budget."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Options, create_services
from bot.budgets import DatabaseLedger, SharedBudgets
from bot.jobs import JobRegistry
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import RateBudgetSpend
from handlers.attendee.plugin import attendee_budget
from handlers.whereby.plugin import whereby_budget
from providers.attendee import AttendeeClient
from providers.budget import BudgetLedger, MemoryLedger, WindowBudget
from providers.claritalk import ClaritalkClient
from providers.otter import OtterClient
from providers.whereby import WherebyClient
from tests.conftest import FakeTime, make_settings

WALL0 = 1_700_000_000.0
Sessions = async_sessionmaker[AsyncSession]


def callers_time() -> float:
    """A ledger clock that leaves the time to the caller's ``now``."""
    return float("-inf")


def db_ledger(sessions: Sessions, name: str, limit: float) -> DatabaseLedger:
    return DatabaseLedger(sessions, name, limit, clock=callers_time)


class RecordingLedger(DatabaseLedger):
    """Notes the moment of every spend it records (the ledger's moment, not the caller's)."""

    def __init__(self, *args: Any, allowed: list[float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    async def _record(
        self, session: AsyncSession, now: float, cost: float, held_until: float | None = None
    ) -> None:
        await super()._record(session, now, cost, held_until)
        self.allowed.append(now)


@pytest.fixture
async def processes(database_url: str) -> AsyncIterator[list[Sessions]]:
    """Two engines on one database: what two `debrief serve` processes have."""
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        yield [create_sessionmaker(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of ``times`` in any half-open ``window`` (each one starting at a time)."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + window) for start in ordered)


async def spenders(budgets: list[WindowBudget], each: int) -> None:
    """Every budget spent from by three callers at once, ``each`` units a caller."""

    async def caller(budget: WindowBudget) -> None:
        for _ in range(each):
            await budget.acquire(1)

    await asyncio.gather(*(caller(b) for b in budgets for _ in range(3)))


async def test_two_processes_never_spend_more_than_the_limit_together(
    processes: list[Sessions],
) -> None:
    t = FakeTime(wall0=WALL0)
    allowed: list[float] = []
    budgets = [
        WindowBudget(
            10,
            window=1.0,
            margin=0.0,
            ledger=RecordingLedger(sessions, "otter", 10, clock=t.wall, allowed=allowed),
            clock=t.wall,
            sleep=t.sleep,
        )
        for sessions in processes
    ]

    await spenders(budgets, each=8)

    assert len(allowed) == 48
    assert most_in_any_window(allowed, 1.0) <= 10
    # Each process alone would have let 10 through in every window: 20 in the first.
    assert sum(1 for at in allowed if at < WALL0 + 1.0) <= 10


async def test_spenders_at_the_same_moment_take_turns(processes: list[Sessions]) -> None:
    ledgers = [DatabaseLedger(s, "claritalk", 10, clock=lambda: WALL0) for s in processes]
    for one in ledgers:  # each process has written its configured limit
        assert await one.spend(1, now=WALL0, span=60.0) == 0.0
    # Then fifteen spends at once from each, all at the same moment: checking what is left
    # and recording the spend must be one step, or several see the same room.
    waits = await asyncio.gather(
        *(one.spend(1, now=WALL0, span=60.0) for one in ledgers for _ in range(15))
    )
    assert sorted(waits)[:9] == [0.0] * 8 + [pytest.approx(60.0)]


async def test_a_pause_in_one_process_holds_the_other(processes: list[Sessions]) -> None:
    clocks = [FakeTime(wall0=WALL0), FakeTime(wall0=WALL0)]  # each process has its own
    first, second = (
        WindowBudget(
            100,
            window=60.0,
            ledger=DatabaseLedger(sessions, "whereby", 100, clock=t.wall),
            clock=t.wall,
            sleep=t.sleep,
        )
        for sessions, t in zip(processes, clocks, strict=True)
    )
    first.pause(7.5)  # a 429 answered to the first process
    await first.acquire()
    await second.acquire()
    assert [t.sleeps for t in clocks] == [[7.5], [7.5]]


async def test_attendee_posts_are_held_across_processes_but_not_its_gets(
    processes: list[Sessions],
) -> None:
    clocks = [FakeTime(wall0=WALL0), FakeTime(wall0=WALL0)]
    first, second = (
        attendee_budget(SharedBudgets(sessions, clock=t.wall, sleep=t.sleep))
        for sessions, t in zip(processes, clocks, strict=True)
    )
    first.pause(12.0)  # a 429 answered to a POST of the first process
    await first.acquire(1)
    await second.acquire(0)  # a GET: Attendee does not count it, so it does not wait
    assert clocks[1].sleeps == []
    await second.acquire(1)  # a POST waits for the first process's 429 to pass
    assert [t.sleeps for t in clocks] == [[12.0], [12.0]]


async def test_a_lower_limit_learnt_in_one_process_holds_in_the_other(
    processes: list[Sessions],
) -> None:
    first, second = (db_ledger(s, "whereby", 10) for s in processes)
    assert await first.spend(1, now=WALL0, span=60.0) == 0.0
    await second.set_limit(4)
    assert [await first.spend(1, now=WALL0, span=60.0) for _ in range(3)] == [0.0] * 3
    assert await first.spend(1, now=WALL0, span=60.0) == pytest.approx(60.0)
    # A process starting afresh brings its configured limit back (the plan may have changed).
    third = db_ledger(processes[1], "whereby", 10)
    assert await third.spend(1, now=WALL0, span=60.0) == 0.0


async def test_budgets_of_different_names_are_apart(processes: list[Sessions]) -> None:
    otter = db_ledger(processes[0], "otter", 1)
    claritalk = db_ledger(processes[1], "claritalk", 1)
    assert await otter.spend(1, now=WALL0, span=1.0) == 0.0
    assert await claritalk.spend(1, now=WALL0, span=1.0) == 0.0
    assert await otter.spend(1, now=WALL0, span=1.0) == pytest.approx(1.0)


async def count_spends(sessions: Sessions, budget: str) -> int:
    statement = select(func.count()).where(RateBudgetSpend.budget == budget)
    async with transaction(sessions) as session:
        return int(await session.scalar(statement) or 0)


async def test_prune_keeps_only_what_might_still_count(processes: list[Sessions]) -> None:
    sessions = processes[0]
    otter = db_ledger(sessions, "otter", 10)
    for n in range(5):
        assert await otter.spend(1, now=WALL0 + n * 0.1, span=1.0) == 0.0
    # Told about someone else's spending: 3 more units, held until well after the window.
    await otter.sync(remaining=2, until=WALL0 + 30.0, now=WALL0 + 0.5, span=1.0)
    assert await count_spends(sessions, "otter") == 6

    # A margin learnt later may widen the span: spending is kept for two spans.
    assert await otter.prune(now=WALL0 + 1.9, span=1.0) == 0
    assert await otter.prune(now=WALL0 + 10.0, span=1.0) == 5
    assert await otter.used(now=WALL0 + 10.0, span=1.0) == 3  # the hold still counts
    assert await otter.prune(now=WALL0 + 30.0, span=1.0) == 1
    assert await count_spends(sessions, "otter") == 0


async def test_spending_prunes_as_it_goes(processes: list[Sessions]) -> None:
    sessions = processes[0]
    claritalk = db_ledger(sessions, "claritalk", 10)
    for at in (0.0, 0.5, 0.9):
        assert await claritalk.spend(1, now=WALL0 + at, span=1.0) == 0.0
    assert await count_spends(sessions, "claritalk") == 3
    # Once a span at most: the first spend after 0 + 1 s prunes what is two spans old.
    assert await claritalk.spend(1, now=WALL0 + 2.6, span=1.0) == 0.0
    assert await count_spends(sessions, "claritalk") == 2


async def test_a_spender_that_waited_for_the_lock_spends_when_it_got_it(
    processes: list[Sessions],
) -> None:
    t = FakeTime(wall0=WALL0)
    otter = DatabaseLedger(processes[0], "otter", 1, clock=t.wall)
    t.advance(5.0)  # between asking (at 0) and obtaining the lock
    assert await otter.spend(1, now=WALL0, span=1.0) == 0.0
    t.advance(0.5)
    assert await otter.spend(1, now=t.wall(), span=1.0) == pytest.approx(0.5)


LedgerFactory = Callable[[float], BudgetLedger]


@pytest.fixture(params=["memory", "database"])
def make_ledger(request: pytest.FixtureRequest, processes: list[Sessions]) -> LedgerFactory:
    if request.param == "memory":
        return MemoryLedger
    return lambda limit: db_ledger(processes[0], "whereby", limit)


async def test_the_database_ledger_answers_as_the_memory_ledger(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger(5)
    assert await ledger.spend(3, now=0.0, span=10.0) == 0.0
    assert await ledger.spend(3, now=1.0, span=10.0) == pytest.approx(9.0)
    # A longer span (a larger margin learnt since) keeps old spending longer.
    assert await ledger.spend(3, now=1.0, span=12.0) == pytest.approx(11.0)
    assert await ledger.spend(9, now=11.0, span=10.0) == 0.0  # clamped to the limit
    await ledger.block(until=30.0)
    assert await ledger.spend(1, now=25.0, span=10.0) == pytest.approx(5.0)
    await ledger.sync(remaining=0, until=50.0, now=40.0, span=5.0)
    assert await ledger.spend(1, now=46.0, span=5.0) == pytest.approx(4.0)
    await ledger.set_limit(50)
    await ledger.set_limit(2)
    assert await ledger.spend(2, now=60.0, span=5.0) == 0.0
    assert await ledger.spend(1, now=61.0, span=5.0) == pytest.approx(4.0)


async def test_the_app_paces_every_provider_on_the_database(database_url: str) -> None:
    settings = make_settings(
        database_url=database_url,
        attendee_api_key="attendee-key",
        otter_api_key="otter-key",
        whereby_api_key="whereby-key",
        whereby_points_per_minute=100,
        claritalk_token="ctk-pat",
    )
    async with contextlib.AsyncExitStack() as exits:
        services, _engine = await create_services(settings, JobRegistry(), Options(), exits)
        assert (
            services.clients[AttendeeClient]
            and services.clients[OtterClient]
            and services.clients[WherebyClient]
            and services.clients[ClaritalkClient]
        )
        limiters = {
            "attendee": services.clients[AttendeeClient].limiter,
            "otter": services.clients[OtterClient].limiter,
            "whereby": services.clients[WherebyClient].limiter,
            "claritalk": services.clients[ClaritalkClient].limiter,
            "claritalk.uploads": services.clients[ClaritalkClient].upload_limiter,
        }
        ledgers = {name: getattr(limiter, "ledger", None) for name, limiter in limiters.items()}
        assert {n: isinstance(ledger, DatabaseLedger) for n, ledger in ledgers.items()} == {
            name: True for name in limiters
        }
        # Another process spends Whereby's whole minute: this one has to wait for it.
        budget = whereby_budget(SharedBudgets(services.sessions), 100)
        for _ in range(100):
            await budget.acquire(1)
        assert await ledgers["whereby"].spend(1, now=0.0, span=60.0) > 50.0
