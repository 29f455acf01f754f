"""Webhook ingest: signed Attendee webhooks per second that `debrief serve` takes (verified,
deduplicated, inbox row and job committed, 2xx) and the p99 time to that 2xx, on SQLite and on
PostgreSQL, next to a bare aiohttp endpoint that only reads the body (same machine, same client,
same bodies); the ratio is the app's rate over the bare one's.

Each server runs as a subprocess; the load comes from this process: ``CONCURRENCY`` connections
(16, 64, then 128: providers send from many workers at once, and group commit gains with
company), each sending the next delivery as soon as the last was answered (closed loop), for a
fixed time after a warm-up. A server's sustained rate is its best over those loads: the rate it
keeps once the load saturates it (the bare endpoint reaches it at 16 already, the app later).
Every delivery has its own idempotency key: 80% ``transcript.update``, 20%
``bot.state_change`` of bots Debrief does not know (their jobs look the bot up and stop there).
The app runs twice per database: without workers (pure ingest) and with the default 4 workers
claiming and running those jobs as they arrive (no provider or Slack call is needed for them).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import (
    DebriefProcess,
    Stage,
    create_postgres_database,
    drop_postgres_database,
    migrate,
    percentile,
    queue_stats,
    state_webhook,
)
from bench.report import Section, main, table

CONCURRENCY = (16, 64, 128)
HEADER = (
    "connections",
    "server",
    "webhooks/s",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "ratio to bare",
    "server CPU ms a webhook",
    "jobs at the end",
)
POSTGRES_ADMIN_URL = os.environ.get(
    "DEBRIEF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

Delivery = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class Load:
    """What one server did under the load."""

    label: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu_seconds: float = 0.0
    backlog: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hammer(
    url: str,
    deliveries: list[Delivery],
    warmup: float,
    seconds: float,
    pid: int,
    concurrency: int,
) -> Load:
    """Closed-loop load; counts what completed inside the measured window only, and the
    server's CPU time over that window."""
    position = 0
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    window = (start + warmup, start + warmup + seconds)
    connector = aiohttp.TCPConnector(limit=concurrency)
    cpu: list[float] = []

    async def sample_cpu() -> None:
        for moment in window:
            await asyncio.sleep(max(0.0, moment - time.perf_counter()))
            cpu.append(cpu_seconds(pid))

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal position, errors
            while time.perf_counter() < window[1] and position < len(deliveries):
                body, headers = deliveries[position]
                position += 1
                sent = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = 200 <= response.status < 300
                done = time.perf_counter()
                if window[0] <= sent and done <= window[1]:
                    latencies.append(done - sent)
                    errors += 0 if ok else 1

        sampler = asyncio.create_task(sample_cpu())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        if len(cpu) < 2:  # ran out of deliveries before the window closed
            sampler.cancel()
            cpu.append(cpu_seconds(pid))
    # A run that ran out of deliveries measured a shorter window.
    measured = min(time.perf_counter(), window[1]) - window[0]
    return Load("", len(latencies), measured, latencies, errors, cpu[-1] - cpu[0])


def prepare(stage: Stage, count: int) -> list[Delivery]:
    assert stage.attendee is not None
    deliveries = []
    for n in range(count):
        trigger = "bot.state_change" if n % 5 == 0 else "transcript.update"
        deliveries.append(state_webhook(stage.attendee, f"bot_unknown{n % 997:06d}", None, trigger))
    return deliveries


async def measure(
    label: str,
    process: DebriefProcess,
    deliveries: list[Delivery],
    warmup: float,
    seconds: float,
    concurrency: int,
) -> Load:
    await process.start()
    try:
        load = await hammer(
            process.url + "/webhooks/attendee",
            deliveries,
            warmup,
            seconds,
            process.pid,
            concurrency,
        )
        backlog = ""
        if "DATABASE_URL" in process.env:
            stats = await queue_stats(process.env["DATABASE_URL"])
            backlog = ", ".join(f"{k} {v}" for k, v in sorted(stats.items()))
    finally:
        await process.stop()
    return Load(
        label, load.count, load.seconds, load.latencies, load.errors, load.cpu_seconds, backlog
    )


