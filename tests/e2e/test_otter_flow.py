"""Otter end to end: signed webhooks and polling through the stand-ins to routed digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.db import transaction
from handlers.otter.polling import JOB_POLL, PollJob
from sandbox.otter import PRODUCT_SYNC_ID, huge_conversation
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import block_text


def digests(world: World, channel: str) -> list[Any]:
    return [m for m in world.slack.messages(channel) if m.bot_id]


async def command(world: World, text: str, channel: str = "C0GENERAL") -> str:
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id="U0ADA", channel_id=channel
    )
    assert delivery.status == 200, delivery.body
    return str(delivery.json["text"]) if delivery.body else ""


async def test_a_signed_webhook_lands_in_the_routed_channel_once(database_url: str) -> None:
    async with World(world_options(database_url, stand_ins={"otter": {"seed": True}})) as world:
        assert "Route #1 added" in await command(world, 'route otter-channel:"Product team" #eng')
        conversation = world.otter.add_conversation(
            "Sprint planning",
            channel_id="ch_product_team",
            summary="We planned the sprint.",
            action_items=[("Write the tickets", "grace@example.com")],
        )
        deliveries = await world.otter.finish_processing(conversation, deliveries=3)
        assert [d.status for d in deliveries] == [200, 200, 200]
        assert [d.response for d in deliveries] == [
            '{"status": "accepted"}',
            '{"status": "duplicate"}',
            '{"status": "duplicate"}',
        ]
        assert all("X-HMAC-SHA256" in d.headers for d in deliveries)
        (parent,) = await world.eventually(lambda: digests(world, "C0ENG"))
        await world.settle()
        assert "Sprint planning" in block_text(parent)
        assert "Write the tickets" in block_text(parent)
        assert digests(world, "C0MEETINGS") == [], "the route, not the default channel"

        # Otter re-processes it; asking again in #eng updates the same message in place.
        world.otter.conversations[conversation]["abstract_summary"] = "We re-planned the sprint."
        await command(world, f"summary https://otter.ai/u/{conversation}", channel="C0ENG")
        await world.eventually(lambda: "re-planned" in block_text(parent))
        await world.settle()
        assert len(digests(world, "C0ENG")) == 1, "updated, never repeated"


async def test_the_huge_meeting_is_accepted_by_slack(database_url: str) -> None:
    async with World(world_options(database_url)) as world:
        record = huge_conversation()
        conversation = world.otter.add_record(record)
        delivery = await world.otter.deliver_webhook(conversation)
        assert delivery.status == 200 and len(delivery.body) > 200_000
        (parent,) = await world.eventually(lambda: digests(world, "C0MEETINGS"))
        await world.settle()
        thread = world.slack.thread("C0MEETINGS", parent.ts)[1:]
        assert len(thread) >= 6
        everything = "\n".join(block_text(m) for m in [parent, *thread])
        for n in (1, 60, 120):
            assert f"#{n}: " in everything
        assert "Section 40:" in everything
        # A message Slack refused would have killed the job and told the operators here.
        assert world.slack.messages("C0GENERAL") == []


async def test_polling_across_a_restart_misses_and_repeats_nothing(database_url: str) -> None:
    options = world_options(
        database_url,
        scheduler=True,
        stand_ins={"otter": {"seed": False}},
        settings={
            "otter_webhook_secret": None,
            "otter_poll_seconds": 0.5,
            "otter_ready_poll_seconds": 0.2,
        },
    )
    now = datetime.now(UTC)
    async with World(options) as world:
        assert world.otter.webhook is None
        for n in range(3):
            world.otter.add_conversation(
                f"Before {n}", created_at=now - timedelta(minutes=30 - n), processing=False
            )
        processing = world.otter.add_conversation("Spans the restart", created_at=now)
        await world.eventually(lambda: len(digests(world, "C0MEETINGS")) == 3)

        await world.restart_app()
        world.otter.add_conversation(
            "After", created_at=now + timedelta(seconds=1), processing=False
        )
        await world.otter.finish_processing(processing)
        await world.eventually(lambda: len(digests(world, "C0MEETINGS")) == 5)
        await _poll_now(world)
        await world.settle()
        titles = sorted(m.text for m in digests(world, "C0MEETINGS"))
        assert titles == [
            "Meeting digest: After",
            "Meeting digest: Before 0",
            "Meeting digest: Before 1",
            "Meeting digest: Before 2",
            "Meeting digest: Spans the restart",
        ]


async def _poll_now(world: World) -> None:
    async with transaction(world.services.sessions) as session:
        await world.services.queue.enqueue(session, JOB_POLL, PollJob())


async def test_summary_not_ready_is_posted_when_ready(database_url: str) -> None:
    options = world_options(database_url, settings={"otter_ready_poll_seconds": 0.2})
    async with World(options) as world:
        conversation = world.otter.add_conversation("Retro", summary="Went well.")
        await command(world, f"summary {conversation}", channel="C0ENG")
        await world.eventually(
            lambda: any("not ready yet" in e.text for e in world.slack.ephemerals("U0ADA"))
        )
        world.otter.webhook = None  # only the waiter may post it
        await world.otter.finish_processing(conversation)
        (parent,) = await world.eventually(lambda: digests(world, "C0ENG"))
        assert "Went well." in block_text(parent)
        await world.settle()
        assert PRODUCT_SYNC_ID not in str(world.otter.calls)
