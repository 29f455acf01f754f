"""Forged bodies against the ack: how fast `debrief serve` answers a signed `/debrief help` while
attackers without any secret send maximum-size bodies to every route that reads one, against the
same commands with no attack (the anchor, measured in the same run), and the memory it takes.

Each attacker loops over the routes, sending the largest body each route reads, shaped to cost
the most: for Attendee (whose signature is over the parsed body) a valid JSON object of many
small values with a well-formed but wrong digest; for the others a wrong HMAC or token.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from bench.harness import DebriefProcess, Stage
from bench.report import Section, main, milliseconds, table
from bot.config import Settings
from providers.whereby.webhooks import SIGNATURE_HEADER as WHEREBY_SIGNATURE
from sandbox.slack import Delivery

#: Commands a second, as in bench.ack.
RATE = 10.0
ATTACKERS = 4


def costly_json(size: int) -> bytes:
    """A JSON object of at most ``size`` bytes made of many small values (the most to parse)."""
    item = json.dumps({"a": 1, "b": "xy", "c": [True, None, 2.5]}, separators=(",", ":"))
    head, tail = '{"idempotency_key":"k","trigger":"t","data":[', "]}"
    count = max(1, (size - len(head) - len(tail)) // (len(item) + 1))
    return (head + ",".join([item] * count) + tail).encode()


Forged = tuple[str, str, bytes, dict[str, str]]


class Stop(Protocol):
    def is_set(self) -> bool: ...


def forged_bodies(limits: dict[str, int]) -> list[Forged]:
    """(label, path, body, headers) of one round of forged requests, each at its route's limit;
    built once, before anything is measured (a 25 MiB body takes the sender a while)."""
    json_type = {"Content-Type": "application/json"}
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        (
            "attendee",
            "/webhooks/attendee",
            costly_json(limits["attendee"]),
            {**json_type, "X-Webhook-Signature": "A" * 43 + "="},
        ),
        (
            "otter",
            "/webhooks/otter",
            costly_json(limits["otter"]),
            {**json_type, "X-HMAC-SHA256": "0" * 64},
        ),
        ("whereby", "/webhooks/whereby", costly_json(limits["whereby"]), json_type),
        (
            "claritalk",
            "/webhooks/claritalk?token=forged",
            costly_json(limits["claritalk"]),
            json_type,
        ),
        ("slack", "/slack/events", b"payload=" + costly_json(limits["slack"] - 8), form_type),
    ]


def stamped(headers: dict[str, str], label: str) -> dict[str, str]:
    """The headers with a fresh timestamp where the route checks one (a stale one is refused
    sooner, and so costs less)."""
    stamp = str(int(time.time()))
    if label == "whereby":
        return {**headers, WHEREBY_SIGNATURE: f"t={stamp},v1={'0' * 64}"}
    if label == "slack":
        return {
            **headers,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
    return headers


async def attack(url: str, rounds: list[Forged], stop: Stop, answers: Counter[str]) -> None:
    """Send forged requests, one after another, until ``stop``."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while not stop.is_set():
            for label, path, body, headers in rounds:
                if stop.is_set():
                    return
                try:
                    async with session.post(
                        url + path, data=body, headers=stamped(headers, label)
                    ) as response:
                        await response.read()
                        answers[f"{label} {response.status}"] += 1
                except aiohttp.ClientError:
                    # A refusal before the body is read may close the connection mid-upload.
                    answers[f"{label} closed early"] += 1


def attackers(url: str, limits: dict[str, int], count: int, stop: Stop, out: Any) -> None:
    """The attack, in a process of its own: sending 25 MiB bodies takes the sender's CPU, which
    must not be the measuring client's."""

    async def all_of_them() -> Counter[str]:
        rounds, answers = forged_bodies(limits), Counter[str]()
        await asyncio.gather(*(attack(url, rounds, stop, answers) for _ in range(count)))
        return answers

    out.put(dict(asyncio.run(all_of_them())))


