"""Acme Notes' sandbox stand-in, living in tests/ like its descriptor (``ACME.stand_in`` names
:class:`AcmePlugin`): a World built with ``providers=(*PROVIDERS, ACME)`` starts it, gives the
app its settings, shows it on the sandbox page and lets it deliver signed webhooks, with no
file of the World, of ``debrief sandbox`` or of the page knowing of it.

Its control endpoints (under ``/_sandbox/``, what the page's proxy reaches):

- ``GET acme/state``: its meetings, where its webhook goes, and ``controls``, the buttons the
  page's generic section shows;
- ``POST acme/meetings`` ``{title?, folder?}``: a meeting is ready; its ``meeting.ready``
  webhook is signed and handed to the outbox, and the answer says how the app took it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from sandbox.delivery import Deliveries
from sandbox.lock import SandboxLock
from sandbox.plugin import RunningApp, Setup, StandInPlugin
from sandbox.server import StandIn
from tests.plugins.fake_provider import SIGNATURE, sign


class AcmeStandIn(StandIn):
    """Acme Notes: meetings that get ready, each announced by an HMAC-signed webhook."""

    name = "acme"

    def __init__(self, *, webhook_secret: str, lock: SandboxLock | None = None) -> None:
        super().__init__(lock=lock)
        self.webhook_secret = webhook_secret
        self.webhook_url: str | None = None
        self.meetings: list[dict[str, Any]] = []
        self.outbox = Deliveries("acme")

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/_sandbox/acme/state", self._state)
        router.add_post("/_sandbox/acme/meetings", self._ready)

    def state(self) -> dict[str, Any]:
        return {
            "meetings": [{"id": m["id"], "title": m["title"]} for m in self.meetings],
            "webhook": self.webhook_url or "none",
            "controls": [
                {
                    "label": "A meeting is ready",
                    "path": "acme/meetings",
                    "body": {"title": "Acme launch review", "folder": "Launch"},
                }
            ],
        }

    def meeting_ready(self, title: str, folder: str | None = None) -> dict[str, Any]:
        """A new meeting, announced to the app."""
        meeting = {
            "id": f"acme-{len(self.meetings) + 1}",
            "title": title,
            "summary": "We agreed to ship the launch on Thursday.",
            "host_email": "ada@example.com",
            "attendees": ["grace@example.com"],
            "todos": [{"id": "t1", "text": "Write the launch notes", "owner": "grace@example.com"}],
            "folder": folder,
        }
        self.meetings.append(meeting)
        return meeting

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _ready(self, request: web.Request) -> web.Response:
        raw = await request.read()
        asked = json.loads(raw) if raw else {}
        meeting = self.meeting_ready(str(asked.get("title") or "Quick sync"), asked.get("folder"))
        if self.webhook_url is None or self.outbox is None:
            return web.json_response({"meeting": meeting, "deliveries": []})
        body = json.dumps(
            {"id": f"evt-{meeting['id']}", "type": "meeting.ready", "meeting": meeting}
        ).encode()
        headers = {SIGNATURE: sign(self.webhook_secret, body), "Content-Type": "application/json"}
        delivery = await self.outbox.send(self.webhook_url, body, headers)
        answer = {"status": delivery.status, "state": delivery.state}
        return web.json_response({"meeting": meeting, "deliveries": [answer]})


class AcmePlugin(StandInPlugin[AcmeStandIn]):
    """Acme Notes' stand-in in a World."""

    title = "Acme Notes"
    state_path = "acme/state"

    def __init__(self, server: AcmeStandIn, api_key: str) -> None:
        super().__init__(server)
        self.api_key = api_key

    @classmethod
    def create(cls, setup: Setup, **options: Any) -> AcmePlugin:
        server = AcmeStandIn(webhook_secret=secrets.token_hex(16), lock=setup.lock, **options)
        return cls(server, "acme-sandbox-" + secrets.token_hex(8))

    def settings(self) -> dict[str, Any]:
        return {"acme_api_key": self.api_key, "acme_webhook_secret": self.server.webhook_secret}

    async def connect(self, app: RunningApp) -> None:
        self.server.webhook_url = f"{app.url}/webhooks/acme"
