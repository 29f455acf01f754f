"""A Slack app on loopback for tests of the sandbox page: it verifies each request's signature
as Bolt would, records it decoded and answers what the test tells it to."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

Answer = Callable[[dict[str, Any]], Any]


@dataclass
class FakeApp:
    """Receives what the Slack stand-in sends on behalf of people in the page."""

    signing_secret: str
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[tuple[str, Any]] = field(default_factory=list)
    answer: Answer = lambda request: None

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """A provider's webhook: recorded as (provider, decoded body), answered 200."""
        self.webhooks.append((request.match_info["provider"], json.loads(await request.read())))
        return web.json_response({"ok": True})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not SignatureVerifier(self.signing_secret).is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        if request.content_type == "application/json":
            decoded: dict[str, Any] = json.loads(body)
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            decoded = json.loads(form["payload"]) if "payload" in form else form
        self.received.append(decoded)
        answer = self.answer(decoded)
        if answer is None:
            return web.Response(status=200)
        return web.json_response(answer)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Received payloads of ``kind`` (block_actions, view_submission, event_callback…)."""
        return [r for r in self.received if r.get("type") == kind]


@asynccontextmanager
async def running_app(signing_secret: str) -> AsyncIterator[FakeApp]:
    fake = FakeApp(signing_secret)
    app = web.Application()
    app.router.add_post("/slack/events", fake.handle)
    app.router.add_post("/webhooks/{provider}", fake.webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
