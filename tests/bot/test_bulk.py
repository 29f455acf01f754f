"""Bulk inserts on the driver's connection store exactly what the ORM stores, skip taken keys
with their dependent rows, and keep nothing of a batch that failed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.bulk import insert_new
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


KEY = ("provider", "event_id")


def inbox(event_id: str) -> dict[str, Any]:
    return {"provider": "attendee", "event_id": event_id, "kind": "k", "received_at": MOMENT}


async def keys(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return sorted((await session.execute(select(InboxEvent.event_id))).scalars())


async def test_a_bulk_row_is_stored_exactly_as_the_orm_stores_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        session.add(Job(**job("orm")))
    await insert_new(sessions, INBOX, [inbox("a")], KEY, JOBS, [job("bulk")])
    rows = await raw_rows(sessions)
    assert rows["bulk"] == rows["orm"]
    async with sessions() as session:
        jobs = (await session.execute(Job.__table__.select())).mappings().all()
        received = (await session.execute(select(InboxEvent.received_at))).scalar_one()
    read = {row["kind"]: row for row in jobs}
    assert read["bulk"]["run_at"] == MOMENT
    assert read["bulk"]["payload"] == job("bulk")["payload"]
    assert received.replace(tzinfo=UTC) == MOMENT


async def test_only_rows_with_a_new_key_are_inserted_and_only_their_dependents(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await insert_new(
        sessions, INBOX, [inbox("a"), inbox("b")], KEY, JOBS, [job("a"), job("b")]
    )
    second = await insert_new(
        sessions, INBOX, [inbox("b"), inbox("c")], KEY, JOBS, [job("b2"), job("c")]
    )
    assert first == {("attendee", "a"), ("attendee", "b")}
    assert second == {("attendee", "c")}
    assert sorted(await raw_rows(sessions)) == ["a", "b", "c"]
    assert await keys(sessions) == ["a", "b", "c"]
    # Nothing new: nothing inserted, and the same statement serves again.
    assert await insert_new(sessions, INBOX, [inbox("c")], KEY, JOBS, [job("c2")]) == set()
    assert sorted(await raw_rows(sessions)) == ["a", "b", "c"]


async def test_a_dependent_that_fails_keeps_nothing_of_the_batch(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    broken = job("broken") | {"kind": None}  # jobs.kind is NOT NULL: the database refuses it
    with pytest.raises(Exception, match=r"(?i)not null|null value"):
        await insert_new(sessions, INBOX, [inbox("a"), inbox("b")], KEY, JOBS, [job("a"), broken])
    assert await raw_rows(sessions) == {}
    assert await keys(sessions) == [], "the inbox rows went with the failed job"
    # The connection is usable again, and the keys are still free.
    assert await insert_new(sessions, INBOX, [inbox("a")], KEY, JOBS, [job("a")]) == {
        ("attendee", "a")
    }
    assert list(await raw_rows(sessions)) == ["a"]


async def test_misshapen_batches_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    partial = {k: v for k, v in job("b").items() if k != "trace_id"}
    with pytest.raises(ValueError, match="same columns"):
        await insert_new(sessions, INBOX, [inbox("a"), inbox("b")], KEY, JOBS, [job("a"), partial])
    with pytest.raises(ValueError, match="repeat a key"):
        await insert_new(sessions, INBOX, [inbox("a"), inbox("a")], KEY, JOBS, [job("a"), job("b")])
    with pytest.raises(ValueError, match="one dependent row"):
        await insert_new(sessions, INBOX, [inbox("a")], KEY, JOBS, [])
    assert await raw_rows(sessions) == {}
    assert await keys(sessions) == []


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
        # BEGIN IMMEDIATE would fail inside an open transaction.
        await insert_new(sessions, INBOX, [inbox("a")], KEY, JOBS, [job("after")])
        assert list(await raw_rows(sessions)) == ["after"]
    finally:
        await engine.dispose()
