"""Per-person limits on `/debrief join` and `/debrief room`, through signed commands to the real
app; two app instances on one database stand for two `debrief serve` processes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot import limits
from bot.limits import LimitReached
from bot.store.db import transaction
from bot.store.models import Job, utcnow
from handlers.attendee.jobs import JOB_CREATE as JOB_CREATE_BOT
from handlers.attendee.tables import AttendeeBot
from handlers.whereby.listeners import room_limit
from handlers.whereby.rooms import JOB_CREATE as JOB_CREATE_ROOM
from handlers.whereby.tables import WherebyRoom
from sandbox.slack import SlackStandIn
from tests.handlers.digest.support import Rig, rig

ADA, GRACE = "U0ADA", "U0GRACE"
CHANNEL = "C0ENG"
SENT = "Sending a notetaker"
#: A room's only answer comes from its job (the host link), so an accepted `/debrief room` is
#: acknowledged with nothing: :func:`command` reads that as this marker.
ACKED = "(acknowledged without a word)"
OPENED = ACKED
LATER = re.compile(r"You can (send|open) another in (a minute|an hour|\d+ minutes)\.")

SETTINGS: dict[str, Any] = {
    "attendee_api_key": "attendee-test-key",
    "attendee_webhook_secret": "YXR0ZW5kZWUtd2ViaG9vay1zZWNyZXQ=",
    # Jobs never run here: no provider is called, and no meeting host needs resolving.
    "allow_private_meeting_hosts": True,
    "whereby_api_key": "whereby-test-key",
    "whereby_api_url": "http://127.0.0.1:9/v1",
}


@asynccontextmanager
async def instances(database_url: str, count: int = 2, **settings: Any) -> AsyncIterator[list[Rig]]:
    """``count`` app instances on one database, answering commands from one Slack stand-in."""
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(
            SlackStandIn(signing_secret="test-signing-secret-0000")
        )
        rigs = [
            await stack.enter_async_context(rig(database_url, slack=slack, **(SETTINGS | settings)))
            for _ in range(count)
        ]
        yield rigs


def app_url(r: Rig) -> str:
    return str(r.client.make_url("")).rstrip("/")


async def command(r: Rig, text: str, user: str = ADA) -> str:
    """Type `/debrief <text>` as ``user``; the ephemeral answer."""
    delivery = await r.slack.command(app_url(r), "/debrief", text, user_id=user, channel_id=CHANNEL)
    assert delivery.status == 200, delivery.body
    return str(delivery.json["text"]) if delivery.body else ACKED


#: Commands in flight at once in a burst: well over the limits tested, and few enough that
#: every one is answered within Slack's three seconds (Bolt answers 404 after that) on a busy
#: machine; :func:`test_a_hundred_counts_at_once_pass_exactly_the_limit` has no such bound.
IN_FLIGHT = 12


async def burst(rigs: list[Rig], texts: list[tuple[str, str]]) -> list[str]:
    """Every ``(text, user)``, ``IN_FLIGHT`` at a time, spread over the instances in turn."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int, text: str, user: str) -> str:
        async with gate:
            return await command(rigs[i % len(rigs)], text, user)

    return list(await asyncio.gather(*(one(i, text, user) for i, (text, user) in enumerate(texts))))


def tally(answers: list[str], accepted: str) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for answer in answers:
        if answer.startswith(accepted):
            kinds["accepted"] += 1
        elif LATER.search(answer) and "per-person limit" in answer:
            kinds["refused"] += 1
        else:
            kinds[answer] += 1
    return kinds


async def rows(r: Rig, model: Any, **where: str) -> int:
    async with r.services.sessions() as session:
        statement = select(func.count()).select_from(model).filter_by(**where)
        return int(await session.scalar(statement) or 0)


def freeze(rigs: list[Rig], at: datetime) -> None:
    for r in rigs:
        r.services.clock = lambda: at


async def test_a_burst_of_rooms_from_one_person_opens_exactly_the_limit(database_url: str) -> None:
    async with instances(database_url, limit_rooms_per_hour=10) as rigs:
        answers = await burst(rigs, [("room 1440", ADA)] * 100 + [("room", GRACE)] * 3)

        ada, grace = tally(answers[:100], OPENED), tally(answers[100:], OPENED)
        assert ada == Counter(accepted=10, refused=90), ada
        assert grace == Counter(accepted=3), grace
        assert await rows(rigs[0], WherebyRoom, creator_id=ADA) == 10
        assert await rows(rigs[1], WherebyRoom, creator_id=GRACE) == 3
        assert await rows(rigs[0], Job, kind=JOB_CREATE_ROOM) == 13


