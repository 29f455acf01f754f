"""Review before sharing, end to end in the sandbox's world: the seeded ACME call (a guest from
acme.example, the Slack stand-in's people all on example.com) is held for its owner, whose DM
shares it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.meetings import Meeting, Person
from handlers.attendee import jobs as attendee_jobs
from sandbox.otter import ACME_CALL_ID
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import CHANNEL as ATTENDEE_CHANNEL
from tests.e2e.test_attendee_flow import block_text, send_notetaker
from tests.engines import FixedEngine
from tests.handlers.review.test_review_gate import buttons

CHANNEL = "C0ENG"


async def test_the_seeded_external_call_waits_for_its_owner(database_url: str) -> None:
    async with World(world_options(database_url, stand_ins={"otter": {"seed": True}})) as world:
        delivery = await world.slack.command(
            world.app_url,
            "/debrief",
            f"summary {ACME_CALL_ID}",
            user_id="U0GRACE",
            channel_id=CHANNEL,
        )
        assert delivery.status == 200, delivery.body
        (dm,) = await world.eventually(lambda: world.slack.dms("U0GRACE"))
        await world.settle()
        assert "Customer Discovery Call" in block_text(dm)
        assert "alex.taylor@acme.example" in block_text(dm)
        assert [m for m in world.slack.messages(CHANNEL) if m.bot_id] == []

        click = await world.slack.click(world.app_url, dm, "review.share", user_id="U0GRACE")
        assert click.status == 200, click.body
        (parent,) = await world.eventually(
            lambda: [m for m in world.slack.messages(CHANNEL) if m.bot_id]
        )
        await world.settle()
        assert "Customer Discovery Call" in block_text(parent)
        shared = world.slack.dms("U0GRACE")[0]
        assert f"Shared in <#{CHANNEL}> by <@U0GRACE>" in block_text(shared)
        assert buttons(shared) == []


async def test_an_external_notetaker_meeting_waits_then_its_file_follows_the_share(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attendee's transcript names no emails; a calendar notetaker's meeting will know its
    invitees. Here the mapping adds one from outside, and the rest is the real path."""
    original = attendee_jobs.to_meeting

    def with_a_guest(*args: Any, **kwargs: Any) -> Meeting:
        meeting = original(*args, **kwargs)
        meeting.participants.append(Person(name="Alex Taylor", email="alex@acme.example"))
        return meeting

    monkeypatch.setattr(attendee_jobs, "to_meeting", with_a_guest)
    world.services.understanding = FixedEngine()
    bot_id, status = await send_notetaker(world)
    world.attendee.join(bot_id)
    lines = [
        ("Ada Lovelace" if i % 2 else "Alan Turing", f"Point number {i} about the engine.")
        for i in range(200)
    ]
    world.attendee.seed_transcript(bot_id, lines)
    world.attendee.end_meeting(bot_id)
    (dm,) = await world.eventually(lambda: world.slack.dms("U0ADA"))
    await world.eventually(lambda: "waits for its owner's review" in block_text(status))
    await world.settle()
    assert [m.ts for m in world.slack.thread(ATTENDEE_CHANNEL, status.ts)] == [status.ts]
    assert world.slack.calls_of("files.completeUploadExternal") == []
    assert "alex@acme.example" in block_text(dm)

    click = await world.slack.click(world.app_url, dm, "review.share", user_id="U0ADA")
    assert click.status == 200, click.body
    await world.eventually(lambda: world.slack.calls_of("files.completeUploadExternal"))
    await world.settle()
    (upload,) = world.slack.calls_of("files.completeUploadExternal")
    assert upload.get("thread_ts") == status.ts, "the file goes in the shared digest's thread"
    digest, _details, file = [
        m for m in world.slack.thread(ATTENDEE_CHANNEL, status.ts) if m.ts != status.ts
    ]
    assert [f["name"] for f in file.files] == [f"transcript-{bot_id}.txt"]
    assert "Slack integration launch" in block_text(digest), "the digest itself, shared"
    assert "waits for its owner's review" not in block_text(status)
    assert f"Shared in <#{ATTENDEE_CHANNEL}> by <@U0ADA>" in block_text(world.slack.dms("U0ADA")[0])