async def commands(send: Callable[[], Awaitable[Delivery]], seconds: float) -> list[Delivery]:
    """``send`` at RATE a second for ``seconds`` (open loop); every answer."""
    tasks = []
    start = time.perf_counter()
    for n in range(int(RATE * seconds)):
        await asyncio.sleep(max(0.0, start + n / RATE - time.perf_counter()))
        tasks.append(asyncio.create_task(send()))
    return list(await asyncio.gather(*tasks))


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and theirs (its worker processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


def workers_kib(pid: int, field: str) -> int:
    total = 0
    for child in descendants(pid):
        try:
            total += kib(child, field)
        except (OSError, RuntimeError):
            continue
    return total


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


async def run(quick: bool) -> Section:
    seconds = 8.0 if quick else 60.0
    limits = Settings().body_limits()
    with tempfile.TemporaryDirectory() as folder:
        async with Stage() as stage:
            assert stage.slack is not None
            slack = stage.slack
            env = stage.env(
                f"sqlite+aiosqlite:///{Path(folder) / 'forged.db'}",
                OTTER_WEBHOOK_SECRET=uuid.uuid4().hex,
                WHEREBY_WEBHOOK_SECRET=uuid.uuid4().hex,
                CLARITALK_WEBHOOK_SECRET=uuid.uuid4().hex,
            )
            app = DebriefProcess(env, log_path=Path(folder) / "serve.log")
            await app.start()
            try:

                def help_command() -> Awaitable[Delivery]:
                    return slack.command(app.url, "/debrief", "help")

                for _ in range(5):  # warm-up
                    await help_command()
                idle = kib(app.pid, "VmRSS")
                anchor = await commands(help_command, seconds)
                anchor_peak = kib(app.pid, "VmHWM")
                spawn = multiprocessing.get_context("spawn")
                stop, out = spawn.Event(), spawn.Queue()
                attacking = spawn.Process(
                    target=attackers, args=(app.url, limits, ATTACKERS, stop, out)
                )
                attacking.start()
                await asyncio.sleep(5)  # the attack under way (bodies built) before measuring
                attacked = await commands(help_command, seconds)
                workers_peak = workers_kib(app.pid, "VmHWM")
                stop.set()
                answers = await asyncio.to_thread(out.get, True, 120)
                await asyncio.to_thread(attacking.join, 30)
                attack_peak = kib(app.pid, "VmHWM")
                await asyncio.sleep(3)
                after = kib(app.pid, "VmRSS")
            finally:
                await app.stop()
    rows = []
    for label, deliveries in (("no attack (anchor)", anchor), ("under attack", attacked)):
        bad = sum(1 for d in deliveries if d.status != 200 or d.error)
        late = sum(1 for d in deliveries if d.elapsed > 3)
        rows.append(
            [label, len(deliveries), milliseconds([d.elapsed for d in deliveries]), bad, late]
        )
    memory = [
        ["idle, before the anchor", f"{idle / 1024:.1f}"],
        ["peak (VmHWM) by the end of the anchor", f"{anchor_peak / 1024:.1f}"],
        ["peak (VmHWM) by the end of the attack", f"{attack_peak / 1024:.1f}"],
        ["3 s after the attack", f"{after / 1024:.1f}"],
        [
            "its worker processes (forkserver and pool), peak by the end",
            f"{workers_peak / 1024:.1f}",
        ],
    ]
    forged = ", ".join(f"{k}: {v}" for k, v in sorted(answers.items()))
    sizes = ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in limits.items())
    body = f"""
Slack stand-in → `debrief serve` (SQLite, 4 workers, default limits: {sizes}).
Signed `/debrief help` at {RATE:g}/s for {seconds:g} s with no attack (the anchor), then again
while {ATTACKERS} attackers each send forged maximum-size bodies to the five routes in turn,
back to back. Time from sending the signed command to the app's answer, milliseconds; Slack
shows an error past 3 s.

{table(["commands", "n", "p50 / p99 / max ms", "non-200", "over 3 s"], rows)}

Forged requests answered (route and status): {forged}.

Resident memory of the process, MiB:

{table(["when", "RSS MiB"], memory)}
"""
    return Section("forged", "Ack latency under forged maximum-size bodies", body)


if __name__ == "__main__":
    raise SystemExit(main("forged", run))
