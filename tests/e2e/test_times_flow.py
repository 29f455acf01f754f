"""Times through the whole app: a scheduled join and an Attendee digest's title, for a person
whose Slack time zone is not UTC (Grace, America/New_York, in the Slack stand-in)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.blockkit import slack_time
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import ZOOM, block_text, top_level
from tests.engines import FixedEngine, known

CHANNEL = "C0MEETINGS"
NEW_YORK = ZoneInfo("America/New_York")
#: 03:00 UTC on 7 December 2027 is still the evening of the 6th in New York.
LATE = datetime(2027, 12, 7, 3, 0, tzinfo=UTC)


async def test_a_scheduled_join_is_read_in_the_requesters_zone(world: World) -> None:
    delivery = await world.slack.command(
        world.app_url,
        "/debrief",
        f"join {ZOOM} at 2027-01-05 09:00",
        user_id="U0GRACE",
        channel_id=CHANNEL,
    )
    assert delivery.status == 200, delivery.body
    assert "(2027-01-05 09:00, your time)" in delivery.json["text"]
    (status,) = await world.eventually(lambda: top_level(world))
    nine_in_new_york = datetime(2027, 1, 5, 9, 0, tzinfo=NEW_YORK)
    await world.eventually(lambda: slack_time(nine_in_new_york) in block_text(status))


async def test_the_attendee_digest_title_is_dated_in_the_requesters_zone(
    database_url: str,
) -> None:
    attendee = {"step_delay": 0.05, "webhook_backoff": 0.05, "clock": lambda: LATE}
    async with World(world_options(database_url, stand_ins={"attendee": attendee})) as world:
        delivery = await world.slack.command(
            world.app_url, "/debrief", f"join {ZOOM}", user_id="U0GRACE", channel_id=CHANNEL
        )
        assert delivery.status == 200, delivery.body
        (bot_id,) = await world.eventually(lambda: list(world.attendee.bots))
        (status,) = await world.eventually(lambda: top_level(world))
        # An engine that names no title: the made-up one (a platform and a day) stands.
        world.services.understanding = FixedEngine(known(title=""))
        world.attendee.join(bot_id)
        world.attendee.say(bot_id, "Grace Hopper", "Late-night release check.")
        world.attendee.end_meeting(bot_id)
        thread = await world.eventually(
            lambda: [m for m in world.slack.thread(CHANNEL, status.ts) if m.ts != status.ts]
        )
        header = thread[0].blocks[0]
        assert header["type"] == "header"
        assert header["text"]["text"].endswith("Zoom meeting 6 Dec 2027")
