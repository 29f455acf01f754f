"""Meeting ended -> digest posted, for an hour-long Attendee meeting, with the understanding
engine filling in its title, summary, decisions and action items (the embedded engine, the
default), next to the same path with nothing left to fill (the anchor).

One meeting at a time, so that what is measured is one meeting's latency, not a queue: the app
(in this process, over real HTTP, against the Slack and Attendee stand-ins, SQLite) is sent a
notetaker with `/debrief join`, the notetaker joins, the transcript (a real meeting of about
9,100 words once the corpus' markers are dropped: QMSum's TS3009b, copied under
``tests/payloads/qmsum`` with its licence) is given to it, and the meeting ends. The clock
runs from the stand-in's ``end_meeting`` (it sends ``post_processing_completed``
``STEP_DELAY`` later, included) to the digest's ``chat.postMessage`` reaching the Slack
stand-in.

The anchor runs the same meetings with an engine that answers at once with the embedded
engine's own result, computed beforehand: the meeting as if its provider had sent a summary
and items, so the difference is what understanding costs on the way to Slack.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.report import Section, main, milliseconds, table
from bot.jobs import QueueConfig
from bot.meetings import Meeting, Utterance
from handlers.digest.understand import turns_of
from sandbox.slack import Change
from sandbox.world import World, WorldOptions
from understanding.embedded import EmbeddedEngine
from understanding.types import Turn, Understanding

TRANSCRIPT = Path(__file__).resolve().parents[1] / "tests" / "payloads" / "qmsum" / "TS3009b.json"
CHANNEL = "C0MEETINGS"
STEP_DELAY = 0.05
#: Corpus annotations such as ``{vocalsound}`` and ``{disfmarker}``: not speech.
_MARKER = re.compile(r"\{[a-z_]+\}")


def meeting_lines(path: Path = TRANSCRIPT) -> list[tuple[str, str]]:
    """The meeting's turns as (speaker, words), the corpus' markers dropped."""
    turns = json.loads(path.read_text(encoding="utf-8"))["meeting_transcripts"]
    lines = []
    for turn in turns:
        text = " ".join(_MARKER.sub(" ", turn["content"]).split())
        if text:
            lines.append((str(turn["speaker"]), text))
    return lines


class Ready:
    """The anchor: answers at once with an understanding computed beforehand."""

    name = "ready"

    def __init__(self, answer: Understanding) -> None:
        self.answer = answer

    async def understand(
        self, turns: list[Turn], *, meeting_date: date | None = None, words: int = 110
    ) -> Understanding:
        return self.answer.model_copy(deep=True)


class DigestWatch:
    """When each status thread (by the status message's ts) got its digest."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}
        self.arrived = asyncio.Event()

    def __call__(self, change: Change) -> None:
        if change.kind != "message_posted":
            return
        message: dict[str, Any] = change.data["message"]
        thread = message.get("thread_ts")
        if thread and thread != message["ts"] and "Meeting digest" in str(message.get("text")):
            self.posted.setdefault(thread, time.perf_counter())
            self.arrived.set()


async def one_meeting(
    world: World, watch: DigestWatch, n: int, lines: list[tuple[str, str]]
) -> float:
    """Seconds from the meeting's end to its digest in Slack."""
    before = set(world.attendee.bots)
    url = f"https://us05web.zoom.us/j/{8_500_000_000 + n}"
    delivery = await world.slack.command(
        world.app_url, "/debrief", f"join {url}", user_id="U0ADA", channel_id=CHANNEL
    )
    assert delivery.status == 200, delivery.body
    (bot_id,) = await world.eventually(lambda: list(set(world.attendee.bots) - before))
    await world.settle()
    status = next(m for m in world.slack.messages(CHANNEL) if bot_id in json.dumps(m.blocks))
    world.attendee.join(bot_id)
    world.attendee.seed_transcript(bot_id, lines)
    await world.settle()
    watch.arrived.clear()
    ended = time.perf_counter()
    world.attendee.end_meeting(bot_id)
    while status.ts not in watch.posted:
        await asyncio.wait_for(watch.arrived.wait(), 120)
        watch.arrived.clear()
    latency = watch.posted[status.ts] - ended
    await world.settle()
    return latency


async def measure(
    engine: Any, count: int, lines: list[tuple[str, str]], folder: Path
) -> list[float]:
    options = WorldOptions(
        database_url=f"sqlite+aiosqlite:///{folder / f'{engine.name}.db'}",
        workers=2,
        scheduler=False,
        queue=QueueConfig(lease_seconds=30, poll_seconds=0.5, backoff_base=0.2),
        stand_ins={"attendee": {"step_delay": STEP_DELAY, "webhook_backoff": 0.05}},
        # One person sends every notetaker: the per-person hourly limit is off.
        settings={"slack_channel_interval": 0.0, "limit_notetakers_per_hour": 0},
    )
    watch = DigestWatch()
    async with World(options) as world:
        world.services.understanding = engine
        world.slack.workspace.listeners.append(watch)
        return [await one_meeting(world, watch, n, lines) for n in range(count)]


async def engine_alone(engine: EmbeddedEngine, turns: list[Turn], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        await engine.understand(turns)
        times.append(time.perf_counter() - start)
    return times


def p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000:.0f}"


async def run(quick: bool) -> Section:
    count = 3 if quick else 15
    lines = meeting_lines()
    words = sum(len(text.split()) for _, text in lines)
    embedded = EmbeddedEngine()
    turns = turns_of(
        Meeting(
            provider="attendee",
            meeting_id="bench",
            title="",
            transcript=[Utterance(speaker=s, text=t) for s, t in lines],
        )
    )
    alone = await engine_alone(embedded, turns, count)
    prepared = await embedded.understand(turns)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, engine in (
            ("embedded engine fills it in", embedded),
            ("anchor: nothing left to fill", Ready(prepared)),
        ):
            latencies = await measure(engine, count, lines, Path(folder))
            rows.append([label, count, milliseconds(latencies).split(" / ")[0], p95(latencies)])
    engine_p50 = milliseconds(alone).split(" / ")[0]
    body = f"""
An hour-long meeting: QMSum TS3009b, {len(lines)} turns, {words:,} words. One meeting at a
time; the app in this process with 2 workers, SQLite, `DEBRIEF_SLACK_CHANNEL_INTERVAL=0`; the
stand-ins answer at once, and the Attendee stand-in sends `post_processing_completed`
{STEP_DELAY * 1000:.0f} ms after the meeting ends (included). Engine `{embedded.name}` alone
on the same turns: p50 {engine_p50} ms.

{table(["path", "meetings", "p50 ms", "p95 ms"], rows)}

Target (issue #16): p50 under 2 s with the embedded engine.
"""
    return Section("meeting", "Meeting ended -> digest posted (understanding)", body)


if __name__ == "__main__":
    raise SystemExit(main("meeting", run))
