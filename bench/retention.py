"""The retention purge on a backlog: how fast it deletes, how long it holds the database, and
what a writer meanwhile waits (another process recording webhook ids, one row a transaction).

A database with ``ROWS`` done jobs and ``ROWS`` webhook ids past their retention is purged
with the shipped batch size, then again (refilled) in the largest batches allowed, for
contrast: the longest purge transaction is what other writers can be made to wait (SQLite has
one write lock, and on PostgreSQL a batch holds its rows' locks). On an SQLite file, then on
PostgreSQL when its server answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from bench.e2e import POSTGRES_ADMIN_URL
from bench.harness import create_postgres_database, drop_postgres_database, migrate
from bench.report import Section, main, milliseconds, table
from bot.config import Settings
from bot.retention import Cutoffs, purge
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import InboxEvent, Job, utcnow
from handlers.retention import RULES

ROWS = 20_000
QUICK_ROWS = 1_000
#: DEBRIEF_RETENTION_BATCH_SIZE's upper bound.
LARGEST_BATCH = 10_000
#: The writer's pause between two rows (a steady trickle of webhooks).
WRITE_EVERY = 0.005


async def fill(url: str, rows: int) -> None:
    """``rows`` done jobs and ``rows`` webhook ids, 60 days old."""
    engine = create_engine(url)
    old = utcnow() - timedelta(days=60)
    try:
        async with engine.begin() as connection:
            for start in range(0, rows, 1000):
                count = min(1000, rows - start)
                await connection.execute(
                    insert(Job),
                    [
                        {
                            "kind": "bench",
                            "payload": {"n": start + i},
                            "status": "done",
                            "run_at": old,
                            "created_at": old,
                            "updated_at": old,
                            "finished_at": old,
                        }
                        for i in range(count)
                    ],
                )
                await connection.execute(
                    insert(InboxEvent),
                    [
                        {"provider": "bench", "event_id": uuid.uuid4().hex, "received_at": old}
                        for _ in range(count)
                    ],
                )
    finally:
        await engine.dispose()


async def writer(url: str, stop: asyncio.Event, latencies: list[float]) -> None:
    """Another process's webhook intake: one inbox row a transaction, until ``stop``."""
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            async with transaction(sessions) as session:
                session.add(InboxEvent(provider="live", event_id=uuid.uuid4().hex))
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(WRITE_EVERY)
    finally:
        await engine.dispose()


async def one_purge(url: str, rows: int, batch: int) -> dict[str, Any]:
    await fill(url, rows)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    held: list[float] = []
    began: dict[int, float] = {}

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        began[id(connection)] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "commit")
    def on_commit(connection: Any) -> None:
        if (start := began.pop(id(connection), None)) is not None:
            held.append(time.perf_counter() - start)

    rules = [rule for rule in RULES if rule.name in ("jobs (done)", "inbox")]
    stop, latencies = asyncio.Event(), []
    writing = asyncio.create_task(writer(url, stop, latencies))
    await asyncio.sleep(0.2)  # the writer is under way before the purge starts
    try:
        started = time.perf_counter()
        report = await purge(sessions, rules, Cutoffs.at(Settings(), utcnow()), batch)
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        await writing
        await engine.dispose()
    deleted = sum(report.rows.values())
    return {
        "deleted": deleted,
        "seconds": seconds,
        "batches": report.batches,
        "held": held,
        "latencies": latencies,
    }


async def run(quick: bool) -> Section:
    rows = QUICK_ROWS if quick else ROWS
    batch = Settings().retention_batch_size
    lines = []
    notes = []
    with tempfile.TemporaryDirectory() as folder:
        for label in ("SQLite file", "PostgreSQL"):
            for size in (batch, LARGEST_BATCH):
                mode = f"batches of {size}"
                if label == "SQLite file":
                    url = f"sqlite+aiosqlite:///{Path(folder) / f'{size}.db'}"
                    await migrate(url)
                else:
                    try:
                        url = await create_postgres_database(POSTGRES_ADMIN_URL)
                        await migrate(url)
                    except Exception as exc:  # no server: say so in the section
                        notes.append(f"PostgreSQL not measured: {type(exc).__name__}: {exc}")
                        break
                try:
                    result = await one_purge(url, rows, size)
                finally:
                    if label == "PostgreSQL":
                        with contextlib.suppress(Exception):
                            await drop_postgres_database(POSTGRES_ADMIN_URL, url)
                lines.append(
                    [
                        label,
                        mode,
                        result["deleted"],
                        f"{result['seconds']:.2f}",
                        f"{result['deleted'] / result['seconds']:.0f}",
                        f"{max(result['held']) * 1000:.0f}",
                        milliseconds(result["latencies"]),
                        len(result["latencies"]),
                    ]
                )
    body = (
        f"{rows} done jobs and {rows} webhook ids past their retention, purged while another "
        f"engine (a second process) records a webhook id every {WRITE_EVERY * 1000:.0f} ms, "
        "one row a transaction. *Longest hold*: the longest purge transaction, which is what a "
        "writer can be made to wait.\n\n"
        + table(
            [
                "database",
                "purge",
                "rows deleted",
                "seconds",
                "rows/s",
                "longest hold (ms)",
                "writer p50 / p99 / max (ms)",
                "writes",
            ],
            lines,
        )
    )
    if notes:
        body += "\n\n" + "\n".join(f"- {note}" for note in notes)
    return Section("retention", "Retention purge under a steady writer", body)


if __name__ == "__main__":
    raise SystemExit(main("retention", run))
