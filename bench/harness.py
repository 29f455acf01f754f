"""Running the real `debrief serve` as a subprocess against stand-ins in this process.

Shared by the benchmarks and by tests/reliability: :class:`Stage` holds the Slack and Attendee
stand-ins and the environment that points an app at them; :class:`DebriefProcess` starts, kills
and measures one `debrief serve`; the rest prepares Attendee meetings and delivers their signed
webhooks as Attendee would (again and again until a 2xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.store.db import create_engine
from bot.store.models import Job
from handlers.digest.items import PARENT_PART
from providers.attendee.webhooks import SIGNATURE_HEADER, sign
from sandbox.attendee import AttendeeStandIn
from sandbox.slack import SlackStandIn
from sandbox.slack.state import Message

ROOT = Path(__file__).resolve().parents[1]
TEAM = "T0SANDBOX"
#: The part of a digest that is its first message (the others are its details, in its thread).
DIGEST = PARENT_PART
DIGEST_CHANNEL = "C0MEETINGS"
OPS_CHANNEL = "C0GENERAL"
ZOOM = "https://us05web.zoom.us/j/{n}?pwd=bench"
#: What the app's status message shows of its bot (handlers/attendee/blocks.py).
BOT_ID = re.compile(r"`(bot_[A-Za-z0-9]+)`")
#: Environment names a `debrief serve` must not inherit from whoever runs the harness.
_APP_PREFIXES = ("DEBRIEF_", "SLACK_", "ATTENDEE_", "OTTER_", "WHEREBY_", "CLARITALK_")
_APP_NAMES = {"DATABASE_URL", "PORT", "HOST", "PUBLIC_URL", "LOG_LEVEL"}

SHORT_TRANSCRIPT = (
    ("Ada Lovelace", "Let's ship the integration on Friday."),
    ("Grace Hopper", "Agreed. I'll write the release notes today."),
    ("Alan Turing", "I'll check the webhook retries before then."),
)


def free_port() -> int:
    """A port free on loopback right now (the app binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without Debrief's own settings, plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_APP_PREFIXES) and k not in _APP_NAMES
    }
    env.update(settings)
    return env


