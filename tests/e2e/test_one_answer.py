"""Every command is answered once: a command whose answer comes from a job is acknowledged with
nothing (Slack then shows nothing), and the job's answer is the one ephemeral the person gets,
failure included. Counted in the Slack stand-in, through signed commands."""

from __future__ import annotations

from bot.jobs import QueueConfig
from sandbox.otter import PRODUCT_SYNC_ID
from sandbox.slack import Ephemeral
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import CHANNEL, ZOOM, block_text, send_notetaker


async def typed(world: World, text: str, user: str = "U0GRACE", channel: str = CHANNEL) -> str:
    """Type `/debrief <text>`; what the acknowledgement itself showed ("" for nothing)."""
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id=user, channel_id=channel
    )
    assert delivery.status == 200, delivery.body
    return str(delivery.json["text"]) if delivery.body else ""


async def answers(world: World, user: str) -> list[Ephemeral]:
    """Everything ``user`` was told privately, once every job has run."""
    await world.settle()
    return world.slack.ephemerals(user)


async def test_bots_and_leave_answer_once_each(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    await world.eventually(lambda: "Recording" in block_text(status))

    assert await typed(world, "bots") == ""
    (listing,) = await answers(world, "U0GRACE")
    assert "1 active notetaker" in block_text(listing)

    assert await typed(world, f"leave {bot_id}") == ""
    listed, left = await answers(world, "U0GRACE")
    assert listed is listing
    assert "The notetaker is leaving the meeting" in block_text(left)


async def test_join_keeps_its_immediate_answer_and_adds_none(world: World) -> None:
    assert "Sending a notetaker" in await typed(world, f"join {ZOOM}", user="U0ADA")
    await world.eventually(lambda: world.attendee.bots)
    (sent,) = await answers(world, "U0ADA")
    assert "Sending a notetaker" in sent.text


async def test_a_typo_keeps_its_usage_line(world: World) -> None:
    assert "Did you mean `/debrief bots`" in await typed(world, "bost")
    assert len(await answers(world, "U0GRACE")) == 1


async def test_otter_commands_answer_once(world: World) -> None:
    assert await typed(world, "recent", user="U0ADA") == ""
    (recent,) = await answers(world, "U0ADA")
    assert "recent Otter.ai conversation" in recent.text

    # A processed conversation: the digest in the channel is the answer, nobody is told twice.
    assert await typed(world, f"summary {PRODUCT_SYNC_ID}", user="U0ADA") == ""
    await world.eventually(lambda: [m for m in world.slack.messages(CHANNEL) if m.bot_id])
    assert await answers(world, "U0ADA") == [recent]
    # Asked again: already there, and said so once.
    assert await typed(world, f"summary {PRODUCT_SYNC_ID}", user="U0ADA") == ""
    told = await answers(world, "U0ADA")
    assert len(told) == 2 and "already in this channel" in told[-1].text


async def test_todo_and_room_answer_once(world: World) -> None:
    assert await typed(world, "todo") == ""
    (todo,) = await answers(world, "U0GRACE")
    assert "open action items" in todo.text

    assert await typed(world, "room 30 Design review", channel="C0ENG") == ""
    told = await answers(world, "U0GRACE")
    assert len(told) == 2 and "Your Whereby room is open" in told[-1].text


async def test_a_provider_outage_is_the_one_answer_after_the_last_retry(database_url: str) -> None:
    queue = QueueConfig(lease_seconds=10, poll_seconds=0.5, backoff_base=0.05, max_attempts=2)
    async with World(world_options(database_url, queue=queue)) as world:
        world.attendee.fail(r"/api/v1/bots$", status=503, times=1000)
        assert await typed(world, "bots") == ""
        (failure,) = await answers(world, "U0GRACE")
        assert "Attendee is unavailable right now" in failure.text
        assert world.attendee.calls_to("/api/v1/bots", "GET"), "Attendee was asked (and failed)"
