"""Slack's Socket Mode, as the stand-in plays it: ``apps.connections.open`` hands out a one-time
``ws://`` URL on loopback, the app connects there, is greeted with ``hello``, and from then on
every request Slack would POST to the app travels as an envelope on that socket and is
acknowledged with its ``envelope_id`` (and, for a slash command, the answer in ``payload``).

The stand-in's driver methods (``command``, ``click``, ``event``…) do not change: they build the
same request as over HTTP and :meth:`SocketMode.deliver` carries it instead of a signed POST.
``disconnect`` sends Slack's ``disconnect`` message, after which a client opens a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

Json = dict[str, Any]

#: Where Slack's own socket URLs point (``wss://wss-primary.slack.com/link/?ticket=…``).
LINK_PATH = "/link/"
APP_ID = "A0DEBRIEF"


class SocketMode:
    """The Socket Mode side of the Slack stand-in: tickets, live connections and envelopes."""

    def __init__(self, app_token: str, *, ack_timeout: float = 10.0) -> None:
        self.app_token = app_token
        self.ack_timeout = ack_timeout
        self.base_url = ""
        self.connections: list[web.WebSocketResponse] = []
        #: How many times a connection was opened (a reconnect adds one).
        self.opened = 0
        #: Every envelope sent and the ack it got (None while unanswered), for tests.
        self.envelopes: list[tuple[Json, Json | None]] = []
        self._tickets: set[str] = set()
        self._acks: dict[str, asyncio.Future[Json]] = {}
        self._connected = asyncio.Event()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(LINK_PATH, self._link)

    # ---- the Web API method

    def connections_open(self, token: str | None) -> Json:
        """``apps.connections.open``: a fresh one-time socket URL for an app-level token."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if not secrets.compare_digest(token, self.app_token):
            return {"ok": False, "error": "invalid_auth"}
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return {"ok": True, "url": f"{ws_base}{LINK_PATH}?ticket={ticket}&app_id={APP_ID}"}

    # ---- the socket

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        self.opened += 1
        self._connected.set()
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.connections),
                "debug_info": {"host": "sandbox", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(message.data)
        finally:
            with contextlib.suppress(ValueError):
                self.connections.remove(ws)
            if not self.connections:
                self._connected.clear()
        return ws

    def _on_text(self, text: str) -> None:
        with contextlib.suppress(json.JSONDecodeError):
            ack = json.loads(text)
            if isinstance(ack, dict):
                future = self._acks.get(str(ack.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(ack)

    async def wait_connected(self) -> None:
        """Until an app holds a connection (tests: after the app started; bound it yourself)."""
        await self._connected.wait()

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's ``disconnect`` message on every connection; a client then reconnects."""
        for ws in list(self.connections):
            await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {}})

    async def close(self) -> None:
        for ws in list(self.connections):
            await ws.close()

    # ---- carrying a request

    async def deliver(
        self, body: bytes, content_type: str, headers: dict[str, str]
    ) -> tuple[int, str, float]:
        """Carry one request the app would get over HTTP as an envelope; (status, body, elapsed).

        Status 200 with the ack's payload as the body (JSON), or 503 when no app is connected
        or it did not acknowledge in time (Slack then shows the user ``dispatch_failed``).
        """
        started = time.perf_counter()
        kind, payload = envelope_payload(body, content_type)
        if not self.connections:
            return 503, "", time.perf_counter() - started
        envelope_id = str(uuid.uuid4())
        envelope: Json = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if "X-Slack-Retry-Num" in headers:
            envelope["retry_attempt"] = int(headers["X-Slack-Retry-Num"])
            envelope["retry_reason"] = headers.get("X-Slack-Retry-Reason", "")
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        try:
            await self.connections[-1].send_json(envelope)
            ack = await asyncio.wait_for(future, self.ack_timeout)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.envelopes.append((envelope, None))
            return 503, "", time.perf_counter() - started
        finally:
            self._acks.pop(envelope_id, None)
        self.envelopes.append((envelope, ack))
        answer = ack.get("payload")
        text = json.dumps(answer) if answer else ""
        return 200, text, time.perf_counter() - started


def envelope_payload(body: bytes, content_type: str) -> tuple[str, Json]:
    """(envelope type, payload) for a request body as Slack would have POSTed it."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        return "events_api", json.loads(body)
    form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form
