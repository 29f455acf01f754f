"""The replay guard's edges (the refusals themselves are in tests/security/test_requests.py): what
counts as authentic, what is forgotten again, and how long signatures are kept.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.response import BoltResponse
from sqlalchemy import select

from bot.app import BOLT, Options, create_web_app
from bot.jobs import JobRun
from bot.replay import PROVIDER, RETENTION, WINDOW, ReplayGuard
from bot.services import SERVICES
from bot.store.db import create_engine, create_sessionmaker, transaction
from bot.store.models import InboxEvent, utcnow
from handlers.retention import JOB_PURGE, PurgeJob, job_purge
from sandbox.slack.signing import sign, signed_headers
from tests.conftest import make_settings

SECRET = "test-signing-secret-0000"  # make_settings' signing secret
FORM = "application/x-www-form-urlencoded"
BODY = urlencode({"command": "/debrief", "text": "help", "team_id": "T1", "user_id": "U1"})


def headers(timestamp: Any, signature: str | None = None) -> dict[str, list[str]]:
    """Headers as Bolt holds them: lower-case names, lists of values."""
    return {
        "x-slack-request-timestamp": [str(timestamp)],
        "x-slack-signature": [signature or sign(SECRET, timestamp, BODY)],
    }


def test_only_an_authentic_request_has_a_key() -> None:
    guard = ReplayGuard(SECRET, create_sessionmaker(create_engine("sqlite+aiosqlite://")), utcnow)
    now = int(time.time())
    key = guard.key(BODY, headers(now))
    assert key is not None and len(key) == 64
    assert guard.key(BODY, headers(now - 1)) not in (None, key), "a timestamp is a new request"
    refused = [
        headers(now, sign("not-the-secret", now, BODY)),
        headers(now - int(WINDOW.total_seconds()) - 1),
        headers("not-a-number", "v0=" + "0" * 64),
        {},
    ]
    assert [guard.key(BODY, h) for h in refused] == [None] * len(refused)
    assert guard.key(BODY + "&x=1", headers(now)) is None, "the body is signed"


async def test_a_request_answered_5xx_is_forgotten_so_it_may_come_again(
    aiohttp_client: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should Slack retry it with the same signature, the retry is not dropped as a duplicate."""
    app = await create_web_app(make_settings(database_url=database_url), Options(workers=0))
    dispatched = []

    async def unavailable(request: Any) -> BoltResponse:
        dispatched.append(request.body)
        return BoltResponse(status=503, body="")

    monkeypatch.setattr(app[BOLT], "async_dispatch", unavailable)
    client = await aiohttp_client(app)
    sent = signed_headers(SECRET, int(time.time()), BODY, FORM)
    statuses = [(await client.post("/slack/events", data=BODY, headers=sent)).status for _ in "ab"]
    assert statuses == [503, 503] and len(dispatched) == 2


async def test_the_purge_forgets_slack_signatures_after_minutes_not_webhook_ids(
    aiohttp_client: Any, database_url: str
) -> None:
    app = await create_web_app(make_settings(database_url=database_url), Options(workers=0))
    await aiohttp_client(app)
    services = app[SERVICES]
    now = services.clock()
    old = now - RETENTION - timedelta(minutes=1)
    rows = {
        (PROVIDER, "old"): old,
        (PROVIDER, "recent"): now - 2 * WINDOW,
        ("attendee", "old"): old,
    }
    async with transaction(services.sessions) as session:
        session.add_all(
            InboxEvent(provider=p, event_id=e, kind="k", received_at=at)
            for (p, e), at in rows.items()
        )
    await job_purge(
        services, PurgeJob(), JobRun(job_id=0, kind=JOB_PURGE, attempt=1, max_attempts=1)
    )
    async with services.sessions() as session:
        kept = set((await session.execute(select(InboxEvent.provider, InboxEvent.event_id))).all())
    assert kept == {(PROVIDER, "recent"), ("attendee", "old")}
