"""PostgreSQL's pool pings a connection only after it has been idle, and a connection the
server lost is replaced, not handed out again: after idling (the ping), on the ORM's path and on
the bulk intake's (SQLAlchemy sees no driver error there)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import db
from bot.store.bulk import insert_new
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade
from bot.store.models import InboxEvent, Job
from tests.conftest import POSTGRES_ADMIN_URL, reset_postgres

pytestmark = pytest.mark.postgres

IDLE = 0.3


@pytest.fixture
async def engine(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncEngine]:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", IDLE)
    await reset_postgres(postgres_server)
    made = create_engine(postgres_server)
    try:
        await upgrade(made)
        yield made
    finally:
        await made.dispose()


def count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings = [0]
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def kill(pid: int) -> None:
    """End a server process as a PostgreSQL restart would, behind the pool's back."""
    admin = create_engine(POSTGRES_ADMIN_URL)
    try:
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    await asyncio.sleep(0.1)  # the backend is gone before anyone uses its connection


async def test_a_connection_in_use_is_not_pinged_and_an_idle_one_is(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(engine, monkeypatch)
    first = await backend_pid(engine)
    for _ in range(5):
        assert await backend_pid(engine) == first
    assert pings[0] == 0, "a connection given back a moment ago is used without a ping"
    await asyncio.sleep(IDLE * 2)
    assert await backend_pid(engine) == first
    assert pings[0] == 1


async def test_an_idle_connection_the_server_lost_is_replaced_before_use(
    engine: AsyncEngine,
) -> None:
    lost = await backend_pid(engine)
    await kill(lost)
    await asyncio.sleep(IDLE * 2)
    assert await backend_pid(engine) != lost  # no error: the ping found it and the pool replaced it


async def test_the_bulk_path_throws_away_a_connection_the_server_lost(
    engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(engine)
    inbox, jobs = cast(Table, InboxEvent.__table__), cast(Table, Job.__table__)

    async def record(event_id: str) -> set[tuple[Any, ...]]:
        now = datetime.now(UTC)
        row = {"provider": "attendee", "event_id": event_id, "kind": "k", "received_at": now}
        job = {"kind": "k", "payload": {}, "status": "queued", "attempts": 0, "max_attempts": 6}
        job |= {"run_at": now, "created_at": now, "updated_at": now}
        return await insert_new(sessions, inbox, [row], ("provider", "event_id"), jobs, [job])

    assert await record("before") == {("attendee", "before")}
    await kill(await backend_pid(engine))  # used a moment ago: no ping will catch it
    with pytest.raises(Exception, match=r"(?i)connection"):
        await record("lost")
    # Without being thrown away the same dead connection would come back and fail again.
    assert await record("after") == {("attendee", "after")}