async def run(quick: bool) -> Section:
    warmup, seconds = (1.0, 4.0) if quick else (3.0, 30.0)
    budget = 12_000 if quick else 120_000
    rows: list[list[object]] = []
    notes: list[str] = []
    best: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        logs = Path(folder)
        async with Stage() as stage:
            deliveries = prepare(stage, budget)
            for concurrency in CONCURRENCY:

                async def load(label: str, process: DebriefProcess, at: int = concurrency) -> Load:
                    return await measure(label, process, deliveries, warmup, seconds, at)

                name = f"{concurrency}"
                bare = DebriefProcess(
                    {}, log_path=logs / f"bare-{name}.log", command=("-m", "bench.bare")
                )
                loads = [await load("bare aiohttp endpoint", bare)]
                for workers in ("0", "4"):
                    url = f"sqlite+aiosqlite:///{logs / f'ingest-{name}-{workers}.db'}"
                    app = DebriefProcess(
                        stage.env(url, DEBRIEF_WORKERS=workers, LOG_LEVEL="WARNING"),
                        log_path=logs / f"sqlite-{name}-{workers}.log",
                    )
                    loads.append(await load(f"app, SQLite, {workers} workers", app))
                for workers in ("0", "4"):
                    try:
                        url = await create_postgres_database(POSTGRES_ADMIN_URL)
                    except Exception as exc:  # no server: say so in the section
                        notes.append(f"PostgreSQL not measured: {type(exc).__name__}: {exc}")
                        break
                    try:
                        await migrate(url)
                        app = DebriefProcess(
                            stage.env(url, DEBRIEF_WORKERS=workers, LOG_LEVEL="WARNING"),
                            log_path=logs / f"postgres-{name}-{workers}.log",
                        )
                        loads.append(await load(f"app, PostgreSQL, {workers} workers", app))
                    finally:
                        await drop_postgres_database(POSTGRES_ADMIN_URL, url)
                rows += [row(concurrency, each, loads[0].rate) for each in loads]
                for each in loads:
                    if each.rate > best.get(each.label, (0.0, 0))[0]:
                        best[each.label] = (each.rate, concurrency)
    body = f"""
Closed loop at {" and at ".join(str(c) for c in CONCURRENCY)} connections, {seconds:g} s measured
after {warmup:g} s of warm-up; each server in its own process, the client in this one (2 cores
between them, so a faster server is partly limited by the client: the bare endpoint most of all).
The ratio is to the bare endpoint at the same number of connections. Server CPU: user + system
time of the server process over the measured window, per webhook answered.

{table(HEADER, rows)}

Sustained rate: each server's best over the loads above, and its ratio to the bare endpoint's.

{table(("server", "sustained webhooks/s", "at connections", "ratio to bare"), sustained(best))}

Goal: a ratio of 0.5 or better. {" ".join(notes)}
"""
    return Section("ingest", "Webhook ingest", body)


def sustained(best: dict[str, tuple[float, int]]) -> list[list[object]]:
    bare = best.get("bare aiohttp endpoint", (0.0, 0))[0]
    return [
        [label, f"{rate:,.0f}", at, f"{rate / bare:.2f}" if bare else "n/a"]
        for label, (rate, at) in best.items()
    ]


def row(concurrency: int, load: Load, bare_rate: float) -> list[object]:
    return [
        concurrency,
        load.label,
        f"{load.rate:,.0f}",
        f"{percentile(load.latencies, 50) * 1000:.1f}",
        f"{percentile(load.latencies, 99) * 1000:.1f}",
        load.errors,
        f"{load.rate / bare_rate:.2f}" if bare_rate else "n/a",
        f"{load.cpu_seconds / load.count * 1000:.2f}" if load.count else "n/a",
        load.backlog or "",
    ]


if __name__ == "__main__":
    raise SystemExit(main("ingest", run))
