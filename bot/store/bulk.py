"""Bulk writes on the database driver's own connection, for the one hot path that needs them.

Webhook intake records, for many deliveries at once, an inbox row for each delivery not seen
before and, with each, its job (see ``handlers/webhooks.py``). Through the async ORM that
transaction cost about 2 ms of CPU for 16 deliveries: statement caching, parameter processing,
a greenlet switch per driver call and, on SQLite, about 12 trips to aiosqlite's thread.

:func:`insert_new` does it in as few driver calls as each database allows:

- PostgreSQL: one statement, atomic on its own, so no ``BEGIN`` or ``COMMIT``: the rows go in
  through ``unnest`` of one array a column (the same statement text for any number of rows, so
  asyncpg prepares it once a connection) and the dependent rows join what was inserted.
- SQLite: ``BEGIN IMMEDIATE``, one multi-row ``INSERT … RETURNING`` a table, ``COMMIT``: four
  trips to aiosqlite's thread (SQLite has no ``INSERT`` inside ``WITH``).

Values are converted by each column's own SQLAlchemy type for the engine's dialect (the same
bind processors the ORM uses), so a row written here reads back exactly like one written through
a session. Only plain inserts of known columns are offered; everything else stays in
``bot/store/db.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

Row = dict[str, Any]
Key = tuple[Any, ...]
Processor = Callable[[Any], Any] | None


async def insert_new(
    sessions: async_sessionmaker[AsyncSession],
    table: Table,
    rows: Sequence[Row],
    key: Sequence[str],
    dependent: Table,
    dependents: Sequence[Row],
) -> set[Key]:
    """Insert each of ``rows`` whose unique ``key`` is not taken yet and, with each one
    inserted, its row of ``dependent`` (``dependents[i]`` goes with ``rows[i]``), all in one
    transaction; the keys of the rows inserted.

    ``rows`` must have distinct keys, and all rows of a table the same columns (ValueError).
    Committed when this returns; nothing is kept when it raises.
    """
    if len(dependents) != len(rows):
        raise ValueError("insert_new needs one dependent row for each row")
    if len({tuple(row[name] for name in key) for row in rows}) != len(rows):
        raise ValueError(f"rows for {table.name} repeat a key")
    if not rows:
        return set()
    batch = _Batch(table, rows, key, dependent, dependents)
    async with _checked_out(sessions) as (dialect, driver):
        writer = _Writer(dialect)
        if dialect.name == "sqlite":
            return await writer.sqlite(driver, batch)
        return await writer.postgresql(driver, batch)


@dataclass(frozen=True)
class _Batch:
    """What :func:`insert_new` was asked to insert."""

    table: Table
    rows: Sequence[Row]
    key: Sequence[str]
    dependent: Table
    dependents: Sequence[Row]


@asynccontextmanager
async def _checked_out(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[Dialect, Any]]:
    """The dialect and the driver's connection of one pooled connection, given back after."""
    engine: AsyncEngine = sessions.kw["bind"]
    # The pool's raw connection rather than an AsyncConnection around it: a quarter of the
    # CPU (25 us against 100 us a checkout), and nothing here needs SQLAlchemy's Connection.
    # Given back without a transaction open, it needs no trip to the driver to be reset.
    raw = await engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None, "a pooled connection always has its driver's connection"
        try:
            yield engine.dialect, driver
        except BaseException:
            # SQLAlchemy sees no error of the driver's here, so it cannot tell a lost
            # connection: one that is closed is thrown away, not given back to be used again.
            if engine.dialect.name != "sqlite" and driver.is_closed():
                raw.invalidate()
            raise
    finally:
        raw.close()
        # Whoever waits for a connection (a worker, a listener) gets this one before the
        # caller can take it again: the pool hands it to the first asker, and a caller that
        # loops, as the webhook intake does under a flood, would always be first. On SQLite's
        # single connection the workers of the ingest benchmark then did 195 jobs in 33 s.
        await asyncio.sleep(0)


