"""Claritalk end to end, through real HTTP: connecting an account (the whole authorization-code
dance, tokens encrypted at rest), a refresh after expiry, forged and replayed states, and a
processed meeting becoming a digest with its PDF report in the thread.
"""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.db import create_engine
from handlers.claritalk import store
from handlers.claritalk.access import secret_box
from providers.claritalk import Token
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import block_text
from tests.handlers.claritalk.support import form_fields

DIGESTS = "C0MEETINGS"


class Shift:
    """Both the app's and Claritalk's clocks, moved forward together by a test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def wall(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


@pytest.fixture
async def shift() -> Shift:
    return Shift()


@pytest.fixture
async def world(database_url: str, shift: Shift) -> AsyncIterator[World]:
    options = world_options(
        database_url, clock=shift.now, stand_ins={"claritalk": {"clock": shift.wall}}
    )
    async with World(options) as started:
        yield started


def browser() -> aiohttp.ClientSession:
    # unsafe: keep cookies for 127.0.0.1, which the default jar refuses for bare IP hosts.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def command(world: World, words: str, user: str = "U0ADA") -> str:
    delivery = await world.slack.command(
        world.app_url, "/debrief", words, user_id=user, channel_id="C0GENERAL"
    )
    assert delivery.status == 200, delivery.body
    return str(delivery.json["text"]) if delivery.body else ""


async def connect_link(world: World, user: str = "U0ADA") -> str:
    answer = await command(world, "claritalk connect", user)
    match = re.search(r"<(http[^|>]+)\|Connect your Claritalk account>", answer)
    assert match, answer
    return match.group(1)


async def to_callback(session: aiohttp.ClientSession, link: str) -> str:
    """Follow the link, continue on its page, go to Claritalk's authorize page and back: the
    callback URL with code."""
    async with session.get(link, allow_redirects=False) as response:
        assert response.status == 200, await response.text()
        page = await response.text()
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action, page
    async with session.post(
        html.unescape(action.group(1)), data=form_fields(page), allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
        authorize = response.headers["Location"]
    async with session.get(authorize, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


async def open_page(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


def issued_tokens(world: World) -> list[str]:
    """Every OAuth access and refresh token the stand-in has handed out and still honours."""
    access = [t for t, grant in world.claritalk._access.items() if grant.kind == "oauth"]
    return access + list(world.claritalk._refresh)


async def database_bytes(database_url: str) -> bytes:
    """Everything the database holds: the SQLite file (and its WAL), or every PostgreSQL row."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    engine = create_engine(database_url)
    dump: list[str] = []
    try:
        async with engine.connect() as connection:
            tables = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            for (table,) in tables.all():
                rows = await connection.execute(text(f'SELECT t::text FROM "{table}" t'))
                dump += [f"{table}: {row}" for (row,) in rows.all()]
    finally:
        await engine.dispose()
    assert any(line.startswith("stored_secrets:") for line in dump), "the secrets table is read"
    return "\n".join(dump).encode()


async def stored_token(world: World, user: str = "U0ADA") -> Token | None:
    return await store.load_token(
        world.services.sessions, secret_box(world.services.settings), user
    )


async def test_connect_stores_tokens_encrypted_and_says_so_in_slack(
    world: World, database_url: str
) -> None:
    link = await connect_link(world)
    assert "works for 15 minutes" in await command(world, "claritalk connect")
    async with browser() as session:
        callback = await to_callback(session, link)
        assert callback.startswith(f"{world.app_url}/claritalk/callback?")
        status, page = await open_page(session, callback)
        assert status == 200, page
        assert "Claritalk is connected" in page and "Ada Lovelace" in page

        # The same callback again (a reload, or someone who saw the URL): the state is spent.
        status, page = await open_page(session, callback)
        assert status == 400 and "already used" in page

    (dm,) = await world.eventually(lambda: world.slack.dms("U0ADA"))
    assert "Ada Lovelace" in dm.text and "is connected" in dm.text
    token = await stored_token(world)
    assert token is not None and token.refresh_token
    tokens = issued_tokens(world)
    assert token.access_token in tokens and token.refresh_token in tokens
    await world.settle()
    raw = await database_bytes(database_url)
    assert b"ada@example.com" in raw, "the dump does hold what is stored in clear"
    for secret in tokens:
        assert secret.encode() not in raw, "a Claritalk token is stored in clear"
    # Neither the state nor the code is kept in clear either.
    query = parse_qs(urlsplit(callback).query)
    assert query["state"][0].encode() not in raw


