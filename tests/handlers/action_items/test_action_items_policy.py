"""One rule for who may change an action item, whether the click comes from the digest message,
the App Home tab or a DM: its assignee, who assigned it, who asked for the meeting, the members
of the digest's channel and workspace admins; everyone else is told why, privately.

The digest here lives in private #leadership (Ada and Grace). Katherine is in neither the channel
nor an admin; Linus is made an admin for the test, and is not in the channel either.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_REOPEN
from sandbox.slack import Message, View, driver
from tests.handlers.action_items.support import (
    app_url,
    click,
    current,
    deliver,
    events,
    eventually,
    items,
    product_sync,
    rig,
    said,
)
from tests.handlers.action_items.test_action_items_home import block_with, lines, open_home
from tests.handlers.digest.support import Rig

PRIVATE = "C0LEADERSHIP"
REFUSED = "Only its assignee, who assigned it, the person who asked for the meeting, members of "
WHY = "you are not in its channel, nor a workspace admin; nothing was changed."


async def forged(
    r: Rig, target: Message | View, action_id: str, block_id: str, item_id: int, user: str
) -> None:
    """A click on a real control of ``target`` whose value names another item."""
    ws = r.slack.workspace
    found, element = driver.find_element(target.blocks, action_id, block_id)
    action = driver.action(element, found, None, ws.next_ts())
    action["value"] = str(item_id)
    body = driver.block_actions(
        ws, target, action, user_id=user, verification_token=r.slack.verification_token
    )
    form = urlencode({"payload": json.dumps(body)}).encode()
    assert (await r.slack.deliver(app_url(r), form)).status == 200


async def katherines_item(r: Rig) -> Message:
    """Give Katherine an item of another meeting (in #eng, where Alan assigns it to her); her DM
    about it, with its Done button."""
    eng = await deliver(r, product_sync("eng-1", title="Eng sync"), "C0ENG")
    await click(r, eng, ACTION_ASSIGN, 3, user="U0ALAN", selected_user="U0KATHERINE")
    await r.drain()
    (dm,) = r.slack.dms("U0KATHERINE")
    return dm


async def test_from_the_digest_message(database_url: str) -> None:
    async with rig(database_url) as r:
        r.slack.workspace.users["U0LINUS"].is_admin = True
        parent = await deliver(r, product_sync(), PRIVATE)

        # Katherine cannot see the channel; a click in its name is refused, and says why.
        await click(r, parent, ACTION_DONE, 1, user="U0KATHERINE")
        await click(r, parent, ACTION_ASSIGN, 3, user="U0KATHERINE", selected_user="U0KATHERINE")
        await eventually(r, lambda: said(r, "U0KATHERINE").count(REFUSED) == 2)
        assert WHY in said(r, "U0KATHERINE")
        assert "can complete this action item" in said(r, "U0KATHERINE")
        assert "can reassign this action item" in said(r, "U0KATHERINE")
        stored = await items(r)
        assert stored[1].status == "open" and stored[3].assignee_id is None
        assert await events(r) == []

        # Grace is in the channel: Ada's item is hers to close too. Linus, an admin, reopens it.
        await click(r, parent, ACTION_DONE, 1, user="U0GRACE")
        await r.drain()
        assert (await items(r))[1].status == "done"
        await click(r, current(r, parent), ACTION_REOPEN, 1, user="U0LINUS")
        await r.drain()
        assert (await items(r))[1].status == "open"
        assert [(e.kind, e.actor) for e in await events(r)] == [
            ("done", "U0GRACE"),
            ("reopen", "U0LINUS"),
        ]
        assert said(r, "U0GRACE") == "" and said(r, "U0LINUS") == ""


async def test_from_the_home_tab(database_url: str) -> None:
    async with rig(database_url) as r:
        await deliver(r, product_sync(), PRIVATE)
        ada_item = (await items(r))[1].id
        await katherines_item(r)

        home = await open_home(r, "U0KATHERINE")
        row = block_with(home, "Benchmark the queue")
        await forged(r, home, ACTION_DONE, row["block_id"], ada_item, "U0KATHERINE")

        def notice() -> str:
            return "\n".join(lines(r.slack.home("U0KATHERINE") or home))

        await eventually(r, lambda: REFUSED in notice())
        assert WHY in notice()
        assert (await items(r))[1].status == "open"

        # Grace's Home tab lists only her own item; the same click on Ada's item from it is
        # allowed, as it is from the digest: she is in the digest's channel.
        grace = await open_home(r, "U0GRACE")
        row = block_with(grace, "Fix the reminder time zones")
        await forged(r, grace, ACTION_DONE, row["block_id"], ada_item, "U0GRACE")
        await eventually(r, lambda: r.slack.calls_of("chat.update") != [])
        await r.drain()
        assert (await items(r))[1].status == "done"
        assert [(e.kind, e.actor) for e in await events(r)][-1] == ("done", "U0GRACE")


async def test_from_a_dm(database_url: str) -> None:
    async with rig(database_url) as r:
        r.slack.workspace.users["U0LINUS"].is_admin = True
        await deliver(r, product_sync(), PRIVATE)
        ada_item = (await items(r))[1].id
        dm = await katherines_item(r)
        block = "action_items.dm"

        # Her DM's Done button, made to name Ada's private item: refused, in the DM.
        await forged(r, dm, ACTION_DONE, block, ada_item, "U0KATHERINE")
        await eventually(r, lambda: REFUSED in said(r, "U0KATHERINE"))
        assert WHY in said(r, "U0KATHERINE")
        assert (await items(r))[1].status == "open"

        # Her own item, from the same DM: done.
        await click_dm(r, dm, ACTION_DONE, "U0KATHERINE")
        await r.drain()
        eng = await items(r, "eng-1")
        assert eng[3].status == "done" and eng[3].closed_by == "U0KATHERINE"

        # An admin outside the channel may, from a DM as anywhere else.
        await forged(r, dm, ACTION_DONE, block, ada_item, "U0LINUS")
        await r.drain()
        assert (await items(r))[1].status == "done"
        assert [(e.kind, e.actor) for e in await events(r)][-1] == ("done", "U0LINUS")


async def click_dm(r: Rig, dm: Message, action_id: str, user: str) -> None:
    found = r.slack.workspace.find(dm.channel, dm.ts)
    assert found is not None
    delivery = await r.slack.click(app_url(r), found, action_id, user_id=user)
    assert delivery.status == 200, delivery.body
