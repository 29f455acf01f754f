"""Connecting a calendar end to end, over real loopback HTTP: the command's link, Debrief's
confirmation page, the Google/Microsoft OAuth stand-in's consent screen and token endpoint, and
an Attendee that takes ``POST /calendars`` (a small server here, answering as the recorded real
one does: ``tests/payloads/attendee/calendar/api/``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.errors import UserFacingError
from bot.store.models import Base
from handlers.calendar.consent import connect, deduplication_key
from handlers.calendar.tables import CalendarLink
from handlers.oauth.tables import OAuthState
from handlers.wiring import CommandContext
from providers.attendee import AttendeeClient
from sandbox.world import World
from tests.conftest import PAYLOADS
from tests.e2e.conftest import world_options
from tests.handlers.claritalk.support import form_fields

RECORDED = PAYLOADS / "attendee" / "calendar" / "api"
USER = "U0ADA"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text())


class AttendeeCalendars:
    """Attendee's ``/api/v1/calendars`` as the recorded real server answers it: a
    ``deduplication_key`` is unique per project (400 with the recorded body), unknown fields are
    refused, and PATCH takes only ``client_secret``, ``refresh_token`` and ``metadata``."""

    CREATE_FIELDS = frozenset(
        {
            "platform",
            "client_id",
            "client_secret",
            "refresh_token",
            "deduplication_key",
            "metadata",
            "platform_uuid",
        }
    )
    PATCH_FIELDS = frozenset({"client_secret", "refresh_token", "metadata"})

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.calendars: dict[str, dict[str, Any]] = {}
        #: Secrets as Attendee keeps them (the API never answers them).
        self.credentials: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.fail_with: int | None = None
        app = web.Application()
        app.router.add_post("/api/v1/calendars", self._create)
        app.router.add_get("/api/v1/calendars", self._list)
        app.router.add_patch("/api/v1/calendars/{id}", self._patch)
        self.runner = web.AppRunner(app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _guard(self, request: web.Request) -> web.Response | None:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path_qs, body))
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return web.json_response(recorded("calendar_create_err_no_auth"), status=401)
        if self.fail_with is not None:
            return web.json_response({"detail": "injected"}, status=self.fail_with)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        body = self.requests[-1][2]
        unknown = set(body) - self.CREATE_FIELDS
        if unknown:
            return web.json_response({"non_field_errors": [f"Unknown: {unknown}"]}, status=400)
        key = body.get("deduplication_key")
        if key and any(c["deduplication_key"] == key for c in self.calendars.values()):
            return web.json_response(
                recorded("calendar_create_err_duplicate_dedup_key"), status=400
            )
        calendar = dict(recorded("calendar_create_google"))
        calendar_id = "cal_" + secrets.token_hex(8)
        calendar |= {
            "id": calendar_id,
            "platform": body["platform"],
            "client_id": body["client_id"],
            "metadata": body.get("metadata"),
            "deduplication_key": key,
        }
        self.calendars[calendar_id] = calendar
        self.credentials[calendar_id] = {
            "client_secret": body["client_secret"],
            "refresh_token": body["refresh_token"],
        }
        return web.json_response(calendar, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        key = request.query.get("deduplication_key")
        found = [c for c in self.calendars.values() if key is None or c["deduplication_key"] == key]
        return web.json_response({"next": None, "previous": None, "results": found})

    async def _patch(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        body = self.requests[-1][2]
        calendar = self.calendars.get(request.match_info["id"])
        if calendar is None:
            return web.json_response(recorded("calendar_patch_err_not_found"), status=404)
        if set(body) - self.PATCH_FIELDS:
            return web.json_response(recorded("calendar_patch_err_unknown_field"), status=400)
        if "metadata" in body:
            calendar["metadata"] = body["metadata"]
        for name in ("client_secret", "refresh_token"):
            if name in body:
                self.credentials[calendar["id"]][name] = body[name]
        return web.json_response(calendar)

    def posted(self, method: str) -> list[Any]:
        return [body for m, _, body in self.requests if m == method]


@pytest.fixture
async def attendee_calendars() -> AsyncIterator[AttendeeCalendars]:
    server = AttendeeCalendars(api_key="attendee-key-for-tests")
    await server.start()
    yield server
    await server.runner.cleanup()


@pytest.fixture
async def world(database_url: str, attendee_calendars: AttendeeCalendars) -> AsyncIterator[World]:
    # Attendee's calendar API is this test's server (the stand-in has no calendars yet).
    settings = {
        "attendee_api_url": attendee_calendars.url,
        "attendee_api_key": attendee_calendars.api_key,
    }
    async with World(world_options(database_url, settings=settings)) as started:
        yield started


def context(world: World, args: str, user: str = USER, **services: Any) -> CommandContext:
    return CommandContext(
        services=dataclasses.replace(world.services, **services),
        client=world.services.slack.client,
        args=args,
        team_id=world.slack.workspace.team.id,
        channel_id="C0GENERAL",
        user_id=user,
        response_url="",
        trigger_id="",
        body={},
    )


async def link_for(world: World, platform: str, user: str = USER) -> str:
    answer = await connect(context(world, f"connect {platform}", user))
    assert isinstance(answer, dict)
    match = re.search(r"<(http[^|>]+)\|Connect your \w+ calendar>", answer["text"])
    assert match, answer
    assert "works for 15 minutes, once" in answer["text"]
    return html.unescape(match.group(1))


def browser() -> aiohttp.ClientSession:
    # unsafe: keep cookies for 127.0.0.1, which the default jar refuses for bare IP hosts.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def to_consent(session: aiohttp.ClientSession, link: str) -> tuple[str, str]:
    """Follow the link and continue on Debrief's page: (the platform's authorize URL, its
    consent screen)."""
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
        assert response.status == 200, await response.text()
        return authorize, await response.text()


async def decide(session: aiohttp.ClientSession, authorize: str, screen: str, choice: str) -> str:
    """Click *Allow* or *Cancel* on the consent screen: the callback URL it redirects to."""
    async with session.post(
        authorize.split("?")[0],
        data={**form_fields(screen), "decision": choice},
        allow_redirects=False,
    ) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


async def open_page(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, allow_redirects=False) as response:
        return response.status, html.unescape(await response.text())


async def connect_in_browser(world: World, platform: str, user: str = USER) -> tuple[int, str]:
    async with browser() as session:
        authorize, screen = await to_consent(session, await link_for(world, platform, user))
        return await open_page(session, await decide(session, authorize, screen, "allow"))


async def everything_stored(world: World) -> str:
    """Every row of every table, as text (on either database)."""
    rows: list[str] = []
    async with world.services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows += [f"{table.name}: {tuple(row)}" for row in await session.execute(select(table))]
    return "\n".join(rows)


async def links(world: World) -> list[CalendarLink]:
    async with world.services.sessions() as session:
        return list((await session.execute(select(CalendarLink))).scalars())


@pytest.mark.parametrize("platform", ["google", "microsoft"])
async def test_a_consent_hands_the_refresh_token_to_attendee_and_the_owner_is_told(
    world: World,
    attendee_calendars: AttendeeCalendars,
    platform: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    team = world.slack.workspace.team.id
    async with browser() as session:
        authorize, screen = await to_consent(session, await link_for(world, platform))
        asked = parse_qs(urlsplit(authorize).query)
        assert asked["redirect_uri"] == [f"{world.app_url}/oauth/calendar/callback"]
        if platform == "google":
            assert asked["scope"] == ["https://www.googleapis.com/auth/calendar.readonly"]
            assert asked["access_type"] == ["offline"] and asked["prompt"] == ["consent"]
        else:
            assert asked["scope"] == ["offline_access Calendars.Read"]
        assert "Ada Lovelace" in screen and "Allow" in screen
        callback = await decide(session, authorize, screen, "allow")
        status, page = await open_page(session, callback)
        assert status == 200, page
        assert "is connected" in page and "Ada Lovelace" in page

        # The same callback again (a reload, or someone who saw the URL): the state is spent.
        status, page = await open_page(session, callback)
        assert status == 400 and "already used" in page

    (issued,) = world.oauth.issued
    client = world.oauth.clients[platform]
    (created,) = attendee_calendars.posted("POST")
    assert created == {
        "platform": platform,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "refresh_token": issued.refresh_token,
        "deduplication_key": deduplication_key(team, USER, platform),
        "metadata": {"slack_team_id": team, "slack_user_id": USER},
    }
    (row,) = await links(world)
    (calendar_id,) = attendee_calendars.calendars
    assert (row.calendar_id, row.user_id, row.team_id) == (calendar_id, USER, team)
    assert (row.platform, row.state) == (platform, "connected")

    (dm,) = await world.eventually(lambda: world.slack.dms(USER))
    assert "calendar is connected" in dm.text
    await world.settle()
    assert issued.refresh_token not in caplog.text, "the refresh token reached a log"
    stored = await everything_stored(world)
    assert calendar_id in stored, "the dump does hold the calendar"
    assert issued.refresh_token not in stored, "Debrief stored the refresh token"
    assert client.client_secret not in stored


async def test_connecting_again_gives_the_same_calendar_the_new_token(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    for _ in range(2):
        status, page = await connect_in_browser(world, "google")
        assert status == 200, page

    first, second = world.oauth.issued
    assert first.refresh_token != second.refresh_token
    (only,) = attendee_calendars.calendars  # one calendar, not two
    assert attendee_calendars.credentials[only]["refresh_token"] == second.refresh_token
    (patch,) = attendee_calendars.posted("PATCH")
    assert patch["refresh_token"] == second.refresh_token
    assert patch["metadata"]["slack_user_id"] == USER
    assert [m for m, _, _ in attendee_calendars.requests] == ["POST", "POST", "GET", "PATCH"]
    (row,) = await links(world)
    assert row.calendar_id == only


async def test_another_persons_connection_is_another_calendar(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    assert (await connect_in_browser(world, "google"))[0] == 200
    assert (await connect_in_browser(world, "google", user="U0GRACE"))[0] == 200
    assert (await connect_in_browser(world, "microsoft"))[0] == 200
    owners = sorted(
        (c["metadata"]["slack_user_id"], c["platform"])
        for c in attendee_calendars.calendars.values()
    )
    assert owners == [("U0ADA", "google"), ("U0ADA", "microsoft"), ("U0GRACE", "google")]
    assert len(await links(world)) == 3


async def test_the_state_is_single_use_bound_to_its_browser_and_links_to_their_platform(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    link = await link_for(world, "google")
    async with browser() as session:
        authorize, screen = await to_consent(session, link)
        callback = await decide(session, authorize, screen, "allow")
    async with browser() as other:  # the right state, but not the browser that started it
        status, page = await open_page(other, callback)
        assert status == 400 and "another browser" in page
    async with browser() as session:
        forged = re.sub(r"state=[^&]+", "state=forged-by-someone", callback)
        status, page = await open_page(session, forged)
        assert status == 400 and "did not come from Debrief" in page
        assert "Your calendar was not connected" in page
        assert "/debrief calendar connect google|microsoft" in page
        # The link was spent by the first browser: it starts nothing else.
        status, page = await open_page(session, link)
        assert status == 410 and "already used" in page
        # A Google link does not open the Microsoft connection, nor a tampered one anything.
        fresh = await link_for(world, "google")
        status, page = await open_page(session, fresh.replace("/google?", "/microsoft?"))
        assert status == 403 and "signature" in page
        status, page = await open_page(session, fresh[:-3] + "abc")
        assert status == 403 and "signature" in page
    assert world.oauth.calls_to("/google/token") == [], "no code was exchanged"
    assert attendee_calendars.requests == [] and await links(world) == []
    async with world.services.sessions() as session:
        (state,) = (await session.execute(select(OAuthState))).scalars()
    assert (state.provider, state.slack_user_id) == ("calendar.google", USER)


async def test_a_wrong_code_is_refused_and_nothing_is_connected(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    async with browser() as session:
        authorize, screen = await to_consent(session, await link_for(world, "microsoft"))
        callback = await decide(session, authorize, screen, "allow")
        wrong = re.sub(r"code=[^&]+", "code=not-the-code", callback)
        status, page = await open_page(session, wrong)
    assert status == 400, page
    assert "Outlook Calendar was not connected" in page and "invalid_grant" in page
    assert "Nothing was connected" in page and "/debrief calendar connect microsoft" in page
    (exchange,) = world.oauth.calls_to("/microsoft/token")
    assert exchange.status == 400
    assert world.oauth.issued == [] and attendee_calendars.requests == []
    assert await links(world) == []


async def test_a_refused_consent_connects_nothing(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    async with browser() as session:
        authorize, screen = await to_consent(session, await link_for(world, "google"))
        callback = await decide(session, authorize, screen, "cancel")
        assert "error=access_denied" in callback
        status, page = await open_page(session, callback)
    assert status == 400 and "Google answered: access_denied" in page
    assert "Nothing was connected" in page
    assert world.oauth.calls_to("/google/token") == [] and attendee_calendars.requests == []
    await world.settle()
    assert world.slack.dms(USER) == []


async def test_attendee_unavailable_says_so_and_connects_nothing(
    world: World, attendee_calendars: AttendeeCalendars
) -> None:
    attendee_calendars.fail_with = 503
    status, page = await connect_in_browser(world, "google")
    assert status == 502 and "could not be reached" in page and "Nothing was connected" in page
    assert await links(world) == []
    await world.settle()
    assert world.slack.dms(USER) == []


async def test_the_command_answers_a_typo_a_missing_client_and_a_missing_attendee(
    world: World,
) -> None:
    for typo in ("connect outlook", "connect", "connect google microsoft"):
        with pytest.raises(UserFacingError, match=r"Usage: `/debrief calendar connect google"):
            await connect(context(world, typo))

    world.options.settings |= {
        "DEBRIEF_MICROSOFT_CLIENT_ID": None,
        "DEBRIEF_MICROSOFT_CLIENT_SECRET": None,
    }
    unconfigured = world.settings()
    with pytest.raises(UserFacingError) as refused:
        await connect(context(world, "connect microsoft", settings=unconfigured))
    said = str(refused.value)
    assert "Microsoft calendars cannot be connected" in said
    assert "client id and client secret" in said
    assert "google" in (await connect(context(world, "connect google")))["text"]  # type: ignore[index]

    without = {k: v for k, v in world.services.clients.items() if k is not AttendeeClient}
    with pytest.raises(UserFacingError, match="Attendee is not set up"):
        await connect(context(world, "connect google", clients=without))