async def test_a_forged_state_or_one_from_another_browser_is_refused(world: World) -> None:
    link = await connect_link(world)
    async with browser() as session:
        callback = await to_callback(session, link)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        forged = f"{world.app_url}/claritalk/callback?code={code}&state=forged-by-someone"
        status, page = await open_page(session, forged)
        assert status == 400 and "did not come from Debrief" in page
    async with browser() as other:  # the right state, but not the browser that started it
        status, page = await open_page(other, callback)
        assert status == 400 and "another browser" in page
    async with browser() as session:  # a tampered link never reaches Claritalk
        status, page = await open_page(session, link[:-3] + "abc")
        assert status == 403 and "signature" in page
    assert await stored_token(world) is None
    assert world.claritalk.calls_to("/oauth/token") == [], "no code was exchanged"
    await world.settle()
    assert world.slack.dms("U0ADA") == []


async def test_an_expired_token_is_refreshed_and_stored_encrypted_again(
    world: World, shift: Shift, database_url: str
) -> None:
    async with browser() as session:
        status, _ = await open_page(session, await to_callback(session, await connect_link(world)))
        assert status == 200
    first = await stored_token(world)
    assert first is not None

    shift.offset += 2 * 3600  # both clocks: the access token has expired everywhere
    assert await command(world, "claritalk status") == "", "the check itself is the answer"
    said = await world.eventually(
        lambda: [e.text for e in world.slack.ephemerals("U0ADA") if "connection works" in e.text]
    )
    assert "Ada Lovelace" in said[0]
    (grant,) = world.claritalk.calls_to("/oauth/token")[1:]
    assert b"grant_type=refresh_token" in grant.body
    second = await stored_token(world)
    assert second is not None and second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token, "Passport rotates refresh tokens"
    raw = await database_bytes(database_url)
    assert second.access_token.encode() not in raw and second.refresh_token
    assert second.refresh_token.encode() not in raw


def digests(world: World) -> list[Any]:
    return [m for m in world.slack.messages(DIGESTS) if m.bot_id]


async def test_a_processed_meeting_is_a_digest_with_its_pdf_in_the_thread(world: World) -> None:
    delivery = await world.claritalk.process_meeting("Quarterly planning")
    assert (delivery.status, delivery.response) == (200, '{"status": "accepted"}')
    assert "token=" in delivery.url, "delivered to the URL registered through the API"
    (parent,) = await world.eventually(lambda: digests(world))
    thread = await world.eventually(
        lambda: [m for m in world.slack.thread(DIGESTS, parent.ts) if m.files] or None
    )
    await world.settle()
    seen = block_text(parent)
    assert "Quarterly planning" in seen and "Send the revised Q3 budget to finance" in seen
    assert "Grace Hopper" in seen
    (file,) = thread[0].files
    assert file["name"] == "quarterly-planning-summary-report.pdf"
    content = world.slack.workspace.files[file["id"]].content or b""
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert len(world.slack.calls_of("files.completeUploadExternal")) == 1

    again = await world.claritalk.send_event("meeting.processed", delivery.json["data"])
    assert again.response == '{"status": "duplicate"}'


async def test_oversized_bodies_are_413_and_a_truncated_pdf_is_noted(world: World) -> None:
    assert world.claritalk.webhook_url is not None
    big = b'{"event":"meeting.processed","data":{"files":"' + b"A" * (30 * 1024 * 1024) + b'"}}'
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            world.claritalk.webhook_url,
            data=io.BytesIO(big),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 413

    await world.claritalk.process_meeting("Cut short", corrupt_pdf=True)
    (parent,) = await world.eventually(lambda: digests(world))
    note = await world.eventually(
        lambda: [m for m in world.slack.thread(DIGESTS, parent.ts) if "not attached" in m.text]
    )
    await world.settle()
    assert "truncated" in note[0].text
    assert "Cut short" in block_text(parent)
    assert world.slack.calls_of("files.getUploadURLExternal") == []
