"""The sandbox answers only its own page: what another web page in the same browser can send
(a cross-site ``text/plain`` POST, a request through a rebinding host name, anything without the
run's token) is refused with 403 by the page's API and by the provider stand-ins' controls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.attendee import AttendeeStandIn
from sandbox.lock import TOKEN_HEADER, SandboxLock, cookie_name
from sandbox.slack import SlackStandIn
from tests.browser.fake_app import FakeApp, running_app

SECRET = "lock-signing-secret"
EVIL = "https://evil.example"
REBIND = "rebind.evil.example"
ELSEWHERE = "http://127.0.0.1:9/stolen"


@dataclass
class Sandbox:
    slack: SlackStandIn
    attendee: AttendeeStandIn
    app: FakeApp
    lock: SandboxLock


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    lock = SandboxLock()
    async with (
        running_app(SECRET) as app,
        SlackStandIn(signing_secret=SECRET, lock=lock) as slack,
        AttendeeStandIn(lock=lock) as attendee,
    ):
        assert isinstance(slack, SlackStandIn) and isinstance(attendee, AttendeeStandIn)
        slack.app_url = app.url
        slack.providers = {"attendee": attendee.url}
        attendee.configure_webhook(f"{app.url}/webhooks/attendee")
        yield Sandbox(slack, attendee, app, lock)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: aiohttp otherwise keeps no cookies for IP addresses; a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# What a browser sends for a page on another site or host name, and what each rule refuses on
# its own (the token present, everything else in order).
ATTACKS: dict[str, Any] = {
    "cross-site text/plain POST": lambda s, port: {
        "Content-Type": "text/plain;charset=UTF-8",
        "Origin": EVIL,
    },
    "rebinding host name": lambda s, port: {
        "Content-Type": "application/json",
        "Host": f"{REBIND}:{port}",
    },
    "no token": lambda s, port: {"Content-Type": "application/json"},
    "foreign Origin, with the token": lambda s, port: {
        "Content-Type": "application/json",
        "Origin": EVIL,
        **s.lock.headers(),
    },
    "opaque Origin, with the token": lambda s, port: {
        "Content-Type": "application/json",
        "Origin": "null",
        **s.lock.headers(),
    },
    "rebinding Host, with the token": lambda s, port: {
        "Content-Type": "application/json",
        "Host": f"{REBIND}:{port}",
        **s.lock.headers(),
    },
    "loopback Host on another port, with the token": lambda s, port: {
        "Content-Type": "application/json",
        "Host": f"127.0.0.1:{port + 1}",
        **s.lock.headers(),
    },
    "wrong token": lambda s, port: {"Content-Type": "application/json", TOKEN_HEADER: "guess"},
}
CHANGING_ONLY: dict[str, Any] = {
    "text/plain, with the token": lambda s, port: {
        "Content-Type": "text/plain",
        **s.lock.headers(),
    },
    "form, with the token": lambda s, port: {
        "Content-Type": "application/x-www-form-urlencoded",
        **s.lock.headers(),
    },
    "no Content-Type, with the token": lambda s, port: s.lock.headers(),
}


async def send(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: Any
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    # Without one given, no Content-Type at all (aiohttp would say application/octet-stream).
    async with http.request(
        method, url, data=data, headers=headers, skip_auto_headers=["Content-Type"]
    ) as response:
        if response.content_type == "text/event-stream":
            return response.status, b""  # an open stream: its being open is the answer
        return response.status, await response.read()


@pytest.mark.parametrize("attack", [*ATTACKS, *CHANGING_ONLY])
async def test_a_slash_command_from_another_page_is_refused(
    sandbox: Sandbox, http: aiohttp.ClientSession, attack: str
) -> None:
    slack = sandbox.slack
    headers = {**ATTACKS, **CHANGING_ONLY}[attack](sandbox, port_of(slack.url))
    body = {"user": "U0ADA", "channel": "C0GENERAL", "text": "/debrief route external: #random"}

    status, answer = await send(http, "POST", f"{slack.url}/_sandbox/command", headers, body)

    assert status == 403, answer
    assert json.loads(answer)["error"] == "forbidden"
    assert sandbox.app.received == [], "nothing reached the app"


@pytest.mark.parametrize("attack", [*ATTACKS, *CHANGING_ONLY])
@pytest.mark.parametrize("through", ["stand-in", "page proxy"])
async def test_a_stand_in_webhook_cannot_be_re_pointed_from_another_page(
    sandbox: Sandbox, http: aiohttp.ClientSession, attack: str, through: str
) -> None:
    attendee, slack = sandbox.attendee, sandbox.slack
    server = attendee.url if through == "stand-in" else slack.url
    control = "/_sandbox/" if through == "stand-in" else "/_sandbox/providers/attendee/"
    headers = {**ATTACKS, **CHANGING_ONLY}[attack](sandbox, port_of(server))
    before = [s.url for s in attendee.project_webhooks]

    status, _ = await send(
        http, "POST", f"{server}{control}attendee/webhook", headers, {"url": ELSEWHERE}
    )

    assert status == 403
    assert [s.url for s in attendee.project_webhooks] == before
    assert ELSEWHERE not in before


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize(
    "target",
    [
        "attendee:/_sandbox/attendee",  # holds the webhook secret
        "slack:/_sandbox/providers/attendee/attendee",
        "slack:/_sandbox/ui/state",
        "slack:/_sandbox/state",
        "slack:/_sandbox/config",
        "slack:/_sandbox/stream",
        "slack:/",
    ],
)
async def test_nothing_is_read_from_another_page(
    sandbox: Sandbox, http: aiohttp.ClientSession, attack: str, target: str
) -> None:
    server, path = target.split(":", 1)
    base = sandbox.attendee.url if server == "attendee" else sandbox.slack.url
    headers = ATTACKS[attack](sandbox, port_of(base))
    del headers["Content-Type"]

    status, answer = await send(http, "GET", f"{base}{path}", headers, None)

    assert status == 403
    assert sandbox.attendee.webhook_secret.encode() not in answer


async def test_the_page_opened_with_the_printed_url_works(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    slack, attendee = sandbox.slack, sandbox.attendee
    origin = {"Origin": slack.url}

    async with http.get(slack.page_url) as page:
        assert page.status == 200 and page.content_type == "text/html"
        cookie = page.cookies[cookie_name(port_of(slack.url))]
    assert cookie.value == sandbox.lock.token
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    # From now on only the cookie, as the page's scripts (which cannot read it) send it.
    async with http.get(f"{slack.url}/_sandbox/config") as config:
        assert config.status == 200
        assert (await config.json())["providers"] == {"attendee": attendee.url}
    async with http.get(f"{slack.url}/_sandbox/stream?after=0") as stream:
        assert stream.status == 200 and stream.content_type == "text/event-stream"
    async with http.post(
        f"{slack.url}/_sandbox/command", json={"text": "/debrief help"}, headers=origin
    ) as command:
        assert command.status == 200 and (await command.json())["ok"]
    assert [r["command"] for r in sandbox.app.received] == ["/debrief"]
    # The Providers panel reaches the stand-in's controls through the page's proxy.
    async with http.get(f"{slack.url}/_sandbox/providers/attendee/attendee") as state:
        assert state.status == 200
        assert (await state.json())["webhook_secret"] == attendee.webhook_secret
    async with http.post(
        f"{slack.url}/_sandbox/providers/attendee/attendee/webhook",
        json={"url": f"{sandbox.app.url}/webhooks/attendee"},
        headers=origin,
    ) as hook:
        assert hook.status == 200


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
async def test_every_loopback_name_of_the_printed_port_is_the_page(
    sandbox: Sandbox, http: aiohttp.ClientSession, name: str
) -> None:
    port = port_of(sandbox.slack.url)
    headers = {
        "Host": f"{name}:{port}",
        "Origin": f"http://{name}:{port}",
        **sandbox.lock.headers(),
    }

    async with http.post(
        f"{sandbox.slack.url}/_sandbox/say",
        json={"channel": "C0GENERAL", "text": "hello"},
        headers=headers,
    ) as response:
        assert response.status == 200


async def test_the_app_still_reaches_the_provider_apis_with_their_keys(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    attendee = sandbox.attendee
    key = {"Authorization": f"Token {attendee.api_key}"}

    async with http.get(f"{attendee.url}/api/v1/bots", headers=key) as listed:
        assert listed.status == 200
    rebound = {**key, "Host": f"{REBIND}:{port_of(attendee.url)}"}
    async with http.get(f"{attendee.url}/api/v1/bots", headers=rebound) as refused:
        assert refused.status == 403