class DebriefProcess:
    """One `debrief serve` subprocess on a loopback port, logging to ``log_path``.

    Args:
        env: the settings (environment names as in DESIGN.md); PORT and HOST are added.
        log_path: where its stderr and stdout go (appended, across restarts).
        port: the port to serve on; a free one when omitted (kept across restarts).
        command: the Python arguments that start it; another server (to compare) may be run.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        log_path: Path,
        port: int | None = None,
        command: Sequence[str] = ("-m", "bot.cli", "serve"),
    ) -> None:
        self.command = tuple(command)
        self.port = port or free_port()
        self.env = clean_environment({**env, "PORT": str(self.port), "HOST": "127.0.0.1"})
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    async def start(self, ready_within: float = 30.0) -> float:
        """Start it and wait for a 200 from /healthz; returns the seconds that took."""
        started = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.command,
                cwd=str(ROOT),
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        await self.wait_ready(ready_within)
        return time.perf_counter() - started

    async def wait_ready(self, within: float) -> dict[str, Any]:
        """The first /healthz answered 200, polled every 20 ms."""
        deadline = time.monotonic() + within
        while True:
            if self.process is not None and self.process.returncode is not None:
                raise RuntimeError(
                    f"debrief serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                status, body = await self.get("/healthz")
                if status == 200:
                    return dict(json.loads(body))
            if time.monotonic() > deadline:
                raise TimeoutError(f"/healthz not ready in {within}s:\n{self.log_tail()}")
            await asyncio.sleep(0.02)

    async def get(self, path: str) -> tuple[int, str]:
        session = await self._client()
        async with session.get(self.url + path) as response:
            return response.status, await response.text()

    async def healthz(self) -> dict[str, Any]:
        status, body = await self.get("/healthz")
        if status != 200:
            raise RuntimeError(f"/healthz answered {status}: {body}")
        return dict(json.loads(body))

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self._session

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine dies."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 15 s); also closes the health-check session."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.kill()
        if self.process is not None:
            await self.process.wait()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def wait_killed(self) -> None:
        if self.process is not None:
            await self.process.wait()

    def rss_kib(self) -> int:
        """Resident memory of the process, in KiB (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _slack_latency(seconds: float) -> Any:
    @web.middleware
    async def latency(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if request.path.startswith("/api/"):
            # After the work is done: like Slack, the message exists before the answer arrives.
            await asyncio.sleep(seconds)
        return response

    return latency


@dataclass
class Stage:
    """The stand-ins a `debrief serve` talks to, running in this process.

    Args:
        slack_latency: seconds the Slack stand-in takes to answer each Web API call after doing
            the work (real Slack takes ~0.1-0.3 s); widens the window between a post and its
            answer, as in production.
        attendee_delay: seconds the Attendee stand-in waits before answering anything.
        slack: the Slack stand-in to use (one with injected faults, say); a plain one if None.
        attendee: likewise for Attendee.
    """

    slack_latency: float = 0.0
    attendee_delay: float = 0.0
    slack: SlackStandIn | None = None
    attendee: AttendeeStandIn | None = None

    async def start(self) -> Stage:
        self.slack = self.slack or SlackStandIn(
            signing_secret=uuid.uuid4().hex, bot_token="xoxb-bench-" + uuid.uuid4().hex[:20]
        )
        if self.slack_latency:
            self.slack.app.middlewares.append(_slack_latency(self.slack_latency))
        self.attendee = self.attendee or AttendeeStandIn(
            api_key="bench-attendee-" + uuid.uuid4().hex[:16]
        )
        self.attendee.delay = self.attendee_delay
        await self.slack.start()
        await self.attendee.start()
        return self

    async def stop(self) -> None:
        if self.attendee is not None:
            await self.attendee.stop()
        if self.slack is not None:
            await self.slack.stop()

    async def __aenter__(self) -> Stage:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def env(self, database_url: str, **overrides: str) -> dict[str, str]:
        """The environment of a `debrief serve` talking to these stand-ins."""
        assert self.slack is not None and self.attendee is not None, "start the stage first"
        values = {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": self.slack.signing_secret,
            "SLACK_API_URL": self.slack.api_url,
            "DEBRIEF_DIGEST_CHANNEL": DIGEST_CHANNEL,
            "DEBRIEF_OPS_CHANNEL": OPS_CHANNEL,
            "ATTENDEE_API_KEY": self.attendee.api_key,
            "ATTENDEE_API_URL": self.attendee.url,
            "ATTENDEE_WEBHOOK_SECRET": self.attendee.webhook_secret,
            "DEBRIEF_ALLOW_PRIVATE_MEETING_HOSTS": "true",
            "DEBRIEF_SLACK_CHANNEL_INTERVAL": "0",
            "LOG_LEVEL": "INFO",
        }
        values.update(overrides)
        return values


async def prepare_meetings(
    attendee: AttendeeStandIn,
    count: int,
    *,
    channel: str = DIGEST_CHANNEL,
    lines: Sequence[tuple[str, str]] = SHORT_TRANSCRIPT,
) -> list[str]:
    """Bots that met, were transcribed and finished processing, silently (no webhooks).

    Their metadata names a Slack channel, so the app adopts them from their first webhook.
    """
    subscriptions, attendee.project_webhooks = attendee.project_webhooks, []
    delay, attendee.delay = attendee.delay, 0.0
    ids: list[str] = []
    try:
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Token {attendee.api_key}"}
        ) as session:
            for n in range(count):
                body = {
                    "meeting_url": ZOOM.format(n=8_400_000_000 + n),
                    "bot_name": "Debrief Notetaker",
                    "metadata": {
                        "slack_team_id": TEAM,
                        "slack_channel_id": channel,
                        "slack_user_id": "U0ADA",
                    },
                }
                async with session.post(attendee.url + "/api/v1/bots", json=body) as response:
                    if response.status != 201:
                        raise RuntimeError(f"creating a bot: {response.status}")
                    ids.append((await response.json())["id"])
        for bot_id in ids:
            attendee.join(bot_id)
            attendee.seed_transcript(bot_id, lines)
            attendee.advance(bot_id, "post_processing", "meeting_ended")
            attendee.advance(bot_id, "ended", "post_processing_completed")
    finally:
        attendee.project_webhooks, attendee.delay = subscriptions, delay
    return ids


def completed_webhook(attendee: AttendeeStandIn, bot_id: str) -> tuple[bytes, dict[str, str]]:
    """The signed ``post_processing_completed`` delivery of a finished bot, as Attendee sends it."""
    bot = attendee.bot(bot_id)
    envelope = {
        "idempotency_key": str(uuid.uuid4()),
        "bot_id": bot_id,
        "bot_metadata": bot["metadata"],
        "trigger": "bot.state_change",
        "data": {
            "new_state": "ended",
            "old_state": "post_processing",
            "created_at": datetime.now(UTC).isoformat(),
            "event_type": "post_processing_completed",
            "event_metadata": {"bot_duration_seconds": 60},
            "event_sub_type": None,
        },
    }
    return json.dumps(envelope).encode(), {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(envelope, attendee.webhook_secret),
    }


def state_webhook(
    attendee: AttendeeStandIn, bot_id: str, metadata: dict[str, Any] | None, trigger: str
) -> tuple[bytes, dict[str, str]]:
    """A signed delivery about a bot Debrief does not know (for ingest load): the job that
    handles it looks the bot up and lets it be.
    """
    if trigger == "bot.state_change":
        data: dict[str, Any] = {
            "new_state": "joined_recording",
            "old_state": "joined_not_recording",
            "created_at": datetime.now(UTC).isoformat(),
            "event_type": "recording_permission_granted",
            "event_metadata": {},
            "event_sub_type": None,
        }
    else:
        data = {
            "duration_ms": 1200,
            "speaker_name": "Ada Lovelace",
            "speaker_uuid": "sim-ada",
            "timestamp_ms": int(time.time() * 1000),
            "transcription": {"transcript": "A line of the meeting, as it was said."},
            "speaker_is_host": True,
            "speaker_user_uuid": None,
        }
    envelope = {
        "idempotency_key": str(uuid.uuid4()),
        "bot_id": bot_id,
        "bot_metadata": metadata,
        "trigger": trigger,
        "data": data,
    }
    return json.dumps(envelope).encode(), {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(envelope, attendee.webhook_secret),
    }


async def deliver_until_accepted(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    within: float = 60.0,
    backoff: float = 0.1,
) -> int:
    """POST until a 2xx, as a provider retries a delivery; returns the number of attempts."""
    deadline = time.monotonic() + within
    attempts = 0
    while True:
        attempts += 1
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.post(url, data=body, headers=dict(headers)) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return attempts
                if 400 <= response.status < 500:
                    raise RuntimeError(f"delivery refused with {response.status}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no 2xx from {url} in {within}s")
        await asyncio.sleep(backoff)


@dataclass(frozen=True)
class MeetingPosts:
    """What one meeting left in Slack: its status messages, the digests under them (each
    digest's first message), and every part of the digests (details, long lists…)."""

    statuses: list[Message]
    digests: list[Message]
    parts: list[Message] = field(default_factory=list)

    def doubled_parts(self) -> list[str]:
        """The digest parts posted more than once (by the natural key each carries)."""
        keys = [_part_key(m) for m in self.parts]
        return sorted({k for k in keys if k is not None and keys.count(k) > 1})


def _part_key(message: Message) -> str | None:
    payload = (message.metadata or {}).get("event_payload") or {}
    part = payload.get("part")
    return f"{payload.get('channel_id')}/{part}" if part else None


def posts_by_bot(slack: SlackStandIn, channel: str = DIGEST_CHANNEL) -> dict[str, MeetingPosts]:
    """Every meeting's status messages (found by the bot id they show) and digest replies."""
    found: dict[str, MeetingPosts] = {}
    for message in slack.messages(channel):
        if not message.bot_id:
            continue
        match = BOT_ID.search(json.dumps(message.blocks))
        if match is None:
            continue
        posts = found.setdefault(match[1], MeetingPosts([], []))
        posts.statuses.append(message)
        replies = [m for m in slack.thread(channel, message.ts) if m.ts != message.ts and m.bot_id]
        posts.parts.extend(replies)
        posts.digests.extend(m for m in replies if _part_key(m) in (None, f"{channel}/{DIGEST}"))
    return found


async def queue_stats(database_url: str) -> dict[str, int]:
    """Jobs by status, read straight from the database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(Job.status, func.count()).group_by(Job.status))
            return {status: count for status, count in rows.all()}
    finally:
        await engine.dispose()


async def dead_jobs(database_url: str) -> list[tuple[str, str]]:
    """(kind, last error) of every dead job."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Job.kind, Job.last_error).where(Job.status == "dead")
            )
            return [(kind, error or "") for kind, error in rows.all()]
    finally:
        await engine.dispose()


async def create_postgres_database(admin_url: str, prefix: str = "debrief_bench") -> str:
    """A new, empty database on the server of ``admin_url``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin_url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def migrate(database_url: str) -> None:
    """`debrief migrate`, in this process."""
    from bot.store.migrate import upgrade

    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
