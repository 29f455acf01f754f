"""A notetaker sent from a private channel, through signed requests against the stand-ins: who
sees it in `/debrief bots`, where its meeting link appears, and who may make it leave."""

from __future__ import annotations

from typing import Any

from sandbox.world import World
from tests.e2e.test_attendee_flow import block_text

PRIVATE = "C0LEADERSHIP"  # Ada (an admin) and Grace; not Alan, Katherine or Linus
ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=s3cretpasscode"
PASSWORD = "s3cretpasscode"


def said(world: World, user: str) -> str:
    return "\n".join(block_text(e) for e in world.slack.ephemerals(user))


async def command(world: World, text: str, user: str, channel: str) -> str:
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id=user, channel_id=channel
    )
    assert delivery.status == 200, delivery.body
    await world.settle()
    return str(delivery.json["text"]) if delivery.body else ""


async def private_notetaker(world: World, user: str = "U0GRACE") -> tuple[str, Any]:
    """A notetaker sent from the private channel, in its meeting, and its status message."""
    await command(world, f"join {ZOOM}", user, PRIVATE)
    (bot_id,) = await world.eventually(lambda: list(world.attendee.bots))
    (status,) = await world.eventually(
        lambda: [m for m in world.slack.messages(PRIVATE) if m.bot_id]
    )
    world.attendee.join(bot_id)
    await world.eventually(lambda: "Recording" in block_text(status))
    return bot_id, status


async def listing(world: World, user: str, channel: str) -> str:
    before = len(world.slack.ephemerals(user))
    await command(world, "bots", user, channel)
    latest = await world.eventually(
        lambda: [e for e in world.slack.ephemerals(user)[before:] if "notetaker" in block_text(e)]
    )
    return block_text(latest[-1])


async def test_a_private_channels_notetaker_is_hidden_from_non_members(world: World) -> None:
    bot_id, status = await private_notetaker(world)

    shown = await listing(world, "U0ALAN", "C0GENERAL")
    assert bot_id not in shown and PASSWORD not in shown and "zoom.us" not in shown
    assert "No notetakers are active in your channels" in shown

    # A member typing it elsewhere sees the notetaker, never its link.
    elsewhere = await listing(world, "U0ADA", "C0GENERAL")
    assert bot_id in elsewhere and f"<#{PRIVATE}>" in elsewhere
    assert PASSWORD not in elsewhere and "zoom.us" not in elsewhere
    # In the channel it was sent from, the link is there.
    assert PASSWORD in await listing(world, "U0GRACE", PRIVATE)

    # Nowhere outside the private channel did the link appear.
    for channel in world.slack.workspace.channels.values():
        if channel.id == PRIVATE:
            continue
        for message in world.slack.messages(channel.id):
            assert PASSWORD not in block_text(message), channel.id
    outside = [e for e in world.slack.workspace.ephemerals if e.channel != PRIVATE]
    assert all(PASSWORD not in block_text(e) for e in outside)
    assert "Recording" in block_text(status)


async def test_a_non_member_cannot_make_it_leave(world: World) -> None:
    bot_id, status = await private_notetaker(world)
    await command(world, f"leave {bot_id}", "U0ALAN", "C0GENERAL")
    refusal = await world.eventually(lambda: "Only the person who sent it" in said(world, "U0ALAN"))
    assert refusal
    assert "members of the channel it belongs to, or a workspace admin" in said(world, "U0ALAN")
    assert "you are not in its channel, nor a workspace admin" in said(world, "U0ALAN")
    assert world.attendee.calls_to(f"/bots/{bot_id}/leave", "POST") == []
    assert "stopped by" not in block_text(status)
    assert world.attendee.bot(bot_id)["state"] == "joined_recording"


async def test_a_member_stops_it_from_its_message_and_the_message_says_who(world: World) -> None:
    bot_id, status = await private_notetaker(world, user="U0ADA")
    # Grace did not send it, and is no admin: she is in the channel.
    delivery = await world.slack.click(world.app_url, status, "attendee.leave", user_id="U0GRACE")
    assert delivery.status == 200, delivery.body
    await world.eventually(lambda: world.attendee.calls_to(f"/bots/{bot_id}/leave", "POST"))
    await world.settle()
    await world.eventually(lambda: "stopped by <@U0GRACE>" in block_text(status))
    assert "The notetaker is leaving the meeting." in said(world, "U0GRACE")


async def test_a_workspace_admin_outside_the_channel_can_stop_it(world: World) -> None:
    world.slack.workspace.users["U0LINUS"].is_admin = True
    bot_id, status = await private_notetaker(world)
    # Linus sees nothing of the channel's notetakers, but as an admin may stop one by its id.
    assert bot_id not in await listing(world, "U0LINUS", "C0GENERAL")
    await command(world, f"leave {bot_id}", "U0LINUS", "C0GENERAL")
    await world.eventually(lambda: world.attendee.calls_to(f"/bots/{bot_id}/leave", "POST"))
    await world.settle()
    await world.eventually(lambda: "stopped by <@U0LINUS>" in block_text(status))


async def test_a_recording_link_is_fetched_only_for_the_channels_members(world: World) -> None:
    bot_id, status = await private_notetaker(world)
    world.attendee.set_recording(bot_id, True)
    world.attendee.say(bot_id, "Grace Hopper", "Short meeting.")
    world.attendee.end_meeting(bot_id)
    # The digest's parent (the first reply); its details follow it in the thread.
    await world.eventually(
        lambda: [m for m in world.slack.thread(PRIVATE, status.ts) if m.ts != status.ts]
    )
    await world.settle()
    # The digest and its details, each once.
    digest, _details = [m for m in world.slack.thread(PRIVATE, status.ts) if m.ts != status.ts]
    await world.slack.click(world.app_url, digest, "attendee.recording", user_id="U0ALAN")
    await world.settle()
    assert "for the members of the channel it was recorded for" in said(world, "U0ALAN")
    assert world.attendee.calls_to(f"/bots/{bot_id}/recording") == []
    await world.slack.click(world.app_url, digest, "attendee.recording", user_id="U0ADA")
    await world.settle()
    assert "Open the recording" in said(world, "U0ADA")
