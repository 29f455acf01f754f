"""From a signed `/debrief join` to the meeting's digest in the thread, through real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.attendee.jobs import JOB_DIGEST, DigestJob
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.engines import FixedEngine

CHANNEL = "C0MEETINGS"
ZOOM = "https://us05web.zoom.us/j/84315220467?pwd=abc"


def block_text(message: Any) -> str:
    """All the text a person sees in a message's blocks."""
    parts: list[str] = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(parts)


def top_level(world: World) -> list[Any]:
    return [m for m in world.slack.messages(CHANNEL) if m.bot_id]


async def send_notetaker(world: World, text: str = f"join {ZOOM}") -> tuple[str, Any]:
    delivery = await world.slack.command(
        world.app_url, "/debrief", text, user_id="U0ADA", channel_id=CHANNEL
    )
    assert delivery.status == 200, delivery.body
    assert "Sending a notetaker" in delivery.json["text"]
    bots = await world.eventually(lambda: list(world.attendee.bots))
    (status,) = await world.eventually(lambda: top_level(world))
    return bots[0], status


async def test_join_follow_and_digest(world: World) -> None:
    world.services.understanding = FixedEngine()
    bot_id, status = await send_notetaker(world)
    created = world.attendee.calls_to("/api/v1/bots", "POST")[0].json
    assert created["metadata"] == {
        "slack_team_id": "T0SANDBOX",
        "slack_channel_id": CHANNEL,
        "slack_user_id": "U0ADA",
        "debrief_request_id": created["metadata"]["debrief_request_id"],
    }
    assert created["deduplication_key"].startswith("debrief-")
    await world.eventually(lambda: "joining" in block_text(status))

    world.attendee.join(bot_id)
    await world.eventually(lambda: "Recording" in block_text(status))
    assert any(b.get("type") == "actions" for b in status.blocks), "a Leave button while live"

    world.attendee.say(bot_id, "Ada Lovelace", "Let's ship the Slack integration on Friday.")
    world.attendee.say(
        bot_id, "Grace Hopper", "Agreed. I'll write the release notes today.", duration_ms=4000
    )
    world.attendee.end_meeting(bot_id)

    await world.eventually(lambda: "transcript is in the thread" in block_text(status))
    await world.settle()
    # The digest (updated: it was a transcript dump) leads with the engine's summary; talk
    # time and the transcript follow in the thread.
    parent, details = [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
    digest = block_text(parent)
    assert "Slack integration launch" in digest and "Summary" in digest
    assert "Ada Lovelace" in digest and "Grace Hopper" in digest
    assert "Recording" in digest
    assert "Talk time" in block_text(details)
    assert "ship the Slack integration" in block_text(details)
    assert len(top_level(world)) == 1, "the status message was updated in place, never re-posted"


async def test_a_failed_join_is_explained_in_place(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.fail_to_join(bot_id, "meeting_not_started_waiting_for_host")
    await world.eventually(lambda: "Could not join" in block_text(status))
    assert "host" in block_text(status)
    assert not any(b.get("type") == "actions" for b in status.blocks)


async def test_a_double_submit_sends_one_bot(world: World) -> None:
    first, second = await asyncio.gather(
        world.slack.command(
            world.app_url, "/debrief", f"join {ZOOM}", user_id="U0ADA", channel_id=CHANNEL
        ),
        world.slack.command(
            world.app_url, "/debrief", f"join {ZOOM}", user_id="U0GRACE", channel_id=CHANNEL
        ),
    )
    assert first.status == second.status == 200
    await world.eventually(lambda: world.attendee.bots)
    await world.settle()
    assert len(world.attendee.bots) == 1
    assert len(top_level(world)) == 1


async def test_the_command_is_acknowledged_before_attendee_answers(database_url: str) -> None:
    async with World(world_options(database_url, stand_ins={"attendee": {"delay": 5.0}})) as world:
        delivery = await world.slack.command(
            world.app_url, "/debrief", f"join {ZOOM}", user_id="U0ADA", channel_id=CHANNEL
        )
        assert delivery.status == 200
        assert delivery.elapsed < 1.0, f"acknowledged after {delivery.elapsed:.2f}s"
        assert not delivery.late


async def test_typos_get_a_usage_line(world: World) -> None:
    delivery = await world.slack.command(
        world.app_url, "/debrief", "jion https://zoom.us/j/1", user_id="U0ADA", channel_id=CHANNEL
    )
    assert delivery.status == 200
    text = delivery.json["text"]
    assert "Did you mean `/debrief join`" in text
    refused = await world.slack.command(
        world.app_url, "/debrief", "join https://example.com/x", user_id="U0ADA", channel_id=CHANNEL
    )
    assert "Zoom, Google Meet and Microsoft Teams" in refused.json["text"]
    private = await world.slack.command(
        world.app_url, "/debrief", "join https://127.0.0.1/j/1", user_id="U0ADA", channel_id=CHANNEL
    )
    assert "Zoom" in private.json["text"]
    assert world.attendee.bots == {}


async def test_a_long_transcript_is_attached_as_a_file(world: World) -> None:
    world.services.understanding = FixedEngine()
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    lines = [
        ("Ada Lovelace" if i % 2 else "Alan Turing", f"Point number {i} about the engine.")
        for i in range(200)
    ]
    world.attendee.seed_transcript(bot_id, lines)
    world.attendee.end_meeting(bot_id)
    await world.eventually(lambda: world.slack.calls_of("files.completeUploadExternal"))
    await world.settle()
    (upload,) = world.slack.calls_of("files.completeUploadExternal")
    assert upload.get("thread_ts") == status.ts
    thread = world.slack.thread(CHANNEL, status.ts)
    # The digest (updated: it was a transcript dump), its details, then the file.
    digest, details, file = [m for m in thread if m.ts != status.ts]
    assert [f["name"] for f in file.files] == [f"transcript-{bot_id}.txt"]
    assert "The full transcript is attached in this thread" in block_text(details)
    assert "Point number 0 about" in block_text(details), "an excerpt, from the start"
    assert "Talk time" in block_text(details) and "Recording" in block_text(digest)

    # The job run again (a retry after a crash) changes nothing: no twin, no second file.
    request_id = world.attendee.calls_to("/api/v1/bots", "POST")[0].json["metadata"]
    async with world.services.sessions() as session, session.begin():
        await world.services.queue.enqueue(
            session, JOB_DIGEST, DigestJob(request_id=request_id["debrief_request_id"])
        )
    await world.settle()
    assert [m.ts for m in world.slack.thread(CHANNEL, status.ts)] == [m.ts for m in thread]
    assert len(world.slack.calls_of("files.completeUploadExternal")) == 1


async def test_the_recording_button_fetches_a_fresh_link(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    world.attendee.say(bot_id, "Ada Lovelace", "Short meeting.")
    world.attendee.end_meeting(bot_id)
    # The digest's parent (the first reply); its details follow it in the thread.
    await world.eventually(
        lambda: [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
    )
    await world.settle()
    # The digest and its details, each once.
    digest, _details = [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
    await world.slack.click(world.app_url, digest, "attendee.recording", user_id="U0GRACE")
    await world.settle()
    assert "No recording is available" in block_text(world.slack.ephemerals("U0GRACE")[-1])

    world.attendee.set_recording(bot_id, True)
    await world.slack.click(world.app_url, digest, "attendee.recording", user_id="U0GRACE")
    await world.settle()
    latest = block_text(world.slack.ephemerals("U0GRACE")[-1])
    assert "Open the recording" in latest and world.attendee.url in latest
    assert len(world.attendee.calls_to(f"/bots/{bot_id}/recording")) == 2, "fetched per click"


async def test_bots_lists_active_notetakers_and_leave_works(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    await world.eventually(lambda: "Recording" in block_text(status))
    delivery = await world.slack.command(
        world.app_url, "/debrief", "bots", user_id="U0GRACE", channel_id="C0GENERAL"
    )
    assert delivery.body == "", "the list is the answer"
    listing = await world.eventually(
        lambda: [
            m for m in world.slack.ephemerals("U0GRACE") if "active notetaker" in block_text(m)
        ]
    )
    # Typed in another channel: the notetaker is listed, its meeting link is not.
    assert bot_id in block_text(listing[-1]) and "zoom.us" not in block_text(listing[-1])
    await world.slack.click(world.app_url, listing[-1], "attendee.leave", user_id="U0GRACE")
    await world.eventually(lambda: world.attendee.bot(bot_id)["state"] != "joined_recording")
    await world.settle()
    assert world.attendee.calls_to(f"/bots/{bot_id}/leave", "POST")
    await world.eventually(lambda: "Recording" not in block_text(status))
    assert "stopped by <@U0GRACE>" in block_text(status)


async def test_late_and_reordered_deliveries_never_move_the_status_back(world: World) -> None:
    bot_id, status = await send_notetaker(world)
    await world.settle()
    world.attendee.hold_webhooks()
    world.attendee.join(bot_id)
    world.attendee.say(bot_id, "Ada Lovelace", "Quick one.")
    world.attendee.end_meeting(bot_id)
    await asyncio.sleep(0.3)  # let the stand-in finish processing while deliveries are held
    world.attendee.release_webhooks(order="reversed")
    await world.settle()
    text = block_text(status)
    assert "transcript is in the thread" in text, text
    assert "Recording" not in text.split("transcript")[0]


async def test_a_slow_update_of_an_older_state_never_has_the_last_word(world: World) -> None:
    """Two workers take two events of one bot; the older one's Slack update lands last.

    ``join`` sends ``joined_not_recording`` then ``joined_recording``. The first update Slack
    receives (the older state's) is held for a while, so the newer one's overtakes it.
    """
    bot_id, status = await send_notetaker(world)
    await world.settle()
    world.attendee.hold_webhooks()
    world.attendee.join(bot_id)
    world.slack.slow(r"chat\.update$", delay=1.0)
    world.attendee.release_webhooks()
    await world.settle()
    await asyncio.sleep(1.2)
    await world.settle()
    text = block_text(status)
    assert "Recording" in text, text
    assert len(top_level(world)) == 1
