"""Helpers of the action-item tests: the app against the Slack stand-in with a fake clock, a
meeting whose assignees are the stand-in's people, and clicks on a digest's controls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.app import Options, create_web_app
from bot.meetings import ActionItem, Meeting
from bot.services import SERVICES
from bot.store.db import transaction
from bot.store.models import Job
from handlers.action_items.tables import ActionItemEvent, ActionItemRecord
from handlers.digest import deliver_digest
from sandbox.slack import Delivery, Message, SlackStandIn
from tests.conftest import make_settings
from tests.handlers.digest.support import Rig

CHANNEL = "C0MEETINGS"
#: A Monday morning in November: London on UTC, New York five hours behind, Tokyo nine ahead.
MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


class Clock:
    """The app's clock in a test: still until moved."""

    def __init__(self, now: datetime = MONDAY) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment


@asynccontextmanager
async def rig(
    database_url: str,
    *,
    clock: Clock | None = None,
    slack: SlackStandIn | None = None,
    **settings: Any,
) -> AsyncIterator[Rig]:
    """The app on ``database_url`` wired to the Slack stand-in, no workers (``Rig.drain`` runs
    the jobs), the scheduler off and ``clock`` as its time. Two in a row are a restart."""
    async with contextlib.AsyncExitStack() as stack:
        if slack is None:
            slack = await stack.enter_async_context(
                SlackStandIn(signing_secret="test-signing-secret-0000")
            )
        values: dict[str, Any] = {
            "database_url": database_url,
            "slack_api_url": slack.api_url,
            "slack_bot_token": slack.bot_token,
            # The rig's meetings name an outside assignee (alex@acme.example) to test mapping
            # by email; what they test is not the review before sharing (tests/handlers/review).
            "review_external": False,
        }
        values.update(settings)
        options = Options(workers=0, scheduler=False, migrate=True, clock=clock or Clock())
        app = await create_web_app(make_settings(**values), options)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        stack.push_async_callback(client.close)
        yield Rig(slack, app[SERVICES], app, client)


async def settle(r: Rig, rounds: int = 20) -> None:
    """Run every job, including those put off (a busy digest's refresh), until none is left."""
    for _ in range(rounds):
        await r.make_due()
        if not await r.drain():
            stats = await r.services.queue.stats()
            assert not stats.get("queued") and not stats.get("running"), stats
            return
    raise AssertionError("jobs kept coming")


async def eventually(r: Rig, check: Callable[[], object], within: float = 5.0) -> None:
    """Run jobs until ``check()`` holds: Bolt may finish a listener after answering Slack."""
    async with asyncio.timeout(within):
        while not check():
            await r.drain()
            await asyncio.sleep(0.01)


def app_url(r: Rig) -> str:
    return str(r.client.make_url("")).rstrip("/")


def product_sync(
    meeting_id: str = "sync-1", *, extra: int = 0, title: str = "Weekly product sync"
) -> Meeting:
    """A meeting whose first three items name the stand-in's people by email."""
    items = [
        ActionItem(
            text="Write the rollout plan",
            assignee_name="Ada Lovelace",
            assignee_email="ADA@example.com",
            provider_id="ai-1",
        ),
        ActionItem(
            text="Fix the reminder time zones",
            assignee_name="Grace Hopper",
            assignee_email="grace@example.com",
            provider_id="ai-2",
        ),
        ActionItem(
            text="Benchmark the queue",
            assignee_name="Alex Taylor",
            assignee_email="alex@acme.example",
            provider_id="ai-3",
        ),
        ActionItem(text="Update the guide", status="done", provider_id="ai-4"),
    ]
    items += [ActionItem(text=f"Extra task {n}", provider_id=f"x-{n}") for n in range(extra)]
    return Meeting(
        provider="otter",
        meeting_id=meeting_id,
        title=title,
        summary="We agreed.",
        action_items=items,
    )


async def deliver(r: Rig, meeting: Meeting, channel: str = CHANNEL) -> Message:
    """Deliver ``meeting``'s digest and return its parent message in the stand-in."""
    delivered = await deliver_digest(r.services, meeting, channel)
    return next(m for m in r.slack.messages(channel) if m.ts == delivered.ts)


def current(r: Rig, message: Message) -> Message:
    """The message as Slack shows it now."""
    found = r.slack.workspace.find(message.channel, message.ts)
    assert found is not None, "the message is gone"
    return found


async def click(
    r: Rig,
    message: Message,
    action_id: str,
    number: int,
    *,
    user: str = "U0ALAN",
    **chosen: Any,
) -> Delivery:
    """Use the control ``action_id`` of item ``number`` in ``message``, as ``user``."""
    block = f"digest.item.{number}" if action_id.endswith("assign") else f"digest.controls.{number}"
    delivery = await r.slack.click(
        app_url(r), current(r, message), action_id, block_id=block, user_id=user, **chosen
    )
    assert delivery.status == 200, delivery.body
    return delivery


async def items(r: Rig, meeting_id: str = "sync-1") -> dict[int, ActionItemRecord]:
    """The stored items of a meeting, by position."""
    async with r.services.sessions() as session:
        rows = await session.execute(
            select(ActionItemRecord).where(ActionItemRecord.meeting_id == meeting_id)
        )
        return {row.position or -row.id: row for row in rows.scalars()}


async def set_due(r: Rig, meeting_id: str, number: int, due: date | None) -> None:
    """Give a stored item a due date directly (set-up, not the behaviour under test)."""
    async with transaction(r.services.sessions) as session:
        await session.execute(
            update(ActionItemRecord)
            .where(ActionItemRecord.meeting_id == meeting_id, ActionItemRecord.position == number)
            .values(due=due)
        )


async def events(r: Rig) -> list[ActionItemEvent]:
    async with r.services.sessions() as session:
        rows = await session.execute(select(ActionItemEvent).order_by(ActionItemEvent.id))
        return list(rows.scalars())


async def jobs_of(r: Rig, kind: str) -> list[Job]:
    return await r.jobs(kind)


def said(r: Rig, user: str) -> str:
    """Everything said privately to ``user`` so far."""
    return "\n".join(e.text for e in r.slack.ephemerals(user))


def item_section(message: Message, number: int) -> dict[str, Any]:
    return next(b for b in message.blocks if b.get("block_id") == f"digest.item.{number}")


def item_text(message: Message, number: int) -> str:
    return str(item_section(message, number)["text"]["text"])


def controls(message: Message, number: int) -> list[dict[str, Any]]:
    block = next(b for b in message.blocks if b.get("block_id") == f"digest.controls.{number}")
    return list(block["elements"])
