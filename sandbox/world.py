"""The real app wired to local stand-ins of Slack and the providers, on loopback.

``debrief sandbox`` and the end-to-end tests both run this: the same ``create_web_app`` as
``debrief serve``, configured with generated secrets to talk to the stand-ins, which in turn
deliver their signed webhooks to the app.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from bot.app import Options, create_web_app
from bot.config import Settings
from bot.crypto import SecretBox
from bot.jobs import QueueConfig
from bot.plugins import AnyProvider, installed
from bot.services import SERVICES, Services
from bot.store.models import utcnow
from sandbox.attendee import AttendeePlugin, AttendeeStandIn
from sandbox.claritalk import ClaritalkPlugin, ClaritalkStandIn
from sandbox.llm import LLMStandIn
from sandbox.lock import SandboxLock
from sandbox.oauth import OAuthStandIn
from sandbox.otter import OtterPlugin, OtterStandIn
from sandbox.plugin import AnyPlugin, RunningApp, Setup, installed_stand_ins
from sandbox.server import StandIn
from sandbox.slack import SlackStandIn
from sandbox.whereby import WherebyPlugin, WherebyStandIn

T = TypeVar("T", bound=StandIn)


@dataclass
class WorldOptions:
    """How the world is set up; tests shrink the delays."""

    database_url: str
    workers: int = 2
    scheduler: bool = True
    host: str = "127.0.0.1"
    app_port: int = 0
    slack_port: int = 0
    #: Keyword arguments of each provider's stand-in, by its name (``{"otter": {"seed":
    #: False}}``); ``delay`` (seconds it waits before answering anything) goes to any of them.
    stand_ins: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The providers whose stand-ins run (those whose descriptor names one); the registry's
    #: when None.
    providers: Sequence[AnyProvider] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    #: Understand meetings with the model engine, asking the stand-in model server (the
    #: ``DEBRIEF_LLM_*`` settings point at it); otherwise the embedded engine, Debrief's default.
    model: bool = False
    queue: QueueConfig | None = None
    clock: Callable[[], datetime] = utcnow
    settings_class: type[Settings] = Settings


class World:
    """Stand-ins plus the app; ``async with World(options) as world: …``.

    The provider stand-ins are the installed providers' own (``Provider.stand_in``, a
    :class:`~sandbox.plugin.StandInPlugin`), in the registry's order: the World starts each,
    gives the app the settings each names, lets each connect to the started app, settles and
    stops them, and knows none by name. A piece of its own (the Slack stand-in, an OAuth
    server) is started in :meth:`start` before the stand-ins and stopped after them.
    """

    def __init__(self, options: WorldOptions) -> None:
        self.options = options
        # One token for the run: the page's proxy passes it on to the provider stand-ins.
        self.lock = SandboxLock().with_hosts([options.host])
        self.slack = SlackStandIn(
            signing_secret=secrets.token_hex(16),
            bot_token="xoxb-sandbox-" + secrets.token_hex(12),
            lock=self.lock,
        )
        self.providers = tuple(installed() if options.providers is None else options.providers)
        setup = Setup(lock=self.lock, model=options.model)
        #: The running provider stand-ins, by name, in the registry's order.
        self.stand_ins: dict[str, AnyPlugin] = {}
        for name, plugin_class in installed_stand_ins(self.providers).items():
            kwargs = dict(options.stand_ins.get(name, {}))
            delay = float(kwargs.pop("delay", 0.0))
            plugin = plugin_class.create(setup, **kwargs)
            plugin.server.delay = delay
            self.stand_ins[name] = plugin
        self.encryption_key = SecretBox.generate_key()
        self._app_port = options.app_port
        self._runner: web.AppRunner | None = None
        self.app_url = ""
        self.app: web.Application | None = None

    def stand_in(self, name: str, kind: type[T] | None = None) -> T:
        """The stand-in server of the provider ``name`` (checked to be a ``kind``, if given).

        Raises:
            KeyError: no such stand-in runs in this world.
        """
        server = self.stand_ins[name].server
        assert kind is None or isinstance(server, kind), f"{name} is {type(server).__name__}"
        return server

    # --- the registry's stand-ins by name, for the tests ---------------------------------

    @property
    def attendee(self) -> AttendeeStandIn:
        return self.stand_in("attendee", AttendeeStandIn)

    @property
    def oauth(self) -> OAuthStandIn:
        """Google's and Microsoft's OAuth, which Attendee's stand-in brings (calendars)."""
        plugin = self.stand_ins["attendee"]
        assert isinstance(plugin, AttendeePlugin)
        return plugin.oauth

    @property
    def otter(self) -> OtterStandIn:
        return self.stand_in("otter", OtterStandIn)

    @property
    def otter_webhook_secret(self) -> str:
        plugin = self.stand_ins["otter"]
        assert isinstance(plugin, OtterPlugin)
        return plugin.webhook_secret

    @property
    def whereby(self) -> WherebyStandIn:
        return self.stand_in("whereby", WherebyStandIn)

    @property
    def whereby_api_key(self) -> str:
        plugin = self.stand_ins["whereby"]
        assert isinstance(plugin, WherebyPlugin)
        return plugin.api_key

    @property
    def whereby_webhook_secret(self) -> str:
        plugin = self.stand_ins["whereby"]
        assert isinstance(plugin, WherebyPlugin)
        return plugin.webhook_secret

    @property
    def claritalk(self) -> ClaritalkStandIn:
        return self.stand_in("claritalk", ClaritalkStandIn)

    @property
    def claritalk_webhook_secret(self) -> str:
        plugin = self.stand_ins["claritalk"]
        assert isinstance(plugin, ClaritalkPlugin)
        return plugin.webhook_secret

    @property
    def llm(self) -> LLMStandIn:
        return self.stand_in("llm", LLMStandIn)

    # --- life cycle -----------------------------------------------------------------------

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
            # Known before the app starts: OAuth callbacks are registered under it.
            "public_url": f"http://{self.options.host}:{self.app_port()}",
            "encryption_keys": self.encryption_key,
            "workers": self.options.workers,
            "run_scheduler": self.options.scheduler,
            # The stand-ins pace nothing by default; a sandbox should feel instant.
            "slack_channel_interval": 0.0,
        }
        for plugin in self.stand_ins.values():
            values |= plugin.settings()
        values.update(self.options.settings)
        return self.options.settings_class(self.options.providers, **values)

    async def start(self) -> World:
        await self.slack.start(self.options.host, self.options.slack_port)
        for plugin in self.stand_ins.values():
            await plugin.start(self.options.host)
        await self._start_app()
        # The sandbox page (served by the Slack stand-in) sends commands and clicks to the app
        # and drives whichever provider stand-ins this world runs.
        self.slack.app_url = self.app_url
        self.slack.providers = self.provider_urls()
        self.slack.panels = self.panels()
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
        running = RunningApp(self.app_url, settings, self.services)
        for plugin in self.stand_ins.values():
            await plugin.connect(running)

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
        return {name: plugin.url for name, plugin in self.stand_ins.items() if plugin.url}

    def panels(self) -> dict[str, dict[str, str]]:
        """Each running stand-in's section of the page's Providers panel, by name."""
        return {
            name: {"title": section.title, "state": section.state}
            for name, plugin in self.stand_ins.items()
            for section in (plugin.page(),)
        }

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # The last started stops first; one that never started stops at once.
        for plugin in reversed(self.stand_ins.values()):
            await plugin.stop()
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
                for plugin in self.stand_ins.values():
                    await plugin.settle(within)
                stats = await self.services.queue.stats()
                if not stats.get("queued") and not stats.get("running"):
                    return
                await asyncio.sleep(0.05)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
