"""A calendar notetaker's digest is routed like any meeting's (the default rule, the digest
channel), never kept in its owner's DM where its status message is."""

from __future__ import annotations

from sqlalchemy import update

from handlers.attendee.tables import AttendeeBot
from sandbox.world import World
from tests.e2e.test_attendee_digest import ROUTED, digest_in, route
from tests.e2e.test_attendee_flow import CHANNEL, block_text, send_notetaker
from tests.engines import FixedEngine


async def test_a_calendar_notetakers_digest_follows_the_default_rule(world: World) -> None:
    world.services.understanding = FixedEngine()
    await route(world, "default")
    bot_id, status = await send_notetaker(world)
    # Made by the calendar autopilot: its status message is the owner's, its digest is not.
    async with world.services.sessions() as session, session.begin():
        await session.execute(
            update(AttendeeBot)
            .where(AttendeeBot.bot_id == bot_id)
            .values(calendar_event_id="evt_4KGt2HwofiJlkJNp")
        )
    world.attendee.join(bot_id)
    world.attendee.say(bot_id, "Ada Lovelace", "Let's ship the Slack integration on Friday.")
    world.attendee.end_meeting(bot_id)
    (digest,) = await world.eventually(lambda: digest_in(world, ROUTED))
    assert "Slack integration" in block_text(digest)
    await world.eventually(lambda: "digest is in" in block_text(status))
    await world.settle()
    assert digest_in(world, CHANNEL) == []
    assert [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts] == []
