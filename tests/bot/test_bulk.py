"""Bulk inserts on the driver's connection store exactly what the ORM stores, skip taken keys,
and keep nothing of a transaction that raised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.bulk import bulk_transaction
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.migrate import upgrade
from bot.store.models import InboxEvent, Job

JOBS = cast(Table, Job.__table__)
INBOX = cast(Table, InboxEvent.__table__)
MOMENT = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def job(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "payload": {"envelope": {"text": "café ✓", "n": 3, "nested": [1, None, True]}},
        "status": "queued",
        "attempts": 0,
        "max_attempts": 6,
        # Not UTC on the way in: both paths must store the same UTC instant.
        "run_at": MOMENT.astimezone(ZoneInfo("Europe/Paris")),
        "dedupe_key": None,
        "trace_id": "trace",
        "created_at": MOMENT,
        "updated_at": MOMENT + timedelta(seconds=1),
    }


async def raw_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[Any, ...]]:
    """Each job's columns as the database holds them (text on SQLite), by kind."""
    async with sessions() as session:
        result = await session.execute(
            text(
                "SELECT kind, CAST(payload AS TEXT), CAST(run_at AS TEXT), "
                "CAST(created_at AS TEXT), CAST(updated_at AS TEXT), status, attempts, "
                "max_attempts, trace_id, lease_until, finished_at FROM jobs"
            )
        )
        return {row[0]: tuple(row[1:]) for row in result}


async def test_a_bulk_row_is_stored_exactly_as_the_orm_stores_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        session.add(Job(**job("orm")))
    async with bulk_transaction(sessions) as bulk:
        await bulk.insert(JOBS, [job("bulk")])
    rows = await raw_rows(sessions)
    assert rows["bulk"] == rows["orm"]
    async with sessions() as session:
        jobs = (await session.execute(Job.__table__.select())).mappings().all()
    read = {row["kind"]: row for row in jobs}
    assert read["bulk"]["run_at"] == MOMENT
    assert read["bulk"]["payload"] == job("bulk")["payload"]


async def test_insert_ignore_skips_taken_keys_and_says_which_it_inserted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    def row(event_id: str) -> dict[str, Any]:
        return {"provider": "attendee", "event_id": event_id, "kind": "k", "received_at": MOMENT}

    async with bulk_transaction(sessions) as bulk:
        first = await bulk.insert_ignore(INBOX, [row("a"), row("b")], ("provider", "event_id"))
    async with bulk_transaction(sessions) as bulk:
        second = await bulk.insert_ignore(INBOX, [row("b"), row("c")], ("provider", "event_id"))
    assert first == {("attendee", "a"), ("attendee", "b")}
    assert second == {("attendee", "c")}


async def test_a_block_that_raises_keeps_nothing_and_calls_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    called: list[str] = []
    with pytest.raises(RuntimeError):
        async with bulk_transaction(sessions) as bulk:
            await bulk.insert(JOBS, [job("lost")])
            bulk.after_commit(lambda: called.append("woken"))
            raise RuntimeError("after the insert")
    assert await raw_rows(sessions) == {}
    assert called == []
    async with bulk_transaction(sessions) as bulk:  # the connection is usable again
        await bulk.insert(JOBS, [job("kept")])
        bulk.after_commit(lambda: called.append("woken"))
    assert list(await raw_rows(sessions)) == ["kept"]
    assert called == ["woken"]


async def test_rows_with_different_columns_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partial = {k: v for k, v in job("b").items() if k != "trace_id"}
    with pytest.raises(ValueError, match="same columns"):
        async with bulk_transaction(sessions) as bulk:
            await bulk.insert(JOBS, [job("a"), partial])
    assert await raw_rows(sessions) == {}


async def test_a_connection_given_back_mid_transaction_is_rolled_back(sqlite_url: str) -> None:
    """SQLite's pool rolls back on return only when a transaction is open (one trip to the
    driver's thread saved every time); when one is, it still does."""
    engine = create_engine(sqlite_url)
    try:
        await upgrade(engine)
        sessions = create_sessionmaker(engine)
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute_fetchall("BEGIN IMMEDIATE", ())
            await driver.execute_fetchall("DELETE FROM jobs", ())
            assert driver.in_transaction
        async with bulk_transaction(sessions) as bulk:  # would fail inside an open transaction
            await bulk.insert(JOBS, [job("after")])
        assert list(await raw_rows(sessions)) == ["after"]
    finally:
        await engine.dispose()
