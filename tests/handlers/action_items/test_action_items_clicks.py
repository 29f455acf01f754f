"""Clicks on a digest's item controls, signed like Slack's block_actions, against the Slack
stand-in and a real database: what is stored, what the digest shows and who is told.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from urllib.parse import urlencode

from bot.blockkit import slack_day
from handlers.action_items.jobs import GONE_TEXT, JOB_APPLY
from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE, ACTION_DUE, ACTION_REOPEN
from sandbox.slack import Message, driver
from tests.handlers.action_items.support import (
    CHANNEL,
    app_url,
    click,
    controls,
    current,
    deliver,
    events,
    item_section,
    item_text,
    items,
    jobs_of,
    product_sync,
    rig,
    said,
    settle,
)
from tests.handlers.digest.support import Rig, text_of


async def test_provider_suggestions_are_preassigned_by_email(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        assert "👤 <@U0ADA> · _suggested by Otter.ai_" in item_text(parent, 1)
        assert item_section(parent, 1)["accessory"] == {
            "type": "users_select",
            "action_id": ACTION_ASSIGN,
            "placeholder": {"type": "plain_text", "text": "Assign"},
            "initial_user": "U0ADA",
        }
        assert "<@U0GRACE>" in item_text(parent, 2)
        # Nobody in Slack has Alex's email: unassigned, with the provider's name shown.
        assert "👤 _unassigned_ (Otter.ai: Alex Taylor)" in item_text(parent, 3)
        assert "initial_user" not in item_section(parent, 3)["accessory"]
        assert item_text(parent, 4).startswith("✅ ~Update the guide~")
        assert [e["action_id"] for e in controls(parent, 4)] == [ACTION_REOPEN, ACTION_DUE]
        looked_up = sorted(c["email"] for c in r.slack.calls_of("users.lookupByEmail"))
        assert looked_up == ["ada@example.com", "alex@acme.example", "grace@example.com"]

        stored = await items(r)
        assert stored[1].assignee_id == "U0ADA" and stored[1].suggested
        assert stored[1].assigned_by is None and stored[1].assigned_at is not None
        assert stored[3].assignee_id is None and stored[3].provider_assignee_name == "Alex Taylor"
        assert stored[4].status == "done" and stored[4].closed_by is None

        # Delivered again (a webhook retry, another channel): nothing is looked up again.
        await deliver(r, product_sync(), "C0ENG")
        assert len(r.slack.calls_of("users.lookupByEmail")) == 3


async def test_assign_reassign_close_reopen_and_due_date(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        posts_before = len(r.slack.calls_of("chat.postMessage"))

        await click(r, parent, ACTION_ASSIGN, 3, user="U0ALAN", selected_user="U0GRACE")
        await r.drain()
        shown = current(r, parent)
        assert "👤 <@U0GRACE> · _assigned by <@U0ALAN>_" in item_text(shown, 3)
        assert item_section(shown, 3)["accessory"]["initial_user"] == "U0GRACE"
        (dm,) = r.slack.dms("U0GRACE")
        body = text_of(dm.blocks)
        assert "<@U0ALAN> assigned you an action item" in body
        assert "Benchmark the queue" in body and "Weekly product sync" in body
        permalink = dm.blocks[0]["accessory"]["url"]
        assert f"/archives/{CHANNEL}/p{parent.ts.replace('.', '')}" in permalink
        assert r.slack.dms("U0ALAN") == [], "nobody is told what they did themselves"

        await click(r, parent, ACTION_ASSIGN, 3, user="U0ALAN", selected_user="U0ADA")
        await r.drain()
        assert "👤 <@U0ADA> · _assigned by <@U0ALAN>_" in item_text(current(r, parent), 3)
        assert "assigned you an action item" in text_of(r.slack.dms("U0ADA")[-1].blocks)
        moved = text_of(r.slack.dms("U0GRACE")[-1].blocks)
        assert (
            "<@U0ALAN> reassigned your action item from *Weekly product sync* to <@U0ADA>" in moved
        )

        await click(r, parent, ACTION_DONE, 3, user="U0ADA")
        await r.drain()
        shown = current(r, parent)
        assert item_text(shown, 3).startswith("✅ ~Benchmark the queue~")
        assert "done by <@U0ADA>" in item_text(shown, 3)
        assert controls(shown, 3)[0]["action_id"] == ACTION_REOPEN
        assert "(4, 2 done)" in text_of(shown.blocks)
        assert len(r.slack.dms("U0ADA")) == 1, "Ada closed it herself"

        await click(r, parent, ACTION_REOPEN, 3, user="U0ALAN")
        await r.drain()
        assert item_text(current(r, parent), 3).startswith("◻️ Benchmark the queue")
        assert "_reopened by <@U0ALAN>_" in item_text(current(r, parent), 3)
        assert "<@U0ALAN> reopened your action item from" in text_of(
            r.slack.dms("U0ADA")[-1].blocks
        )

        await click(r, parent, ACTION_DUE, 3, user="U0GRACE", selected_date="2026-11-27")
        await r.drain()
        shown = current(r, parent)
        assert f"📅 due {slack_day(date(2026, 11, 27))}, _set by <@U0GRACE>_" in item_text(shown, 3)
        assert controls(shown, 3)[1]["initial_date"] == "2026-11-27"
        due_dm = text_of(r.slack.dms("U0ADA")[-1].blocks)
        assert (
            "<@U0GRACE> set the due date of your action item from *Weekly product sync* to "
            f"{slack_day(date(2026, 11, 27))}"
        ) in due_dm

        stored = (await items(r))[3]
        assert (stored.assignee_id, stored.assigned_by, stored.status, stored.due) == (
            "U0ADA",
            "U0ALAN",
            "open",
            date(2026, 11, 27),
        )
        assert stored.version == 6
        kinds = [(e.kind, e.actor, e.before, e.after) for e in await events(r)]
        assert kinds == [
            ("assign", "U0ALAN", None, "U0GRACE"),
            ("assign", "U0ALAN", "U0GRACE", "U0ADA"),
            ("done", "U0ADA", "open", "done"),
            ("reopen", "U0ALAN", "done", "open"),
            ("due", "U0GRACE", None, "2026-11-27"),
        ]
        # One digest, updated in place for everyone; the only posts since are the DMs.
        assert len(r.slack.messages(CHANNEL)) == 1
        assert len(r.slack.calls_of("chat.update")) == 5
        dms = sum(len(r.slack.dms(u)) for u in ("U0ADA", "U0GRACE", "U0ALAN"))
        assert len(r.slack.calls_of("chat.postMessage")) == posts_before + dms
        assert said(r, "U0ALAN") == "" and said(r, "U0ADA") == ""


async def test_items_in_the_thread_have_controls_too(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        parent = await deliver(r, product_sync(extra=20))
        (reply,) = r.slack.thread(CHANNEL, parent.ts)[1:2]
        assert "Extra task 6" in item_text(reply, 11)
        await click(r, reply, ACTION_ASSIGN, 11, user="U0ADA", selected_user="U0KATHERINE")
        await r.drain()
        assert "<@U0KATHERINE>" in item_text(current(r, reply), 11)
        link = r.slack.dms("U0KATHERINE")[0].blocks[0]["accessory"]["url"]
        assert f"p{reply.ts.replace('.', '')}" in link, "the link opens the reply with the item"


async def test_two_assignments_racing_leave_one_consistent_state(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        people = ["U0GRACE", "U0ALAN", "U0KATHERINE", "U0LINUS"]
        await asyncio.gather(
            *(click(r, parent, ACTION_ASSIGN, 3, user="U0ADA", selected_user=p) for p in people)
        )
        await asyncio.gather(*(r.drain() for _ in range(4)))  # four workers at once
        await settle(r)

        stored = (await items(r))[3]
        chain = [(e.before, e.after) for e in await events(r)]
        assert len(chain) == 4 and stored.version == 5
        # Applied one after the other: each change starts where the previous one left off.
        assert chain[0][0] is None
        assert all(chain[n][0] == chain[n - 1][1] for n in range(1, 4))
        assert stored.assignee_id == chain[-1][1]
        shown = current(r, parent)
        assert item_section(shown, 3)["accessory"]["initial_user"] == stored.assignee_id
        assert f"👤 <@{stored.assignee_id}>" in item_text(shown, 3)


async def test_the_same_click_delivered_twice_changes_things_once(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        # Slack's exact block_actions body, delivered twice, and once more after a later change;
        # signed anew each time, as Slack signs a redelivery (the same signature twice is a
        # replay, refused before any listener: tests/security/test_requests.py).
        body = assign_payload(r, current(r, parent), "U0GRACE", user="U0ADA")
        stamp = int(time.time())
        redelivered = [await r.slack.deliver(app_url(r), body, timestamp=stamp - n) for n in (2, 1)]
        assert [d.status for d in redelivered] == [200, 200]
        await r.drain()
        await click(r, parent, ACTION_ASSIGN, 3, user="U0ADA", selected_user="U0ALAN")
        await r.drain()
        assert (await r.slack.deliver(app_url(r), body, timestamp=stamp)).status == 200
        await r.drain()

        assert len(await jobs_of(r, JOB_APPLY)) == 2
        assert [(e.before, e.after) for e in await events(r)] == [
            (None, "U0GRACE"),
            ("U0GRACE", "U0ALAN"),
        ]
        assert (await items(r))[3].assignee_id == "U0ALAN", "the stale repeat changed nothing"
        assert len(r.slack.dms("U0GRACE")) == 2  # assigned, then reassigned: once each
        assert "<@U0ALAN>" in item_text(current(r, parent), 3)


def assign_payload(r: Rig, message: Message, person: str, *, user: str) -> bytes:
    """The form body Slack posts when ``user`` picks ``person`` for item 3."""
    ws = r.slack.workspace
    block_id, element = driver.find_element(message.blocks, ACTION_ASSIGN, "digest.item.3")
    state = driver.enter(ws, message, ACTION_ASSIGN, person, block_id)[2]
    action = driver.action(element, block_id, state, ws.next_ts())
    payload = driver.block_actions(
        ws, message, action, user_id=user, verification_token=r.slack.verification_token
    )
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_a_click_on_a_deleted_digest_is_saved_and_answered(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        stale = current(r, parent)
        await r.services.slack.client.chat_delete(channel=CHANNEL, ts=parent.ts)
        delivery = await r.slack.click(
            app_url(r),
            stale,
            ACTION_DONE,
            block_id="digest.controls.1",
            user_id="U0GRACE",
        )
        assert delivery.status == 200
        await r.drain()
        assert (await items(r))[1].status == "done"
        assert GONE_TEXT in said(r, "U0GRACE")
        assert r.slack.messages(CHANNEL) == [], "a deleted digest is not posted again"
        assert "<@U0GRACE> marked your action item from *Weekly product sync* done" in text_of(
            r.slack.dms("U0ADA")[0].blocks
        )
