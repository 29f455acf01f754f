"""Helpers shared by the digest, Otter and routing handler tests."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.app import Options, create_web_app
from bot.jobs import Worker
from bot.meetings import Meeting
from bot.services import SERVICES, Services
from bot.store.db import transaction
from bot.store.models import Job
from handlers.digest.limits import MESSAGE_BLOCKS, MESSAGE_TEXT
from handlers.digest.pack import block_chars
from handlers.digest.render import Part
from handlers.otter.mapping import to_meeting
from providers.http import Unlimited
from providers.otter import Conversation, OtterClient, OtterWebhook
from sandbox.otter import OtterStandIn, huge_conversation
from sandbox.slack import SlackStandIn, validate_blocks
from tests.conftest import PAYLOADS, make_settings

OTTER = PAYLOADS / "otter"


def otter_payload(name: str) -> Any:
    """A recorded Otter payload, decoded."""
    return json.loads((OTTER / f"{name}.json").read_text(encoding="utf-8"))


def otter_conversation(name: str) -> Conversation:
    """The conversation of a recorded API answer (``{"meta", "data"}``) or webhook body."""
    return Conversation.model_validate(otter_payload(name)["data"])


def otter_webhook(name: str) -> OtterWebhook:
    return OtterWebhook.model_validate(otter_payload(name))


def huge_meeting(**sizes: int) -> Meeting:
    """120 action items, 40 outline sections and a 200 KB transcript, Otter-shaped."""
    return to_meeting(Conversation.model_validate(huge_conversation(**sizes)))


def problems(part: Part) -> list[str]:
    """What Slack would refuse in a message (empty when it would accept it)."""
    found = [str(p) for p in validate_blocks(part.blocks)]
    if not part.text or len(part.text) > MESSAGE_TEXT:
        found.append(f"bad fallback text ({len(part.text)} characters)")
    if len(part.blocks) > MESSAGE_BLOCKS:
        found.append(f"{len(part.blocks)} blocks")
    return found


def chars(part: Part) -> int:
    return sum(block_chars(b) for b in part.blocks)


def text_of(blocks: list[dict[str, Any]]) -> str:
    """All the text a reader sees in blocks."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


@dataclass
class Rig:
    """The real app talking to the Slack stand-in (and Otter's, if given); no workers run:
    :meth:`drain` runs the due jobs."""

    slack: SlackStandIn
    services: Services
    app: web.Application
    client: TestClient[Any, Any]

    async def drain(self, limit: int = 200) -> int:
        """Run due jobs until none is left; how many ran."""
        worker = Worker(self.services.queue, self.services, name="test-worker")
        ran = 0
        while ran < limit and await worker.run_one():
            ran += 1
        return ran

    async def make_due(self) -> None:
        """Bring every waiting job's time forward to now (instead of sleeping until then)."""
        async with transaction(self.services.sessions) as session:
            await session.execute(
                update(Job).where(Job.status == "queued").values(run_at=self.services.clock())
            )

    async def jobs(self, kind: str) -> list[Job]:
        async with self.services.sessions() as session:
            rows = await session.execute(select(Job).where(Job.kind == kind).order_by(Job.id))
            return list(rows.scalars())


@asynccontextmanager
async def rig(
    database_url: str,
    otter: OtterStandIn | None = None,
    *,
    slack: SlackStandIn | None = None,
    **settings: Any,
) -> AsyncIterator[Rig]:
    """The app wired to the Slack stand-in (a fresh one unless ``slack`` is given) and to
    ``otter`` (started), on ``database_url``. Two rigs in a row on one database are a restart.
    """
    async with contextlib.AsyncExitStack() as stack:
        if slack is None:
            slack = await stack.enter_async_context(
                SlackStandIn(signing_secret="test-signing-secret-0000")
            )
        values: dict[str, Any] = {
            "database_url": database_url,
            "slack_api_url": slack.api_url,
            "slack_bot_token": slack.bot_token,
        }
        if otter is not None:
            values.update(otter_api_key=otter.api_key, otter_api_url=otter.api_url)
        values.update(settings)
        app = await create_web_app(
            make_settings(**values), Options(workers=0, scheduler=False, migrate=True)
        )
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        stack.push_async_callback(client.close)
        services = app[SERVICES]
        if otter is not None and otter.requests_per_second is None:
            # The stand-in throttles nothing here, so the client need not pace itself either.
            services.clients[OtterClient] = OtterClient(
                services.http, api_key=otter.api_key, base_url=otter.api_url, limiter=Unlimited()
            )
        yield Rig(slack, services, app, client)
