"""Attendee and Slack failing a share of requests (500, 429 with Retry-After, dropped
connections, a timeout, and Slack 500s after the message was posted) while a real `debrief
serve` turns meetings into digests: every digest arrives exactly once, the only dead jobs are
the permanent failures, and the operators are told of each.
"""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.harness import (
    OPS_CHANNEL,
    DebriefProcess,
    Stage,
    completed_webhook,
    dead_jobs,
    deliver_until_accepted,
    posts_by_bot,
    prepare_meetings,
    queue_stats,
)
from sandbox.attendee import AttendeeStandIn
from sandbox.server import Fault
from sandbox.slack import SlackStandIn

pytestmark = pytest.mark.slow

MEETINGS = 16
SHARE = 0.2


class Chaos:
    """Fails a share of the requests whose path matches, in one of several ways, reproducibly."""

    def __init__(self, paths: str, faults: list[Fault], share: float, seed: int) -> None:
        self.paths = re.compile(paths)
        self.faults = faults
        self.share = share
        self.rng = random.Random(seed)
        self.injected: list[tuple[str, int, bool]] = []

    def pick(self, path: str) -> Fault | None:
        if not self.paths.search(path) or self.rng.random() >= self.share:
            return None
        fault = self.rng.choice(self.faults)
        self.injected.append((path, fault.status, fault.drop))
        return fault


def kinds_of_fault(path: str) -> list[Fault]:
    pattern = re.compile(path)
    return [
        Fault(pattern, status=500),
        Fault(pattern, status=503),
        Fault(pattern, status=429, headers={"Retry-After": "1"}),
        Fault(pattern, drop=True),
    ]


class FlakyAttendee(AttendeeStandIn):
    chaos: Chaos | None = None

    def _take_fault(self, path: str) -> Fault | None:
        return super()._take_fault(path) or (self.chaos.pick(path) if self.chaos else None)


class FlakySlack(SlackStandIn):
    chaos: Chaos | None = None
    #: Share of chat.postMessage calls answered 500 after the message was posted.
    lost_answers = 0.0
    rng = random.Random(7)

    def _take_fault(self, path: str) -> Fault | None:
        return super()._take_fault(path) or (self.chaos.pick(path) if self.chaos else None)


def lose_answers(slack: FlakySlack) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.path == "/api/chat.postMessage" and slack.rng.random() < slack.lost_answers:
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return response

    return middleware


async def test_every_digest_arrives_once_through_provider_and_slack_faults(
    database_url: str, tmp_path: Path
) -> None:
    attendee = FlakyAttendee(api_key="faults-attendee-key")
    slack = FlakySlack(signing_secret="faults-signing-secret", bot_token="xoxb-faults-token")
    slack.app.middlewares.append(lose_answers(slack))
    async with Stage(slack=slack, attendee=attendee) as stage:
        healthy = await prepare_meetings(attendee, MEETINGS)
        hidden = await prepare_meetings(attendee, 3, channel="C0HR")  # channel_not_found
        (vanished,) = await prepare_meetings(attendee, 1)  # 404 from Attendee: deleted meanwhile
        deliveries = [completed_webhook(attendee, b) for b in [*healthy, *hidden, vanished]]
        del attendee.bots[vanished]

        bot_paths = r"^/api/v1/bots/[^/]+(/transcript)?$"
        attendee.chaos = Chaos(bot_paths, kinds_of_fault(bot_paths), SHARE, seed=1)
        attendee.fail(r"/transcript$", delay=11.0, times=1)  # one read timeout (httpx: 10 s)
        slack_paths = r"^/api/(chat[.](postMessage|update)|conversations[.](history|replies))$"
        slack.chaos = Chaos(slack_paths, kinds_of_fault(slack_paths), SHARE, seed=2)
        slack.lost_answers = SHARE / 2

        env = stage.env(
            database_url,
            DEBRIEF_WORKERS="4",
            DEBRIEF_JOB_LEASE_SECONDS="15",
            DEBRIEF_JOB_POLL_SECONDS="0.2",
            DEBRIEF_JOB_BACKOFF_BASE="0.2",
            DEBRIEF_RUN_SCHEDULER="false",
        )
        app = DebriefProcess(env, log_path=tmp_path / "serve.log")
        await app.start()
        try:
            async with aiohttp.ClientSession() as session:
                await asyncio.gather(
                    *(
                        deliver_until_accepted(session, app.url + "/webhooks/attendee", b, h)
                        for b, h in deliveries
                    )
                )
            async with asyncio.timeout(45):
                while True:
                    stats = await queue_stats(database_url)
                    if not stats.get("queued") and not stats.get("running"):
                        break
                    await asyncio.sleep(0.2)
        finally:
            await app.stop()

    assert attendee.chaos.injected and slack.chaos.injected, "no fault was injected"
    posts = posts_by_bot(slack)
    wrong = {
        bot: (len(posts[bot].statuses), len(posts[bot].digests)) if bot in posts else (0, 0)
        for bot in healthy
        if bot not in posts or (len(posts[bot].statuses), len(posts[bot].digests)) != (1, 1)
    }
    assert not wrong, f"(status, digest) messages per meeting, expected (1, 1): {wrong}"
    doubled = {b: posts[b].doubled_parts() for b in healthy if posts[b].doubled_parts()}
    assert not doubled, f"digest parts posted twice: {doubled}"

    dead = await dead_jobs(database_url)
    assert sorted(kind for kind, _ in dead) == ["attendee.digest"] + ["attendee.event"] * 3, (
        "\n".join(f"{k}: {e[-160:]}" for k, e in dead)
    )
    for kind, error in dead:
        assert ("channel_not_found" if kind == "attendee.event" else "not found") in error.lower()

    notices = [m.text for m in slack.messages(OPS_CHANNEL) if "gave up on a job" in m.text]
    told = {re.search(r"\(#(\d+)\)", text)[1] for text in notices}  # type: ignore[index]
    assert len(told) == len(dead), f"operators told of {len(told)} of {len(dead)}: {notices}"