async def test_a_burst_of_joins_from_one_person_sends_exactly_the_limit(database_url: str) -> None:
    async with instances(database_url, limit_notetakers_per_hour=10) as rigs:
        ada = [(f"join https://zoom.us/j/{100000000 + n}", ADA) for n in range(30)]
        grace = [(f"join https://meet.google.com/abc-defg-hi{c}", GRACE) for c in "xyz"]
        answers = await burst(rigs, ada + grace)

        assert tally(answers[:30], SENT) == Counter(accepted=10, refused=20)
        assert tally(answers[30:], SENT) == Counter(accepted=3)
        # A refused request leaves nothing behind: no row, no job.
        assert await rows(rigs[0], AttendeeBot, user_id=ADA) == 10
        assert await rows(rigs[1], AttendeeBot, user_id=GRACE) == 3
        assert await rows(rigs[0], Job, kind=JOB_CREATE_BOT) == 13


async def test_a_hundred_counts_at_once_pass_exactly_the_limit(database_url: str) -> None:
    async with instances(database_url) as rigs:
        rooms = room_limit(rigs[0].services)  # 10 an hour
        passed: list[str] = []

        async def attempt(r: Rig, user: str) -> None:
            try:
                async with transaction(r.services.sessions) as session:
                    await limits.count(session, r.services, rooms, "T0SANDBOX", user)
            except LimitReached as refusal:
                assert refusal.retry_after > 0
            else:
                passed.append(user)

        await asyncio.gather(
            *(attempt(rigs[n % 2], ADA) for n in range(100)),
            *(attempt(rigs[n % 2], GRACE) for n in range(3)),
        )
        assert Counter(passed) == Counter({ADA: 10, GRACE: 3})


async def test_one_meeting_behind_ten_links_gets_one_notetaker_counted_once(
    sqlite_url: str,
) -> None:
    async with instances(sqlite_url, count=1, limit_notetakers_per_hour=2) as (r,):
        links = [f"https://zoom.us/j/84315220467?pwd=secret{n}" for n in range(8)] + [
            "<https://us05web.zoom.us/j/84315220467#success|zoom>",
            "https://Company.Zoom.us/J/84315220467/",
        ]
        answers = [await command(r, f"join {link}") for link in links]

        assert answers[0].startswith(SENT)
        assert all("already on its way" in a for a in answers[1:]), answers
        assert await rows(r, AttendeeBot) == 1
        assert await rows(r, Job, kind=JOB_CREATE_BOT) == 1
        # The twins were not counted: one notetaker of the two an hour is left.
        assert (await command(r, "join https://zoom.us/j/5550001")).startswith(SENT)
        assert LATER.search(await command(r, "join https://zoom.us/j/5550002"))


async def test_the_refusal_says_when_to_try_again_and_then_it_works(sqlite_url: str) -> None:
    async with instances(sqlite_url, limit_rooms_per_hour=2) as rigs:
        start = utcnow()
        freeze(rigs, start)
        assert (await command(rigs[0], "room")).startswith(OPENED)
        freeze(rigs, start + timedelta(minutes=20))
        assert (await command(rigs[1], "room")).startswith(OPENED)

        freeze(rigs, start + timedelta(minutes=48))
        refusal = await command(rigs[0], "room")
        assert "per-person limit on Whereby rooms (2 an hour)" in refusal
        assert refusal.endswith("You can open another in 12 minutes.")
        freeze(rigs, start + timedelta(minutes=59, seconds=30))
        assert (await command(rigs[1], "room")).endswith("You can open another in a minute.")

        freeze(rigs, start + timedelta(minutes=60, seconds=1))
        assert (await command(rigs[1], "room")).startswith(OPENED)
        assert (await command(rigs[0], "room")).endswith("in 20 minutes.")


async def test_a_limit_of_zero_is_no_limit(sqlite_url: str) -> None:
    async with instances(sqlite_url, count=1, limit_rooms_per_hour=0) as (r,):
        answers = [await command(r, "room") for _ in range(12)]
        assert all(a.startswith(OPENED) for a in answers)


async def test_notetakers_and_rooms_are_counted_apart(sqlite_url: str) -> None:
    async with instances(
        sqlite_url, count=1, limit_rooms_per_hour=1, limit_notetakers_per_hour=1
    ) as (r,):
        assert (await command(r, "room")).startswith(OPENED)
        assert (await command(r, "join https://zoom.us/j/123456789")).startswith(SENT)
        assert "limit on Whereby rooms (1 an hour)" in await command(r, "room")
        assert "limit on notetakers (1 an hour)" in await command(
            r, "join https://zoom.us/j/987654321"
        )
