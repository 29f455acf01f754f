"""An Attendee meeting through the one digest path, end to end over real HTTP: the signed
webhooks of a finished meeting in, the engine's title, summary, decisions and action items out,
routed by the rules like any provider's meeting, with the status thread pointing to it.

The understanding engine is a test one (``tests.engines.FixedEngine``): known answers.
"""

from __future__ import annotations

from typing import Any

from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_DUE
from sandbox.world import World
from tests.e2e.test_action_items_flow import line, use
from tests.e2e.test_attendee_flow import CHANNEL, ZOOM, block_text, send_notetaker
from tests.engines import FixedEngine, known

ROUTED = "C0ENG"


def buttons(message: Any) -> list[str]:
    return [
        str(element.get("action_id"))
        for block in message.blocks
        for element in ([block.get("accessory")] if block.get("accessory") else [])
        + list(block.get("elements") or [])
        if isinstance(element, dict) and "action_id" in element
    ]


async def route(world: World, target: str) -> None:
    delivery = await world.slack.command(
        world.app_url, "/debrief", f"route {target} #eng", user_id="U0ADA", channel_id="C0GENERAL"
    )
    assert delivery.status == 200 and "added" in str(delivery.json.get("text")), delivery.body


async def hold_meeting(world: World, text: str = f"join {ZOOM}") -> tuple[str, Any]:
    bot_id, status = await send_notetaker(world, text)
    world.attendee.join(bot_id)
    world.attendee.say(bot_id, "Ada Lovelace", "Let's ship the Slack integration on Friday.")
    world.attendee.say(bot_id, "Grace Hopper", "Agreed. I'll write the release notes.")
    world.attendee.end_meeting(bot_id)
    return bot_id, status


def digest_in(world: World, channel: str) -> list[Any]:
    return [m for m in world.slack.messages(channel) if m.bot_id and "Meeting digest" in m.text]


async def test_a_routed_attendee_meeting_gets_the_whole_digest(world: World) -> None:
    engine = FixedEngine()
    world.services.understanding = engine
    await route(world, "provider:attendee")
    _, status = await hold_meeting(world)
    (digest,) = await world.eventually(lambda: digest_in(world, ROUTED))
    await world.eventually(lambda: "digest is in" in block_text(status))
    await world.settle()

    text = block_text(digest)
    assert "📝 Slack integration launch" in text, "the engine's title, not “Zoom meeting …”"
    assert "The team agreed to ship the Slack integration on Friday." in text
    assert "Decisions" in text and "Ship the Slack integration on Friday." in text
    assert "Written by Debrief from the transcript" in text
    assert "Write the release notes" in line(digest, 1)
    assert "(Debrief: Grace Hopper)" in line(digest, 1), "the engine's owner, to be assigned"
    assert buttons(digest).count(ACTION_ASSIGN) == 2 and buttons(digest).count(ACTION_DONE) == 2
    assert "attendee.recording" in buttons(digest)
    (turns, day), *_ = engine.calls
    assert [t.speaker for t in turns] == ["Ada Lovelace", "Grace Hopper"] and day is not None

    # The status thread keeps its place: its last line says where the digest is, and links it.
    assert f"<#{ROUTED}>" in block_text(status)
    assert "/archives/" + ROUTED + "/p" + digest.ts.replace(".", "") in block_text(status)
    assert [m.ts for m in world.slack.thread(CHANNEL, status.ts)] == [status.ts]

    # The items are people's: Grace takes hers, dates it and closes it, in place.
    await use(world, digest, ACTION_ASSIGN, 1, "U0ADA", selected_user="U0GRACE")
    await world.eventually(lambda: "👤 <@U0GRACE>" in line(digest, 1))
    await use(world, digest, ACTION_DUE, 1, "U0GRACE", selected_date="2026-12-14")
    await use(world, digest, ACTION_DONE, 1, "U0GRACE")
    await world.eventually(lambda: "done by <@U0GRACE>" in line(digest, 1))
    await world.settle()
    assert digest_in(world, ROUTED) == [digest], "updated in place, never posted again"
    assert "Recording" in block_text(digest), "a refresh keeps the notetaker's button"


async def test_a_title_rule_sees_the_engines_title(world: World) -> None:
    world.services.understanding = FixedEngine()
    await route(world, "title:integration launch")
    await hold_meeting(world)
    (digest,) = await world.eventually(lambda: digest_in(world, ROUTED))
    assert "Slack integration launch" in block_text(digest)


async def test_the_title_given_when_sending_wins(world: World) -> None:
    world.services.understanding = FixedEngine()
    await route(world, "title:board review")
    await hold_meeting(world, f'join {ZOOM} as "Board review"')
    created = world.attendee.calls_to("/api/v1/bots", "POST")[0].json
    assert created["metadata"]["debrief_title"] == "Board review"
    (digest,) = await world.eventually(lambda: digest_in(world, ROUTED))
    assert "📝 Board review" in block_text(digest)
    assert "Slack integration launch" not in block_text(digest)


async def test_without_a_rule_the_digest_stays_in_the_status_thread(world: World) -> None:
    world.services.understanding = FixedEngine()
    await route(world, "title:something else entirely")
    _, status = await hold_meeting(world)
    await world.eventually(lambda: "transcript is in the thread" in block_text(status))
    await world.settle()
    parent, *_ = [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
    assert "Slack integration launch" in block_text(parent)
    assert ACTION_DONE in buttons(parent)
    assert digest_in(world, ROUTED) == []


async def test_the_digest_says_when_the_engine_fell_back(world: World) -> None:
    notice = "The model could not be reached; this is the embedded engine's summary."
    world.services.understanding = FixedEngine(known(notice=notice, engine="embedded"))
    _, status = await hold_meeting(world)
    await world.eventually(lambda: "transcript is in the thread" in block_text(status))
    await world.settle()
    parent, *_ = [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
    assert f"⚠️ {notice}" in block_text(parent)
