"""The app wired to the Slack and Claritalk stand-ins, with a clock the test moves."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.app import Options, create_web_app
from bot.jobs import Worker
from bot.services import SERVICES, Services
from bot.store.db import transaction
from bot.store.models import Job
from handlers.claritalk import store
from handlers.claritalk.access import secret_box
from handlers.claritalk.oauth import CONFIRM_COOKIE, COOKIE
from providers.claritalk import ClaritalkUser, Token, authorize_url, exchange_code
from sandbox.claritalk import ClaritalkStandIn
from sandbox.slack import SlackStandIn
from tests.conftest import PAYLOADS, make_settings

CLARITALK = PAYLOADS / "claritalk"
WEBHOOK_SECRET = "claritalk-url-token-for-tests"
PUBLIC = "https://debrief.example.com"
CALLBACK = PUBLIC + "/claritalk/callback"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the confirmation page's form, as a browser would post them."""
    return {html.unescape(name): html.unescape(value) for name, value in _HIDDEN.findall(page)}


def cookie_header(response: ClientResponse, name: str) -> dict[str, str]:
    """The cookie ``response`` set, sent back explicitly (it is ``Secure``: the test server is
    plain HTTP)."""
    return {"Cookie": f"{name}={response.cookies[name].value}"}


def payload(name: str) -> bytes:
    return (CLARITALK / name).read_bytes()


def envelope(name: str) -> dict[str, Any]:
    return dict(json.loads(payload(f"{name}.json")))


class Clock:
    """The app's clock and the stand-in's, one reading, moved by the test."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def wall(self) -> float:
        return self.moment.timestamp()

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Rig:
    """The real app (no workers: :meth:`drain` runs due jobs) and the stand-ins it talks to."""

    slack: SlackStandIn
    claritalk: ClaritalkStandIn
    services: Services
    app: web.Application
    client: TestClient[Any, Any]
    clock: Clock

    @property
    def url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def drain(self, limit: int = 100) -> int:
        worker = Worker(self.services.queue, self.services, name="test-worker")
        ran = 0
        while ran < limit and await worker.run_one():
            ran += 1
        return ran

    async def jobs(self, kind: str) -> list[Job]:
        async with self.services.sessions() as session:
            rows = await session.execute(select(Job).where(Job.kind == kind).order_by(Job.id))
            return list(rows.scalars())

    async def enqueue(self, kind: str, payload: dict[str, Any] | None = None) -> None:
        async with transaction(self.services.sessions) as session:
            await self.services.queue.enqueue(session, kind, payload or {})

    async def deliver(self, body: bytes, token: str | None = WEBHOOK_SECRET) -> tuple[int, Any]:
        path = "/webhooks/claritalk" + (f"?token={token}" if token is not None else "")
        response = await self.client.post(
            path, data=body, headers={"Content-Type": "application/json"}
        )
        return response.status, await response.json()

    async def command(self, words: str, user: str = "U0ADA", channel: str = "C0GENERAL") -> str:
        delivery = await self.slack.command(
            self.url, "/debrief", words, user_id=user, channel_id=channel
        )
        assert delivery.status == 200, delivery.body
        return str(delivery.json["text"]) if delivery.body else ""

    async def confirm(self, path: str) -> ClientResponse:
        """Open a connect link and press *Continue* in the same browser: the 303 to Claritalk."""
        opened = await self.client.get(path, allow_redirects=False)
        assert opened.status == 200, await opened.text()
        return await self.client.post(
            "/claritalk/connect",
            data=form_fields(await opened.text()),
            headers=cookie_header(opened, CONFIRM_COOKIE),
            allow_redirects=False,
        )

    async def callback(self, continued: ClientResponse) -> ClientResponse:
        """Sign in at the stand-in's authorize page and come back to the callback."""
        assert continued.status == 303, await continued.text()
        redirected = await self.services.http.get(continued.headers["Location"])
        back = redirected.headers["Location"]
        assert back.startswith(CALLBACK), back
        return await self.client.get(
            back.removeprefix(PUBLIC),
            headers=cookie_header(continued, COOKIE),
            allow_redirects=False,
        )

    async def connect(self, user: str = "U0ADA") -> Token:
        """Connect ``user`` the way the callback does, with a token from the stand-in."""
        token = await oauth_token(self.services.http, self.claritalk, self.clock)
        who = ClaritalkUser.model_validate(self.claritalk.users[self.claritalk.approve_as].to_api())
        async with transaction(self.services.sessions) as session:
            await store.connect(
                session,
                secret_box(self.services.settings),
                team_id="T0SANDBOX",
                user_id=user,
                token=token,
                identity=who,
                now=self.clock.now(),
            )
        return token

    async def token(self, user: str = "U0ADA") -> Token | None:
        return await store.load_token(
            self.services.sessions, secret_box(self.services.settings), user
        )


async def oauth_token(http: httpx.AsyncClient, claritalk: ClaritalkStandIn, clock: Clock) -> Token:
    """Log in at the stand-in's authorize page and exchange the code, as a browser would."""
    url = authorize_url(claritalk.client_id, CALLBACK, "st", base_url=claritalk.url)
    redirected = await http.get(url)
    code = parse_qs(urlsplit(redirected.headers["Location"]).query)["code"][0]
    return await exchange_code(
        http,
        code,
        CALLBACK,
        claritalk.client_id,
        claritalk.client_secret,
        base_url=claritalk.url,
        clock=clock.wall,
    )


def claritalk_settings(claritalk: ClaritalkStandIn, **overrides: Any) -> dict[str, Any]:
    """Everything Claritalk needs, pointing at the stand-in; ``overrides`` (None unsets)."""
    values: dict[str, Any] = {
        "public_url": PUBLIC,
        "claritalk_api_url": claritalk.url,
        "claritalk_client_id": claritalk.client_id,
        "claritalk_client_secret": claritalk.client_secret,
        "claritalk_webhook_secret": WEBHOOK_SECRET,
        "encryption_keys": Fernet.generate_key().decode(),
        "digest_channel": "C0MEETINGS",
    }
    values.update(overrides)
    return values


@asynccontextmanager
async def rig(
    database_url: str,
    claritalk: ClaritalkStandIn,
    clock: Clock | None = None,
    **settings: Any,
) -> AsyncIterator[Rig]:
    """The app on ``database_url`` wired to a fresh Slack stand-in and to ``claritalk``."""
    clock = clock or Clock()
    async with contextlib.AsyncExitStack() as stack:
        slack = await stack.enter_async_context(
            SlackStandIn(signing_secret="test-signing-secret-0000")
        )
        values = claritalk_settings(claritalk, **settings)
        values.update(
            database_url=database_url,
            slack_api_url=slack.api_url,
            slack_bot_token=slack.bot_token,
        )
        app = await create_web_app(
            make_settings(**values),
            Options(workers=0, scheduler=False, migrate=True, clock=clock.now),
        )
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        stack.push_async_callback(client.close)
        yield Rig(slack, claritalk, app[SERVICES], app, client, clock)
