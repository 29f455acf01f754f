"""The real app wired to local stand-ins of Slack and the providers, on loopback.

``debrief sandbox`` and the end-to-end tests both run this: the same ``create_web_app`` as
``debrief serve``, configured with generated secrets to talk to the stand-ins, which in turn
deliver their signed webhooks to the app.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Options, create_web_app
from bot.config import Settings
from bot.crypto import SecretBox
from bot.jobs import QueueConfig
from bot.services import SERVICES, Services
from bot.store.models import utcnow
from handlers.calendar.consent import CALLBACK_PATH as CALENDAR_CB
from handlers.claritalk import CALLBACK_PATH, register_webhook
from handlers.claritalk.settings import claritalk_settings
from providers.claritalk import ClaritalkClient
from sandbox.attendee import AttendeeStandIn
from sandbox.claritalk import ClaritalkStandIn
from sandbox.llm import LLMStandIn
from sandbox.lock import SandboxLock
from sandbox.oauth import OAuthStandIn
from sandbox.otter import OtterStandIn
from sandbox.slack import SlackStandIn
from sandbox.whereby import WherebyStandIn

#: Attributes of a World that may hold a provider stand-in, in the order the page lists them.
PROVIDER_STAND_INS = ("attendee", "otter", "whereby", "claritalk", "llm")


@dataclass
class WorldOptions:
    """How the world is set up; tests shrink the delays."""

    database_url: str
    workers: int = 2
    scheduler: bool = True
    host: str = "127.0.0.1"
    app_port: int = 0
    slack_port: int = 0
    attendee_delay: float = 0.0
    attendee: dict[str, Any] = field(default_factory=dict)
    #: Keyword arguments of the Otter stand-in (``seed``, ``requests_per_second`` …).
    otter: dict[str, Any] = field(default_factory=dict)
    #: Keyword arguments of the Whereby stand-in (``points``, ``window``, ``window_mode`` …).
    whereby: dict[str, Any] = field(default_factory=dict)
    #: Keyword arguments of the Claritalk stand-in (``clock``, ``access_token_ttl`` …).
    claritalk: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    #: Understand meetings with the model engine, asking the stand-in model server (the
    #: ``DEBRIEF_LLM_*`` settings point at it); otherwise the embedded engine, Debrief's default.
    model: bool = False
    queue: QueueConfig | None = None
    clock: Callable[[], datetime] = utcnow
    settings_class: type[Settings] = Settings


class World:
    """Stand-ins plus the app; ``async with World(options) as world: …``."""

    def __init__(self, options: WorldOptions) -> None:
        self.options = options
        # One token for the run: the page's proxy passes it on to the provider stand-ins.
        self.lock = SandboxLock().with_hosts([options.host])
        self.slack = SlackStandIn(
            signing_secret=secrets.token_hex(16),
            bot_token="xoxb-sandbox-" + secrets.token_hex(12),
            lock=self.lock,
        )
        self.attendee = AttendeeStandIn(
            api_key="sandbox-attendee-" + secrets.token_hex(8), lock=self.lock, **options.attendee
        )
        self.attendee.delay = options.attendee_delay
        self.otter = OtterStandIn(
            api_key="sandbox-otter-" + secrets.token_hex(8), lock=self.lock, **options.otter
        )
        self.otter_webhook_secret = secrets.token_hex(16)
        self.whereby_api_key = "sandbox-whereby-" + secrets.token_hex(8)
        self.whereby = WherebyStandIn(
            api_keys=(self.whereby_api_key,), lock=self.lock, **options.whereby
        )
        self.whereby_webhook_secret = secrets.token_hex(16)
        # Claritalk: Debrief's OAuth client (also usable as a service account), an admin's
        # Personal Access Token, the webhook URL token, and a key to encrypt users' tokens with.
        claritalk_client = ("debrief-" + secrets.token_hex(6), secrets.token_hex(20))
        self.claritalk_pat = "ctk-pat-sandbox-" + secrets.token_hex(12)
        self.claritalk = ClaritalkStandIn(
            **{
                "client_id": claritalk_client[0],
                "client_secret": claritalk_client[1],
                "service_accounts": dict([claritalk_client]),
                "personal_access_tokens": {self.claritalk_pat: "ada@example.com"},
                "lock": self.lock,
                **options.claritalk,
            }
        )
        self.claritalk_webhook_secret = secrets.token_urlsafe(24)
        # The model engine's endpoint: answers from the transcript, no weights.
        self.llm = LLMStandIn(api_key="sk-sandbox-" + secrets.token_hex(12), lock=self.lock)
        # Google's and Microsoft's OAuth, for connecting calendars (Attendee syncs them).
        self.oauth = OAuthStandIn(lock=self.lock)
        self.encryption_key = SecretBox.generate_key()
        self._app_port = options.app_port
        self._runner: web.AppRunner | None = None
        self.app_url = ""
        self.app: web.Application | None = None

    @property
    def services(self) -> Services:
        assert self.app is not None, "the world is not started"
        return self.app[SERVICES]

    def settings(self) -> Settings:
        """Settings pointing the app at the stand-ins (valid once they are started)."""
        values: dict[str, Any] = {
            "database_url": self.options.database_url,
            "slack_bot_token": self.slack.bot_token,
            "slack_signing_secret": self.slack.signing_secret,
            "slack_api_url": self.slack.api_url,
            "digest_channel": "C0MEETINGS",
            "ops_channel": "C0GENERAL",
            "attendee_api_key": self.attendee.api_key,
            "attendee_api_url": self.attendee.url,
            "attendee_webhook_secret": self.attendee.webhook_secret,
            "otter_api_key": self.otter.api_key,
            "otter_api_url": self.otter.api_url,
            "otter_webhook_secret": self.otter_webhook_secret,
            "whereby_api_key": self.whereby_api_key,
            "whereby_api_url": self.whereby.api_url,
            "whereby_webhook_secret": self.whereby_webhook_secret,
            "whereby_points_per_minute": self.whereby.budget.points,
            # Known before the app starts: Claritalk's OAuth callback is registered under it.
            "public_url": f"http://{self.options.host}:{self.app_port()}",
            "claritalk_api_url": self.claritalk.url,
            "claritalk_client_id": self.claritalk.client_id,
            "claritalk_client_secret": self.claritalk.client_secret,
            "claritalk_token": self.claritalk_pat,
            "claritalk_webhook_secret": self.claritalk_webhook_secret,
            "encryption_keys": self.encryption_key,
            "workers": self.options.workers,
            "run_scheduler": self.options.scheduler,
            # The stand-ins pace nothing by default; a sandbox should feel instant.
            "slack_channel_interval": 0.0,
        }
        if self.options.model:
            # The model engine's endpoint (its own settings section, by environment name).
            values |= {
                "DEBRIEF_LLM_URL": self.llm.api_url,
                "DEBRIEF_LLM_MODEL": self.llm.model,
                "DEBRIEF_LLM_API_KEY": self.llm.api_key,
            }
        values |= self.oauth.settings()
        values.update(self.options.settings)
        return self.options.settings_class(**values)

    async def start(self) -> World:
        await self.slack.start(self.options.host, self.options.slack_port)
        await self.attendee.start(self.options.host)
        await self.otter.start(self.options.host)
        await self.whereby.start(self.options.host)
        await self.claritalk.start(self.options.host)
        await self.llm.start(self.options.host)
        await self.oauth.start(self.options.host)
        self.oauth.register_redirect(f"http://{self.options.host}:{self.app_port()}{CALENDAR_CB}")
        await self._start_app()
        # The sandbox page (served by the Slack stand-in) sends commands and clicks to the app
        # and drives whichever provider stand-ins this world runs.
        self.slack.app_url = self.app_url
        self.slack.providers = self.provider_urls()
        return self

    async def _start_app(self) -> None:
        settings = self.settings()
        self.app = await create_web_app(
            settings,
            Options(queue=self.options.queue, clock=self.options.clock, migrate=True),
        )
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.app_port())
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.app_url = f"http://{self.options.host}:{port}"
        self.attendee.configure_webhook(f"{self.app_url}/webhooks/attendee")
        otter_secret = settings.secret("otter_webhook_secret")
        if otter_secret:
            # An Otter admin would pick one scheme; HMAC is the one that proves the body.
            self.otter.configure_webhook(f"{self.app_url}/webhooks/otter", hmac_secret=otter_secret)
        else:
            self.otter.webhook = None  # a plan without webhooks: Debrief polls
        self.whereby.configure_webhook(
            f"{self.app_url}/webhooks/whereby", settings.secret("whereby_webhook_secret") or ""
        )
        await self._connect_claritalk(settings)

    async def _connect_claritalk(self, settings: Settings) -> None:
        """Register the OAuth callback, and the webhook as an operator would (through the API)."""
        if settings.public_url:
            self.claritalk.redirect_uris.add(settings.public_url.rstrip("/") + CALLBACK_PATH)
        client = self.services.clients[ClaritalkClient]
        if (
            client is not None
            and settings.public_url
            and claritalk_settings(settings).claritalk_webhook_secret
        ):
            await register_webhook(client, settings)

    def app_port(self) -> int:
        """The app's port, chosen once (PUBLIC_URL must name it before the app starts); a
        restart keeps it."""
        if not self._app_port:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((self.options.host, 0))
                self._app_port = int(probe.getsockname()[1])
        return self._app_port

    async def restart_app(self) -> None:
        """Stop the app and start a new one on the same database: a process restart."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._start_app()
        self.slack.app_url = self.app_url

    def provider_urls(self) -> dict[str, str]:
        """The running provider stand-ins' base URLs by name (for the Providers panel)."""
        found: dict[str, str] = {}
        for name in PROVIDER_STAND_INS:
            url = getattr(getattr(self, name, None), "url", None)
            if isinstance(url, str) and url:
                found[name] = url
        return found

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.whereby.stop()
        await self.claritalk.stop()
        await self.llm.stop()
        await self.oauth.stop()
        await self.otter.stop()
        await self.attendee.stop()
        await self.slack.stop()

    async def __aenter__(self) -> World:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def eventually(
        self, check: Callable[[], Any], within: float = 10.0, interval: float = 0.05
    ) -> Any:
        """Wait until ``check()`` returns something truthy, and return it."""
        async with asyncio.timeout(within):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return result
                await asyncio.sleep(interval)

    async def settle(self, within: float = 10.0) -> None:
        """Wait until the stand-ins have delivered everything and no job is queued or running."""
        async with asyncio.timeout(within):
            while True:
                await self.attendee.settle(within)
                await self.whereby.settle()
                stats = await self.services.queue.stats()
                if not stats.get("queued") and not stats.get("running"):
                    return
                await asyncio.sleep(0.05)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
