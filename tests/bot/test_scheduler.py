"""Leader election and the scheduler: one leader on PostgreSQL, always the leader on SQLite."""

from __future__ import annotations

import asyncio

import pytest

from bot.scheduler import Leadership, Periodic, Scheduler
from bot.store.db import create_engine


async def test_sqlite_always_leads(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        assert await Leadership(engine).try_acquire()
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_one_leader_on_postgres_and_a_successor_when_it_dies(postgres_server: str) -> None:
    engines = [create_engine(postgres_server) for _ in range(3)]
    first, second, third = (Leadership(e) for e in engines)
    try:
        assert await first.try_acquire()
        assert await first.try_acquire(), "re-checking keeps leadership"
        assert not await second.try_acquire()
        assert not await third.try_acquire()
        # The leader's process dies: its database session ends, and with it the lock.
        assert first._connection is not None
        await first._connection.invalidate()
        first._connection = None
        assert await second.try_acquire()
        assert not await third.try_acquire()
        await second.release()
        assert await third.try_acquire()
        await third.release()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_scheduler_runs_periodic_functions_while_leading(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    ran = asyncio.Event()

    async def tick() -> None:
        ran.set()

    scheduler = Scheduler(Leadership(engine), [Periodic("tick", 0.05, tick)], campaign_seconds=0.05)
    try:
        await scheduler.start()
        await asyncio.wait_for(ran.wait(), 5)
        assert scheduler.running
    finally:
        await scheduler.stop()
        await engine.dispose()
    assert not scheduler.running


async def test_a_failing_periodic_function_does_not_stop_the_scheduler(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first run fails")

    scheduler = Scheduler(
        Leadership(engine), [Periodic("flaky", 0.05, flaky)], campaign_seconds=0.05
    )
    try:
        await scheduler.start()
        for _ in range(100):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await scheduler.stop()
        await engine.dispose()
    assert len(calls) >= 2
