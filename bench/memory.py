"""Memory and start-up of `debrief serve` (a real subprocess): resident memory when idle and
after N signed webhooks (each making a job the workers run), and the time from starting the
process to the first 200 from /healthz, on a new SQLite database (migrations included), an
existing one, and an existing PostgreSQL one.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.harness import (
    DebriefProcess,
    Stage,
    create_postgres_database,
    drop_postgres_database,
    migrate,
    queue_stats,
    state_webhook,
)
from bench.report import Section, main, table

POSTGRES_ADMIN_URL = os.environ.get(
    "DEBRIEF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CONCURRENCY = 16
#: The flood fails when no job has finished for this long (the workers are stuck).
STALLED_SECONDS = 120


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def startups(stage: Stage, url: str, runs: int, folder: Path, fresh: bool) -> list[float]:
    seconds = []
    for n in range(runs):
        database = url
        if fresh:
            database = f"sqlite+aiosqlite:///{folder / f'fresh-{n}.db'}"
        app = DebriefProcess(stage.env(database), log_path=folder / "startup.log")
        try:
            seconds.append(await app.start())
        finally:
            await app.stop()
    return seconds


async def flood(stage: Stage, app: DebriefProcess, count: int) -> None:
    """``count`` signed webhooks, ``CONCURRENCY`` at a time, then wait for their jobs."""
    queue = iter(range(count))
    async with aiohttp.ClientSession() as session:

        async def sender() -> None:
            for n in queue:
                trigger = "bot.state_change" if n % 5 == 0 else "transcript.update"
                body, headers = state_webhook(stage.attendee, f"bot_mem{n % 997}", None, trigger)  # type: ignore[arg-type]
                async with session.post(
                    app.url + "/webhooks/attendee", data=body, headers=headers
                ) as response:
                    await response.read()

        await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    # However long the workers take on this machine, as long as they make progress.
    waiting, since = -1, time.monotonic()
    while True:
        stats = await queue_stats(app.env["DATABASE_URL"])
        left = stats.get("queued", 0) + stats.get("running", 0)
        if not left:
            return
        if left != waiting:
            waiting, since = left, time.monotonic()
        elif time.monotonic() - since > STALLED_SECONDS:
            raise TimeoutError(f"{left} jobs left and none done in {STALLED_SECONDS} s: {stats}")
        await asyncio.sleep(0.5)


async def run(quick: bool) -> Section:
    count, runs = (5_000, 2) if quick else (50_000, 5)
    rows: list[list[object]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        async with Stage() as stage:
            sqlite = f"sqlite+aiosqlite:///{folder / 'memory.db'}"
            fresh = await startups(stage, sqlite, runs, folder, fresh=True)
            await migrate(sqlite)
            warm = await startups(stage, sqlite, runs, folder, fresh=False)
            starts = [("SQLite, new database (migrates)", fresh), ("SQLite, existing", warm)]
            try:
                postgres = await create_postgres_database(POSTGRES_ADMIN_URL)
            except Exception as exc:  # no server: say so in the section
                notes.append(f"PostgreSQL not measured: {type(exc).__name__}: {exc}")
            else:
                try:
                    await migrate(postgres)
                    starts.append(
                        (
                            "PostgreSQL, existing",
                            await startups(stage, postgres, runs, folder, False),
                        )
                    )
                finally:
                    await drop_postgres_database(POSTGRES_ADMIN_URL, postgres)

            app = DebriefProcess(stage.env(sqlite, LOG_LEVEL="WARNING"), log_path=folder / "m.log")
            await app.start()
            try:
                await asyncio.sleep(3)
                idle = status_kib(app.pid, "VmRSS")
                await flood(stage, app, count)
                await asyncio.sleep(3)
                after = status_kib(app.pid, "VmRSS")
                peak = status_kib(app.pid, "VmHWM")
            finally:
                await app.stop()
    start_rows = [
        [label, len(s), f"{statistics.median(s):.2f}", f"{min(s):.2f}", f"{max(s):.2f}"]
        for label, s in starts
    ]
    rows = [
        ["idle, 3 s after start", f"{idle / 1024:.1f}"],
        [f"after {count:,} webhooks and their jobs", f"{after / 1024:.1f}"],
        ["peak (VmHWM) over the run", f"{peak / 1024:.1f}"],
    ]
    body = f"""
Start-up: from starting `python -m bot.cli serve` to the first 200 from `/healthz` (polled
every 20 ms), seconds.

{table(["database", "runs", "median s", "min s", "max s"], start_rows)}

Resident memory of `debrief serve` (SQLite, 4 workers), MiB; the webhooks are signed Attendee
deliveries ({CONCURRENCY} at a time), each enqueuing a job that the workers run to the end.

{table(["when", "RSS MiB"], rows)}

{" ".join(notes)}
"""
    return Section("memory", "Memory and start-up", body)


if __name__ == "__main__":
    raise SystemExit(main("memory", run))
