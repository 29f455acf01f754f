"""What every local stand-in shares: a real aiohttp server on an ephemeral loopback port that
records each request it answers and can be told to fail, slow down or throttle on demand, and
(for a provider's stand-in) its outgoing webhooks (:mod:`sandbox.delivery`), started and stopped
with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.delivery import Deliveries
from sandbox.lock import SandboxLock

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedCall:
    """One request a stand-in received, with its decoded body."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """An injected failure: answer ``status`` (or drop the connection) ``times`` times.

    With ``status`` None the request is only held for ``delay`` and then answered as usual.
    """

    path: re.Pattern[str]
    status: int | None = 500
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    drop: bool = False


class StandIn:
    """Base of the Slack and provider stand-ins; subclasses add routes in :meth:`setup_routes`.

    ``lock`` keeps web pages other than the sandbox's own off the server (:mod:`sandbox.lock`);
    a World shares one among its stand-ins, a stand-in on its own makes one.
    """

    name = "stand-in"
    #: The webhooks a provider's stand-in sends to the app (None: it sends none).
    outbox: Deliveries | None = None

    def __init__(self, *, lock: SandboxLock | None = None) -> None:
        self.calls: list[RecordedCall] = []
        self.faults: list[Fault] = []
        self.delay = 0.0
        self.lock = lock or SandboxLock()
        # The lock comes first: a refused request is neither recorded nor given a fault.
        self.app = web.Application(
            middlewares=[self.lock.middleware(), self._middleware],
            client_max_size=64 * 1024**2,
        )
        self.setup_routes(self.app.router)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        """Add the stand-in's routes."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host``; port 0 picks a free one. Returns the base URL."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        bound_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://{host}:{bound_port}"
        if self.outbox is not None:
            await self.outbox.start()
        return self.url

    async def stop(self) -> None:
        if self.outbox is not None:
            await self.outbox.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail(
        self,
        path: str = ".*",
        *,
        status: int = 500,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        """Make the next ``times`` requests whose path matches the regex ``path`` fail."""
        self.faults.append(Fault(re.compile(path), status, times, headers or {}, body, delay, drop))

    def slow(self, path: str = ".*", delay: float = 0.5, *, times: int = 1) -> None:
        """Hold the next ``times`` requests matching ``path`` for ``delay`` s, then answer them."""
        self.faults.append(Fault(re.compile(path), None, times, delay=delay))

    def calls_to(self, path: str, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls whose path ends with ``path`` (and with ``method``, if given)."""
        return [
            c
            for c in self.calls
            if c.path.endswith(path) and (method is None or c.method == method.upper())
        ]

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.path.search(path):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        call = RecordedCall(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        if not request.path.startswith("/_sandbox"):
            self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                transport = request.transport
                if transport is not None:
                    transport.close()
                raise asyncio.CancelledError
        if fault is not None and fault.status is not None:
            call.status = fault.status
            return web.json_response(
                fault.body if fault.body is not None else {"error": "injected fault"},
                status=fault.status,
                headers=fault.headers,
            )
        response = await handler(request)
        call.status = response.status
        return response

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST ``body`` to ``url`` now (the Slack stand-in's requests to the app; a provider's
        webhooks go through :attr:`outbox` instead)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()
