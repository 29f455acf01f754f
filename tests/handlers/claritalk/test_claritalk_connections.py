"""`/debrief claritalk connect|status|disconnect`, the connect page, keeping connections alive."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import StoredSecret
from handlers.claritalk.jobs import JOB_MAINTAIN
from handlers.claritalk.store import secret_name
from handlers.claritalk.tables import ClaritalkConnection
from sandbox.claritalk import ClaritalkStandIn
from tests.handlers.claritalk.support import CALLBACK, Clock, Rig, rig

DAY = 24 * 3600.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def claritalk(clock: Clock) -> AsyncIterator[ClaritalkStandIn]:
    stand_in = ClaritalkStandIn(redirect_uris=[CALLBACK], clock=clock.wall)
    async with stand_in:
        yield stand_in


def answers(r: Rig, user: str = "U0ADA") -> list[str]:
    return [e.text for e in r.slack.ephemerals(user)]


def link_in(text: str) -> str:
    match = re.search(r"<(https://debrief\.example\.com/claritalk/connect\?t=[^|>]+)\|", text)
    assert match, text
    return match.group(1)


async def secrets_stored(r: Rig) -> list[str]:
    async with r.services.sessions() as session:
        return list((await session.execute(select(StoredSecret.name))).scalars())


@pytest.mark.parametrize(
    ("unset", "told"),
    [
        ({"encryption_keys": None}, "DEBRIEF_ENCRYPTION_KEYS is not set"),
        ({"claritalk_client_secret": None}, "CLARITALK_CLIENT_ID and CLARITALK_CLIENT_SECRET"),
        ({"public_url": None}, "PUBLIC_URL"),
    ],
    ids=["no-keys", "no-client", "no-public-url"],
)
async def test_connect_refuses_clearly_when_it_cannot_work(
    sqlite_url: str,
    claritalk: ClaritalkStandIn,
    unset: dict[str, Any],
    told: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with rig(sqlite_url, claritalk, **unset) as r:
        answer = await r.command("claritalk connect")
        # The person is told whom to ask; the setting's name is for the operator's log.
        assert "Ask whoever runs Debrief" in answer
        assert told not in answer
        assert told in caplog.text
        assert "claritalk/connect?t=" not in answer
        # A sign-in this Debrief is not set up for is no server error: nothing is there (404).
        response = await r.client.get("/claritalk/connect?t=anything")
        assert response.status == 404
        assert "cannot be connected" in await response.text()


async def test_connect_gives_a_link_for_this_user_only(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        link = link_in(await r.command("claritalk connect"))
        path = link.removeprefix("https://debrief.example.com")
        response = await r.confirm(path)
        assert response.status == 303
        assert response.headers["Location"].startswith(f"{claritalk.url}/oauth/authorize?")
        assert "state=" in response.headers["Location"]
        cookie = response.cookies["debrief_claritalk_oauth"]
        assert cookie["httponly"] and cookie["path"] == "/claritalk/callback"
        assert cookie["secure"], "PUBLIC_URL is https"

        other = link_in(await r.command("claritalk connect", user="U0GRACE"))
        forged = path.replace(path.split(".")[-1], other.split(".")[-1])
        assert (await r.client.get(forged, allow_redirects=False)).status == 403

        clock.advance(minutes=16)
        expired = await r.client.get(path, allow_redirects=False)
        assert expired.status == 403 and "expired" in await expired.text()


async def test_status_and_disconnect(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        assert "have not connected" in await r.command("claritalk status")
        await r.connect()
        before = len(answers(r))
        assert await r.command("claritalk status") == "", "the check itself is the answer"
        await r.drain()
        (checked,) = answers(r)[before:]
        assert "connection works" in checked and "Ada Lovelace" in checked
        assert "already connected as *Ada Lovelace*" in await r.command("claritalk connect")

        assert "deleted your Claritalk tokens" in await r.command("claritalk disconnect")
        assert await secrets_stored(r) == []
        assert await r.token() is None
        assert "nothing to forget" in await r.command("claritalk disconnect")
        assert "Usage: `/debrief claritalk" in await r.command("claritalk frobnicate")


async def test_the_upkeep_keeps_a_quiet_connection_alive_for_weeks(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        first = await r.connect()
        seen = [first.refresh_token]
        for _ in range(4):  # four weeks with nobody using it, the upkeep running now and then
            for _ in range(7):
                clock.advance(days=1, minutes=5)
                await r.enqueue(JOB_MAINTAIN)
                await r.drain()
            token = await r.token()
            assert token is not None and token.refresh_token not in seen
            seen.append(token.refresh_token)
        assert await r.token() is not None
        async with r.services.sessions() as session:
            connection = await session.get(ClaritalkConnection, "U0ADA")
        assert connection is not None and connection.status == "connected"
        assert connection.refreshed_at == clock.now()


async def test_a_revoked_connection_is_reported_once_with_a_reconnect_link(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        token = await r.connect()
        assert token.refresh_token and claritalk.revoke(token.refresh_token)
        clock.advance(days=2)
        await r.enqueue(JOB_MAINTAIN)
        await r.drain()

        (dm,) = r.slack.dms("U0ADA")
        assert "lapsed or was revoked" in dm.text
        link = link_in(dm.text)
        path = link.removeprefix("https://debrief.example.com")
        response = await r.confirm(path)
        assert response.status == 303, "the reconnect link works"
        assert await secrets_stored(r) == [], "dead tokens are not kept"
        assert "has lapsed" in await r.command("claritalk status")

        await r.enqueue(JOB_MAINTAIN)
        await r.drain()
        assert len(r.slack.dms("U0ADA")) == 1, "told once"
        assert secret_name("U0ADA") == "claritalk.user.U0ADA"


async def test_a_week_without_renewal_lapses(
    sqlite_url: str, claritalk: ClaritalkStandIn, clock: Clock
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        await r.connect()
        clock.advance(days=8)  # e.g. Debrief was down for a week
        assert await r.command("claritalk status") == ""
        await r.drain()
        assert any("lapsed or was revoked" in a for a in answers(r))
        (dm,) = r.slack.dms("U0ADA")
        assert "Reconnect Claritalk" in dm.text


@pytest.mark.parametrize(
    ("status", "body", "headers", "told"),
    [
        (401, {"message": "Unauthenticated."}, {}, "Reconnect with `/debrief claritalk connect`"),
        (403, {"message": "Forbidden."}, {}, "may not do that (403)"),
        (409, {"message": "An active recording already exists."}, {}, "conflict"),
        (
            422,
            {"message": "Invalid.", "errors": {"meeting": ["The meeting is not ready."]}},
            {},
            "(422): meeting: The meeting is not ready.",
        ),
        (429, {"message": "Too Many Attempts."}, {"Retry-After": "120"}, "in 120 seconds"),
        (
            503,
            {"message": "Claritalk Connect desktop client is not connected"},
            {},
            "desktop client is not connected (503)",
        ),
    ],
    ids=["401", "403", "409", "422", "429", "503"],
)
async def test_claritalks_status_codes_are_sentences(
    sqlite_url: str,
    claritalk: ClaritalkStandIn,
    clock: Clock,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    told: str,
) -> None:
    async with rig(sqlite_url, claritalk, clock) as r:
        await r.connect()
        claritalk.fail(r"^/api/user$", status=status, body=body, headers=headers, times=2)
        await r.command("claritalk status")
        await r.drain()
        said = [a for a in answers(r) if "Checking" not in a]
        assert len(said) == 1 and told in said[0], said
