"""Action items end to end: Otter's "Weekly product sync" through a signed webhook to a digest
whose items people assign, close, reopen and date through signed block_actions, with the DMs,
the Home tab and `/debrief todo` checked in the Slack stand-in.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from bot.blockkit import slack_day
from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_DUE, ACTION_REOPEN
from sandbox.otter import PRODUCT_SYNC_ID
from sandbox.world import World
from tests.e2e.test_attendee_flow import block_text
from tests.handlers.digest.support import text_of

CHANNEL = "C0MEETINGS"


def section(message: Any, number: int) -> dict[str, Any]:
    return next(b for b in message.blocks if b.get("block_id") == f"digest.item.{number}")


def line(message: Any, number: int) -> str:
    return str(section(message, number)["text"]["text"])


async def use(
    world: World, message: Any, action_id: str, number: int, user: str, **chosen: Any
) -> None:
    block = f"digest.item.{number}" if action_id == ACTION_ASSIGN else f"digest.controls.{number}"
    delivery = await world.slack.click(
        world.app_url, message, action_id, block_id=block, user_id=user, **chosen
    )
    assert delivery.status == 200 and delivery.elapsed < 3, delivery


def dm_texts(world: World, user: str) -> list[str]:
    return [block_text(m) for m in world.slack.dms(user)]


async def test_people_own_the_product_syncs_action_items(world: World) -> None:
    delivery = await world.otter.deliver_webhook(PRODUCT_SYNC_ID)
    assert delivery.status == 200
    (digest,) = await world.eventually(lambda: [m for m in world.slack.messages(CHANNEL)])
    await world.settle()
    # Otter named each owner by email: pre-assigned, and said to be Otter's suggestion.
    for number, user in ((1, "U0ADA"), (2, "U0GRACE"), (3, "U0ALAN")):
        assert f"👤 <@{user}> · _suggested by Otter.ai_" in line(digest, number)
        assert section(digest, number)["accessory"]["initial_user"] == user
    assert line(digest, 4).startswith("✅ ~Update the onboarding guide")

    # Alan gives Ada's rollout plan to Grace: Grace is told, and so is Ada.
    await use(world, digest, ACTION_ASSIGN, 1, "U0ALAN", selected_user="U0GRACE")
    await world.eventually(lambda: "assigned by <@U0ALAN>" in line(digest, 1))
    # The two DMs are separate jobs on separate workers: wait for both, in either order.
    await world.eventually(lambda: world.slack.dms("U0ADA") and world.slack.dms("U0GRACE"))
    (to_grace,) = dm_texts(world, "U0GRACE")
    assert "<@U0ALAN> assigned you an action item from *Weekly product sync*" in to_grace
    assert "Write the rollout plan for the new digest" in to_grace
    assert (
        world.slack.dms("U0GRACE")[0]
        .blocks[0]["accessory"]["url"]
        .endswith("/archives/C0MEETINGS/p" + digest.ts.replace(".", ""))
    )
    assert (
        "reassigned your action item from *Weekly product sync* to <@U0GRACE>"
        in dm_texts(world, "U0ADA")[0]
    )

    # Grace closes it, Ada reopens it, Alan gives it a due date.
    await use(world, digest, ACTION_DONE, 1, "U0GRACE")
    await world.eventually(lambda: "done by <@U0GRACE>" in line(digest, 1))
    await use(world, digest, ACTION_REOPEN, 1, "U0ADA")
    await world.eventually(lambda: line(digest, 1).startswith("◻️ Write the rollout plan"))
    await use(world, digest, ACTION_DUE, 1, "U0ALAN", selected_date="2026-12-03")
    await world.eventually(lambda: f"📅 due {slack_day(date(2026, 12, 3))}" in line(digest, 1))
    await world.settle()
    grace = dm_texts(world, "U0GRACE")
    assert "<@U0ADA> reopened your action item" in grace[1]
    assert (
        "<@U0ALAN> set the due date of your action item from *Weekly product sync* to "
        f"{slack_day(date(2026, 12, 3))}"
    ) in grace[2]
    assert len(grace) == 3, "not told of her own Done"

    # Two people pick different owners for Alan's benchmark at the same moment.
    await asyncio.gather(
        use(world, digest, ACTION_ASSIGN, 3, "U0ADA", selected_user="U0KATHERINE"),
        use(world, digest, ACTION_ASSIGN, 3, "U0GRACE", selected_user="U0LINUS"),
    )
    await world.settle()  # including a refresh put off behind another one
    owner = section(digest, 3)["accessory"]["initial_user"]
    assert owner in ("U0KATHERINE", "U0LINUS")
    assert f"👤 <@{owner}>" in line(digest, 3)
    home = await open_home(world, owner)
    assert "Benchmark the job queue" in home

    # The digest is still the one message, updated in place for everyone.
    assert [m.ts for m in world.slack.messages(CHANNEL)] == [digest.ts]
    assert world.slack.calls_of("chat.update")

    delivery = await world.slack.command(
        world.app_url, "/debrief", "todo", user_id="U0GRACE", channel_id="C0ENG"
    )
    assert delivery.status == 200
    answer = await world.eventually(
        lambda: [e for e in world.slack.ephemerals("U0GRACE") if e.text.startswith("You have")]
    )
    listed = block_text(answer[-1])
    assert "Write the rollout plan" in listed and "Fix the time-zone bug" in listed


async def open_home(world: World, user: str) -> str:
    assert (await world.slack.open_home(world.app_url, user)).status == 200
    view = await world.eventually(lambda: world.slack.home(user))
    return text_of(view.blocks)
