"""The controls and lines of a notetaker's status message, through signed requests against the
stand-ins: a scheduled notetaker is cancelled (not made to leave), under the same privacy rule,
and a failed join says why once."""

from __future__ import annotations

from typing import Any

from handlers.attendee.blocks import ACTION_CANCEL, ACTION_LEAVE
from handlers.attendee.jobs import refresh_status
from sandbox.world import World
from tests.e2e.test_attendee_flow import CHANNEL, ZOOM, block_text, send_notetaker

PRIVATE = "C0LEADERSHIP"  # Ada (an admin) and Grace; not Alan


def controls(message: Any) -> list[str]:
    """The action ids of a message's buttons."""
    return [
        element["action_id"]
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def headline(message: Any) -> str:
    """The status message's first section: its headline and any line under it."""
    return str(message.blocks[0]["text"]["text"])


async def scheduled(world: World, channel: str = CHANNEL) -> tuple[str, Any]:
    delivery = await world.slack.command(
        world.app_url,
        "/debrief",
        f"join {ZOOM} at in 30 minutes",
        user_id="U0GRACE",
        channel_id=channel,
    )
    assert delivery.status == 200, delivery.body
    (bot_id,) = await world.eventually(lambda: list(world.attendee.bots))
    (status,) = await world.eventually(
        lambda: [m for m in world.slack.messages(channel) if m.bot_id]
    )
    await world.eventually(lambda: "scheduled" in headline(status))
    return bot_id, status


async def test_a_scheduled_notetaker_is_cancelled_not_made_to_leave(world: World) -> None:
    bot_id, status = await scheduled(world)
    assert controls(status) == [ACTION_CANCEL], "no *Make it leave* for a notetaker not in a call"

    await world.slack.click(world.app_url, status, ACTION_CANCEL, user_id="U0ADA")
    await world.settle()
    assert world.attendee.calls_to(f"/bots/{bot_id}", "DELETE"), "deleted while scheduled"
    assert not world.attendee.calls_to(f"/bots/{bot_id}/leave")
    assert bot_id not in world.attendee.bots
    assert "Cancelled by <@U0ADA>" in headline(status)
    assert controls(status) == []
    assert "stopped by" not in block_text(status)
    (told,) = world.slack.ephemerals("U0ADA")
    assert "Cancelled" in told.text and "will not join" in told.text

    # Cancelled, the meeting is free again: the same link may be sent anew.
    delivery = await world.slack.command(
        world.app_url, "/debrief", f"join {ZOOM}", user_id="U0ADA", channel_id=CHANNEL
    )
    assert "Sending a notetaker" in delivery.json["text"]


async def test_cancelling_follows_the_privacy_rule(world: World) -> None:
    bot_id, status = await scheduled(world, PRIVATE)
    await world.slack.click(world.app_url, status, ACTION_CANCEL, user_id="U0ALAN")
    await world.settle()
    (refusal,) = world.slack.ephemerals("U0ALAN")
    assert "can cancel this notetaker" in refusal.text and "nothing was changed" in refusal.text
    assert world.attendee.calls_to(f"/bots/{bot_id}", "DELETE") == []
    assert controls(status) == [ACTION_CANCEL]


async def test_a_notetaker_in_the_meeting_keeps_make_it_leave(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    await world.eventually(lambda: "Recording" in headline(status))
    assert controls(status) == [ACTION_LEAVE]


async def test_a_failed_join_says_why_once(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.fail_to_join(bot_id, "meeting_not_started_waiting_for_host")
    await world.eventually(lambda: "Could not join" in headline(status))
    await world.settle()
    shown = headline(status)
    assert shown.count("the host never came") == 1, shown
    assert "\n" not in shown, "no second line repeating the headline"

    # Rendered again later, with no event at hand (a retry, a late delivery): the same words.
    request_id = world.attendee.calls_to("/api/v1/bots", "POST")[0].json["metadata"][
        "debrief_request_id"
    ]
    await refresh_status(world.services, request_id)
    assert headline(status) == shown
