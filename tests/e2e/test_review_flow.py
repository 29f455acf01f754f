"""Review before sharing, end to end in the sandbox's world: the seeded ACME call (a guest from
acme.example, the Slack stand-in's people all on example.com) is held for its owner, whose DM
shares it."""

from __future__ import annotations

from sandbox.otter import ACME_CALL_ID
from sandbox.world import World
from tests.e2e.conftest import world_options
from tests.e2e.test_attendee_flow import block_text
from tests.handlers.review.test_review_gate import buttons

CHANNEL = "C0ENG"


async def test_the_seeded_external_call_waits_for_its_owner(database_url: str) -> None:
    async with World(world_options(database_url, otter={"seed": True})) as world:
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
