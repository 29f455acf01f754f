"""Hostile text end to end: a meeting whose every field a person or a provider fills says
``<!channel>``, through the real app and the stand-ins. Nothing Slack received (messages, thread
replies, ephemeral answers, file titles) reads it as markup, and Slack refused no blocks."""

from __future__ import annotations

from typing import Any

from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import block_text

HOSTILE = "<!channel> <@U0EVIL> <#C0EVIL> <https://evil.example|click> a & b"
RAW = ("<!channel>", "<@U0EVIL", "<#C0EVIL", "<https://evil", "a & b")
#: A Zoom link as long as a person can paste, ending in what would close a Slack link early.
LONG_ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=" + "a" * 6000 + "&x=<!channel>|x"


def leaks(node: Any, where: str = "") -> list[str]:
    """Every string in Slack's state that Slack would read as markup holding a hostile part:
    a message's ``text``, a ``mrkdwn`` object, a file's title."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("text", "title"):
            value = node.get(key)
            if isinstance(value, str) and node.get("type") != "plain_text":
                found += [f"{where}/{key}: {value[:120]!r}" for raw in RAW if raw in value][:1]
        for key, value in node.items():
            found += leaks(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += leaks(value, f"{where}/{index}")
    return found


async def command(world: World, text: str, channel: str) -> None:
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id="U0ADA", channel_id=channel
    )
    assert delivery.status == 200, delivery.body


async def test_hostile_titles_names_and_links_reach_slack_as_text(database_url: str) -> None:
    async with World(world_options(database_url)) as world:
        # Otter: title, summary, action item, outline, insights and transcript.
        conversation = world.otter.add_conversation(
            HOSTILE,
            summary=HOSTILE,
            action_items=[(HOSTILE, "grace@example.com")],
            insights={HOSTILE: [HOSTILE]},
            outline={HOSTILE: [HOSTILE]},
            transcript=[(HOSTILE, HOSTILE)],
        )
        await world.otter.finish_processing(conversation)
        await world.eventually(lambda: [m for m in world.slack.messages("C0MEETINGS") if m.bot_id])

        # Attendee: a very long meeting link, a hostile speaker and what they said.
        await command(world, f"join {LONG_ZOOM}", "C0ENG")
        (bot_id,) = await world.eventually(lambda: list(world.attendee.bots))
        (status,) = await world.eventually(
            lambda: [m for m in world.slack.messages("C0ENG") if m.bot_id]
        )
        world.attendee.join(bot_id)
        await world.eventually(lambda: "Recording" in block_text(status))
        assert any(b.get("type") == "actions" for b in status.blocks), "the Leave button stays"
        world.attendee.say(bot_id, HOSTILE, HOSTILE + " " + "word " * 1000)
        world.attendee.end_meeting(bot_id)
        await world.eventually(lambda: len(world.slack.thread("C0ENG", status.ts)) > 1)

        # Whereby: a room named by whoever typed the command.
        await command(world, f"room 30 {HOSTILE}", "C0GENERAL")
        await world.eventually(lambda: [m for m in world.slack.messages("C0GENERAL") if m.bot_id])
        await world.settle()

        state = world.slack.snapshot()
        assert not leaks(state), leaks(state)[:5]
        assert not [c for c in world.slack.workspace.changes if c.kind == "view_errors"]
        everything = "\n".join(
            block_text(m)
            for channel in ("C0MEETINGS", "C0ENG", "C0GENERAL")
            for top in world.slack.messages(channel)
            for m in world.slack.thread(channel, top.ts) or [top]
        )
        assert "&lt;!channel&gt;" in everything, "shown as typed, not dropped"
