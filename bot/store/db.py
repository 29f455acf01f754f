"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out), one code path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from time import monotonic
from typing import Any, TypeVar

from sqlalchemy import Executable, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from providers import jsoncodec

Model = TypeVar("Model")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, a busy timeout and immediate transactions.

    Args:
        url: a ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URL.
        echo: log SQL statements.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        options: dict[str, Any] = {}
        if parsed.database not in (None, "", ":memory:"):
            # SQLite has one writer at a time, and every transaction here takes the write lock
            # up front (see _on_begin). With one connection, the transactions of this process
            # queue for it in asyncio and each starts the moment the last ends; with several,
            # they would queue in SQLite's busy handler, which polls with sleeps of up to
            # 100 ms (the ingest bench's p99 was around a second). Other processes on the
            # same file still wait in the busy handler.
            options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
        # Connections go back to the pool rolled back only when a transaction is open (see
        # _on_reset), not unconditionally: each rollback is a trip to aiosqlite's thread.
        options["pool_reset_on_return"] = None
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, **options, **_JSON_CODEC
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, **_JSON_CODEC)
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


#: A pooled PostgreSQL connection given back this recently is taken to be alive; one idle for
#: longer is pinged before it is handed out again (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 5.0


#: JSON columns (job payloads above all) encoded and decoded by orjson, with the standard
#: library's results (see providers/jsoncodec.py).
_JSON_CODEC: dict[str, Any] = {
    "json_serializer": jsoncodec.dumps,
    "json_deserializer": jsoncodec.loads,
}


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        # Sessions and bot/store/bulk.py end their own transactions; this catches any other
        # way a connection could come back with one open.
        if state.terminate_only or not state.asyncio_safe:
            return
        if record.driver_connection is not None and record.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked" when another writer got in between; taking the write lock up front makes it
        # wait (busy_timeout) instead. Every transaction here is short.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    """Ping a connection before handing it out only when it has been idle for ``seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and on asyncpg a ping is three
    round trips (a transaction around ``;``): more than the webhook intake's whole batch. A
    connection that has just been used is alive but for a server restart in between; then the
    statement that meets the lost connection fails (SQLAlchemy throws away that connection and
    every older one, and bulk.py throws away its own), its job or webhook is tried again, and
    what comes after gets new connections.
    """

    def _mark(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = monotonic()

    event.listen(engine.sync_engine, "connect", _mark)
    event.listen(engine.sync_engine, "checkin", _mark)

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if monotonic() - record.info.get("returned_at", 0.0) < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool replaces the connection and tries again (up to three times).
            raise DisconnectionError(f"a pooled connection was lost: {exc}") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session in one transaction: committed on success, rolled back on error."""
    async with sessions() as session, session.begin():
        yield session


async def get_row(
    sessions: async_sessionmaker[AsyncSession], model: type[Model], key: Any
) -> Model | None:
    """The row of ``model`` with primary key ``key`` (a tuple for a composite key), or None.

    Read in a short session of its own, without a transaction held open; the row stays usable
    after the session closes (see :func:`create_sessionmaker`).
    """
    async with sessions() as session:
        return await session.get(model, key)


async def write(sessions: async_sessionmaker[AsyncSession], statement: Executable) -> bool:
    """Run one UPDATE (or DELETE) in a transaction of its own; True when it touched a row.

    For the conditional writes that decide with their WHERE clause (a state machine's allowed
    moves, a version, a newer timestamp), so the caller learns whether its condition held.
    """
    async with transaction(sessions) as session:
        return touched(await session.execute(statement))


async def insert_ignore(session: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """Insert a row of ``model`` unless it would violate a unique key; True when inserted."""
    statement = _insert(session, model).values(**values).on_conflict_do_nothing()
    return touched(await session.execute(statement))


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def touched(result: Any) -> bool:
    """Whether an UPDATE or DELETE touched a row: whether its WHERE clause held."""
    return rowcount(result) > 0


def _insert(session: AsyncSession, target: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(target)
