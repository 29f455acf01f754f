"""The app wired to the Slack and Whereby stand-ins, with jobs run by the test (no workers)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from handlers.whereby import repo
from handlers.whereby.tables import WherebyRoom
from providers.http import RetryPolicy
from providers.whereby import SIGNATURE_HEADER, WherebyClient, sign
from sandbox.slack import Delivery, Message
from sandbox.whereby import DEFAULT_API_KEY, WherebyStandIn, iso
from tests.handlers.digest.support import Rig, rig, text_of

SECRET = "whereby-webhook-secret-for-tests"
CHANNEL = "C0ENG"


@dataclass
class RoomRig:
    """The app (``r``) and Whereby's stand-in; helpers type commands and deliver webhooks."""

    r: Rig
    whereby: WherebyStandIn

    @property
    def app_url(self) -> str:
        return str(self.r.client.make_url("")).rstrip("/")

    async def command(self, text: str, user: str = "U0ADA", channel: str = CHANNEL) -> str:
        delivery = await self.r.slack.command(
            self.app_url, "/debrief", text, user_id=user, channel_id=channel
        )
        assert delivery.status == 200, delivery.body
        # An empty acknowledgement (the job answers) shows nothing in Slack.
        return str(delivery.json["text"]) if delivery.body else ""

    async def click(self, message: Message, action_id: str, user: str = "U0ADA") -> Delivery:
        delivery = await self.r.slack.click(self.app_url, message, action_id, user_id=user)
        assert delivery.status == 200, delivery.body
        return delivery

    def said(self, user: str = "U0ADA") -> str:
        """Everything ``user`` was told privately."""
        return "\n".join(e.text + "\n" + text_of(e.blocks) for e in self.r.slack.ephemerals(user))

    def posted(self, channel: str = CHANNEL) -> list[Message]:
        return [m for m in self.r.slack.messages(channel) if m.bot_id]

    def thread(self, message: Message, channel: str = CHANNEL) -> list[Message]:
        return [m for m in self.r.slack.thread(channel, message.ts) if m.ts != message.ts]

    async def rooms(self) -> list[WherebyRoom]:
        async with self.r.services.sessions() as session:
            rows = await session.execute(select(WherebyRoom).order_by(WherebyRoom.created_at))
            return list(rows.scalars())

    async def room(self, room_id: str) -> WherebyRoom:
        row = await repo.get(self.r.services.sessions, room_id)
        assert row is not None
        return row

    async def open_room(
        self, text: str = "room", user: str = "U0ADA", channel: str = CHANNEL
    ) -> tuple[WherebyRoom, Message]:
        """Open a room from Slack and run the job; the room's row and its channel message."""
        before = len(self.posted(channel))
        await self.command(text, user=user, channel=channel)
        await self.r.drain()
        messages = self.posted(channel)
        assert len(messages) == before + 1, self.said(user)
        row = (await self.rooms())[-1]
        return row, messages[-1]

    async def deliver(self, event: dict[str, Any], *, stamp: int | None = None) -> tuple[int, Any]:
        """POST ``event`` signed as Whereby signs it (now, or at ``stamp``)."""
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, SECRET, int(time.time()) if stamp is None else stamp),
        }
        response = await self.r.client.post("/webhooks/whereby", data=body, headers=headers)
        return response.status, await response.json()


def event(
    kind: str, data: dict[str, Any], at: float, event_id: str | None = None
) -> dict[str, Any]:
    """A webhook envelope as Whereby sends it, created at unix time ``at``."""
    return {
        "id": event_id or secrets.token_hex(32),
        "apiVersion": "1.0",
        "createdAt": iso(at),
        "type": kind,
        "data": data,
    }


def room_data(row: WherebyRoom, session: str = "session-1", **extra: Any) -> dict[str, Any]:
    assert row.room_name is not None and row.meeting_id is not None
    return {
        "roomName": f"/{row.room_name}",
        "meetingId": row.meeting_id,
        "roomSessionId": session,
    } | extra


def now() -> float:
    return datetime.now(UTC).timestamp()


@pytest.fixture
async def whereby() -> AsyncIterator[WherebyStandIn]:
    async with WherebyStandIn() as stand_in:
        yield stand_in  # type: ignore[misc]


@asynccontextmanager
async def room_rig(
    database_url: str, whereby: WherebyStandIn, **settings: Any
) -> AsyncIterator[RoomRig]:
    """The app set up for Whereby (webhook secret, quick summary polling) on ``database_url``."""
    values: dict[str, Any] = {
        "whereby_api_key": DEFAULT_API_KEY,
        "whereby_api_url": whereby.api_url,
        "whereby_webhook_secret": SECRET,
        "whereby_summary_poll_seconds": 0.01,
    }
    values.update(settings)
    async with rig(database_url, **values) as r:
        if r.services.clients[WherebyClient] is not None:
            # Quick retries; the budget stays the app's own (one per client, shared by all jobs).
            client = r.services.clients[WherebyClient]
            r.services.clients[WherebyClient] = WherebyClient(
                r.services.http,
                api_key=DEFAULT_API_KEY,
                base_url=whereby.api_url,
                limiter=client.limiter,
                retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
            )
        yield RoomRig(r, whereby)