class _Writer:
    """The statements of :func:`insert_new` for one dialect, with its converted values."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        # A batch's timestamps are mostly one moment, and converting a datetime is the
        # dearest conversion, so each distinct one is converted once.
        self._moments: dict[tuple[str, datetime], Any] = {}

    async def sqlite(self, driver: Any, batch: _Batch) -> set[Key]:
        table, key, dependent = batch.table, batch.key, batch.dependent
        # The write lock up front, as every transaction of the engine takes it (db.py).
        await driver.execute_fetchall("BEGIN IMMEDIATE", ())
        try:
            names, columns = self._columns(table, batch.rows)
            returning = ", ".join(self._quote(name) for name in key)
            inserted = {
                tuple(found)
                for found in await driver.execute_fetchall(
                    *self._values(
                        table, names, columns, f" ON CONFLICT DO NOTHING RETURNING {returning}"
                    )
                )
            }
            chosen = [
                row
                for parent, row in zip(batch.rows, batch.dependents, strict=True)
                if tuple(parent[name] for name in key) in inserted
            ]
            if chosen:
                names, columns = self._columns(dependent, chosen)
                await driver.execute_fetchall(*self._values(dependent, names, columns, ""))
            await driver.execute_fetchall("COMMIT", ())
        except BaseException:
            if driver.in_transaction:
                await driver.execute_fetchall("ROLLBACK", ())
            raise
        return inserted

    async def postgresql(self, driver: Any, batch: _Batch) -> set[Key]:
        table, key, dependent = batch.table, batch.key, batch.dependent
        names, columns = self._columns(table, batch.rows)
        extra, extra_columns = self._columns(dependent, batch.dependents)
        keys = [columns[names.index(name)] for name in key]
        shape = (table.name, tuple(names), tuple(key), dependent.name, tuple(extra))
        if shape not in _STATEMENTS:
            _STATEMENTS[shape] = self._statement(table, names, key, dependent, extra)
        sql = _STATEMENTS[shape]
        parameters = [*columns, *keys, *extra_columns]
        return {tuple(found) for found in await driver.fetch(sql, *parameters)}

    def _statement(
        self,
        table: Table,
        names: list[str],
        key: Sequence[str],
        dependent: Table,
        extra: list[str],
    ) -> str:
        """PostgreSQL's one statement: it runs an INSERT inside WITH exactly once whether or
        not the rest reads it, and the dependent rows join the keys that INSERT returned.
        Its parameters: an array a column of ``table``, one a key column, one a column of
        ``dependent``."""
        slots = iter(range(1, len(names) + len(key) + len(extra) + 1))
        arrays = self._arrays(table, names, slots)
        key_arrays = self._arrays(table, key, slots)
        extra_arrays = self._arrays(dependent, extra, slots)
        aliases = [f"_key{n}" for n in range(len(key))]
        quoted = ", ".join(self._quote(name) for name in names)
        quoted_key = ", ".join(self._quote(name) for name in key)
        quoted_extra = ", ".join(self._quote(name) for name in extra)
        join = " AND ".join(
            f"new.{self._quote(name)} = given.{alias}"
            for name, alias in zip(key, aliases, strict=True)
        )
        return (
            f"WITH new AS (INSERT INTO {self._quote(table.name)} ({quoted}) "
            f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING RETURNING {quoted_key}), "
            f"dependents AS (INSERT INTO {self._quote(dependent.name)} ({quoted_extra}) "
            f"SELECT {', '.join(f'given.{self._quote(n)}' for n in extra)} "
            f"FROM unnest({key_arrays}, {extra_arrays}) "
            f"AS given({', '.join(aliases)}, {quoted_extra}) JOIN new ON {join}) "
            f"SELECT {quoted_key} FROM new"
        )

    def _columns(self, table: Table, rows: Sequence[Row]) -> tuple[list[str], list[list[Any]]]:
        """The rows' column names, and each column's values converted for the dialect."""
        names = list(rows[0])
        if any(row.keys() != rows[0].keys() for row in rows):
            raise ValueError(f"rows for {table.name} do not all have the same columns")
        return names, [
            self._convert([row[name] for row in rows], *_processor(table, name, self._dialect))
            for name in names
        ]

    def _values(
        self, table: Table, names: list[str], columns: list[list[Any]], tail: str
    ) -> tuple[str, list[Any]]:
        """A multi-row ``INSERT … VALUES`` with SQLite's ``?`` placeholders."""
        group = "(" + ", ".join("?" * len(names)) + ")"
        groups = ", ".join([group] * len(columns[0]))
        quoted = ", ".join(self._quote(name) for name in names)
        parameters = [value for values in zip(*columns, strict=True) for value in values]
        return f"INSERT INTO {self._quote(table.name)} ({quoted}) VALUES {groups}{tail}", parameters

    def _arrays(self, table: Table, names: Sequence[str], slots: Any) -> str:
        """Numbered array parameters cast to the columns' types, for ``unnest``."""
        return ", ".join(
            f"${next(slots)}::{table.c[name].type.compile(dialect=self._dialect)}[]"
            for name in names
        )

    def _convert(self, values: list[Any], process: Processor, kind: str) -> list[Any]:
        if process is None:
            return values
        converted = []
        for value in values:
            if isinstance(value, datetime):
                moment = (kind, value)
                if moment not in self._moments:
                    self._moments[moment] = process(value)
                converted.append(self._moments[moment])
            else:
                converted.append(process(value))
        return converted

    def _quote(self, name: str) -> str:
        return str(self._dialect.identifier_preparer.quote(name))


_PROCESSORS: dict[tuple[str, str, str], tuple[Processor, str]] = {}
#: PostgreSQL's statements of insert_new, by table, columns, key and dependent columns.
_STATEMENTS: dict[tuple[Any, ...], str] = {}


def _processor(table: Table, name: str, dialect: Dialect) -> tuple[Processor, str]:
    """The column's bind processor for ``dialect``, as the ORM would apply it, and its type's
    repr: columns of equal types convert equal values alike (cached)."""
    cached = (dialect.name, table.name, name)
    if cached not in _PROCESSORS:
        kind = table.c[name].type
        _PROCESSORS[cached] = (kind.dialect_impl(dialect).bind_processor(dialect), repr(kind))
    return _PROCESSORS[cached]
