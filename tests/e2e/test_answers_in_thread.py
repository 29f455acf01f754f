"""A button clicked in a thread is answered in that thread, through signed clicks against the
Slack stand-in: the job's answer (through the response_url), the listener's own refusal, and
the answer after a provider outage outlasted every retry."""

from __future__ import annotations

from typing import Any

from bot.jobs import QueueConfig
from handlers.attendee.blocks import ACTION_RECORDING
from handlers.whereby.blocks import ACTION_RECORDING as ACTION_RECORDING_ROOM
from handlers.whereby.blocks import ACTION_TRANSCRIPT
from handlers.wiring import click_of
from sandbox.slack import Ephemeral, Message
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import CHANNEL, block_text, send_notetaker
from tests.e2e.test_whereby_flow import FAST, open_room, replies, room_name_of


async def attendee_digest(world: World) -> tuple[str, Message, Message]:
    """A notetaker whose meeting is over: its status message and the digest in its thread."""
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
    assert digest.thread_ts == status.ts, "the digest is a reply in the status message's thread"
    return bot_id, status, digest


async def answer_to(world: World, user: str, before: int) -> Ephemeral:
    """The one ephemeral ``user`` got after their first ``before`` ones."""
    await world.settle()
    new = await world.eventually(lambda: world.slack.ephemerals(user)[before:])
    assert len(new) == 1, [block_text(e) for e in new]
    return new[0]


async def test_the_recording_button_answers_in_the_digests_thread(world: World) -> None:
    bot_id, status, digest = await attendee_digest(world)

    before = len(world.slack.ephemerals("U0GRACE"))
    await world.slack.click(world.app_url, digest, ACTION_RECORDING, user_id="U0GRACE")
    none = await answer_to(world, "U0GRACE", before)
    assert "No recording is available" in block_text(none)
    assert none.thread_ts == status.ts

    world.attendee.set_recording(bot_id, True)
    await world.slack.click(world.app_url, digest, ACTION_RECORDING, user_id="U0GRACE")
    link = await answer_to(world, "U0GRACE", before + 1)
    assert "Open the recording" in block_text(link)
    assert link.thread_ts == status.ts


async def test_a_refusal_from_the_listener_lands_in_the_thread_too(world: World) -> None:
    _, status, digest = await attendee_digest(world)
    # A button naming a meeting Debrief does not know (an old message, or a forged value).
    for block in digest.blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == ACTION_RECORDING:
                element["value"] = "no-such-request"
    await world.slack.click(world.app_url, digest, ACTION_RECORDING, user_id="U0GRACE")
    refusal = await answer_to(world, "U0GRACE", 0)
    assert "I do not know that meeting" in block_text(refusal)
    assert refusal.thread_ts == status.ts


async def test_an_outage_after_every_retry_is_answered_in_the_thread(database_url: str) -> None:
    queue = QueueConfig(lease_seconds=10, poll_seconds=0.5, backoff_base=0.05, max_attempts=2)
    async with World(world_options(database_url, queue=queue)) as world:
        bot_id, status, digest = await attendee_digest(world)
        world.attendee.set_recording(bot_id, True)
        world.attendee.fail(r"/recording$", status=503, times=1000)
        await world.slack.click(world.app_url, digest, ACTION_RECORDING, user_id="U0GRACE")
        failure = await answer_to(world, "U0GRACE", 0)
        assert "Attendee is unavailable right now" in block_text(failure)
        assert failure.thread_ts == status.ts


async def test_whereby_transcript_answers_in_the_rooms_thread(database_url: str) -> None:
    async with World(world_options(database_url, settings=FAST)) as world:
        whereby = world.whereby
        room = await open_room(world, "room 30 Design review", user="U0GRACE")
        name = room_name_of(world, room)
        whereby.client_joined(name, "Grace Hopper", role_name="host")
        whereby.start_session(name)
        whereby.end_session(name)
        transcription = whereby.finish_transcription(name)
        (digest,) = await world.eventually(lambda: replies(world, room))
        assert digest.thread_ts == room.ts

        await world.slack.click(world.app_url, digest, ACTION_TRANSCRIPT, user_id="U0ALAN")
        answer = await answer_to(world, "U0ALAN", 0)
        assert f"/files/transcriptions/{transcription['transcriptionId']}" in block_text(answer)
        assert answer.thread_ts == room.ts

        # The room message is the thread's parent, in the channel: answered in the channel.
        recording = whereby.finish_recording(name)
        await world.eventually(lambda: "Recording" in block_text(room))
        await world.slack.click(world.app_url, room, ACTION_RECORDING_ROOM, user_id="U0ALAN")
        in_channel = await answer_to(world, "U0ALAN", 1)
        assert f"/files/recordings/{recording['recordingId']}" in block_text(in_channel)
        assert in_channel.thread_ts is None


def thread_of(payload: dict[str, Any]) -> str | None:
    return click_of(payload).thread_ts


def test_the_click_names_its_thread_from_the_container_or_the_message() -> None:
    assert thread_of({"container": {"thread_ts": "1.2"}}) == "1.2"
    assert thread_of({"container": {}, "message": {"thread_ts": "3.4"}}) == "3.4"
    assert thread_of({"container": {"message_ts": "5.6"}}) is None
    # The thread's parent names itself: clicked in the channel, answered there.
    parent = {"container": {"message_ts": "7.8", "thread_ts": "7.8"}, "message": {"ts": "7.8"}}
    assert thread_of(parent) is None
