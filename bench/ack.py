"""Ack latency: how fast `debrief serve` answers signed slash commands and button clicks while
Attendee takes 5 s to answer anything (the work waits in jobs; the answer must not).

Commands (`/debrief join <url>`, `/debrief bots`) and clicks (Leave, Recording) are sent by the
Slack stand-in at a steady rate, each signed as Slack signs it; the time is from sending to the
app's HTTP answer. Slack shows an error past 3 s.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.harness import DIGEST_CHANNEL, DebriefProcess, Stage, queue_stats
from bench.report import Section, main, milliseconds, table
from sandbox.slack import Delivery, Message

ATTENDEE_DELAY = 5.0


def buttons_message(stage: Stage) -> Message:
    """A message with the app's two buttons, as its status and digest messages carry them."""
    assert stage.slack is not None
    workspace = stage.slack.workspace
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "attendee.leave",
                    "text": {"type": "plain_text", "text": "Make it leave"},
                    "value": "bot_benchmark000000",
                },
                {
                    "type": "button",
                    "action_id": "attendee.recording",
                    "text": {"type": "plain_text", "text": "Recording"},
                    "value": "00000000-0000-0000-0000-000000000000",
                },
            ],
        }
    ]
    return workspace.post(workspace.channel(DIGEST_CHANNEL), text="buttons", blocks=blocks)


async def run(quick: bool) -> Section:
    rate, seconds = (8.0, 8.0) if quick else (10.0, 60.0)
    with tempfile.TemporaryDirectory() as folder:
        async with Stage(attendee_delay=ATTENDEE_DELAY) as stage:
            assert stage.slack is not None
            database = f"sqlite+aiosqlite:///{Path(folder) / 'ack.db'}"
            # One sender stands for a whole workspace here: no per-person limit on its joins.
            env = stage.env(database, DEBRIEF_LIMIT_NOTETAKERS_PER_HOUR="0")
            app = DebriefProcess(env, log_path=Path(folder) / "serve.log")
            await app.start()
            try:
                message = buttons_message(stage)
                slack = stage.slack
                counter = iter(range(10**9))

                def join() -> Awaitable[Delivery]:
                    url = f"https://zoom.us/j/{9_000_000_000 + next(counter)}"
                    return slack.command(
                        app.url, "/debrief", f"join {url}", channel_id=DIGEST_CHANNEL
                    )

                kinds: dict[str, Callable[[], Awaitable[Delivery]]] = {
                    "/debrief join": join,
                    "/debrief bots": lambda: slack.command(app.url, "/debrief", "bots"),
                    "click Leave": lambda: slack.click(app.url, message, "attendee.leave"),
                    "click Recording": lambda: slack.click(app.url, message, "attendee.recording"),
                }
                for send in kinds.values():  # warm-up: first imports, connections
                    await send()
                results = await steady(kinds, rate, seconds)
                backlog = await queue_stats(database)
            finally:
                await app.stop()
    rows = []
    for kind, deliveries in results.items():
        times = [d.elapsed for d in deliveries]
        bad = sum(1 for d in deliveries if d.status != 200 or d.error)
        late = sum(1 for d in deliveries if d.late)
        rows.append([kind, len(deliveries), milliseconds(times), bad, late])
    every = [d.elapsed for ds in results.values() for d in ds]
    rows.append(["all", len(every), milliseconds(every), "", ""])
    body = f"""
Slack stand-in → `debrief serve` (SQLite, 4 workers) → Attendee stand-in answering every call
after {ATTENDEE_DELAY:.0f} s. Requests sent at {rate:g}/s for {seconds:g} s, kinds in turn
(open loop: a slow answer does not slow the sender). Time from sending the signed request to
the app's HTTP answer, milliseconds.

{table(["request", "n", "p50 / p99 / max ms", "non-200", "over 3 s"], rows)}

Jobs behind them by status when the last answer came: {dict(sorted(backlog.items()))}: the
provider work was still queued or waiting on Attendee; the answers never wait for it.
"""
    return Section("ack", "Ack latency with a 5 s provider", body)


async def steady(
    kinds: dict[str, Callable[[], Awaitable[Delivery]]], rate: float, seconds: float
) -> dict[str, list[Delivery]]:
    """Send the kinds in turn at ``rate`` per second for ``seconds``; wait for every answer."""
    results: dict[str, list[Delivery]] = defaultdict(list)
    tasks: list[asyncio.Task[Any]] = []
    names = list(kinds)
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        name = names[n % len(names)]

        async def one(name: str = name) -> None:
            results[name].append(await kinds[name]())

        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return results


if __name__ == "__main__":
    raise SystemExit(main("ack", run))
