"""The App Home tab (``app_home_opened`` → ``views.publish``) and `/debrief todo`."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from bot.blockkit import slack_day
from handlers.action_items.blocks import ACTION_OPEN_DIGEST, ACTION_REMINDERS
from handlers.action_items.repo import reminders_enabled
from handlers.digest.items import ACTION_ASSIGN, ACTION_DONE
from sandbox.slack import View
from tests.handlers.action_items.support import (
    Clock,
    app_url,
    click,
    current,
    deliver,
    item_text,
    items,
    product_sync,
    rig,
    set_due,
)
from tests.handlers.digest.support import Rig, text_of


def lines(view: View) -> list[str]:
    """Each block's text, in order."""
    return [text_of([block]) for block in view.blocks]


def block_with(view: View, words: str) -> dict[str, Any]:
    return next(b for b in view.blocks if words in text_of([b]))


async def open_home(r: Rig, user: str) -> View:
    published = len(r.slack.calls_of("views.publish"))
    delivery = await r.slack.open_home(app_url(r), user)
    assert delivery.status == 200, delivery.body
    # Bolt answers an event before its listener runs: wait for the job it enqueues.
    async with asyncio.timeout(5):
        while len(r.slack.calls_of("views.publish")) == published:
            await r.drain()
            await asyncio.sleep(0.01)
    view = r.slack.home(user)
    assert view is not None, "no Home tab was published"
    return view


async def test_home_lists_open_items_by_meeting_overdue_first(database_url: str) -> None:
    async with rig(database_url, clock=Clock()) as r:  # Monday 23 November, 08:30 UTC
        first = await deliver(r, product_sync("sync-1", title="Monday planning"))
        await deliver(r, product_sync("sync-2", title="Design review"), "C0ENG")
        await set_due(r, "sync-2", 1, date(2026, 11, 20))  # Ada's, overdue
        await set_due(r, "sync-1", 1, date(2026, 11, 23))  # Ada's, due today (London)
        await click(r, first, ACTION_ASSIGN, 3, user="U0ADA", selected_user="U0GRACE")
        await r.drain()

        home = await open_home(r, "U0ADA")
        text = lines(home)
        overdue = next(n for n, t in enumerate(text) if "🔴 *overdue*" in t)
        today = next(n for n, t in enumerate(text) if "🟡 *due today*" in t)
        assert overdue < today, "overdue first"
        assert "*Design review* · Otter.ai" in text[overdue - 1]
        assert "*Monday planning* · Otter.ai" in text[today - 1]
        assert "2 open items (1 overdue, 1 due today)" in "\n".join(text)
        row = block_with(home, "Write the rollout plan")  # the overdue one, first
        assert "/archives/C0ENG/p" in row["text"]["text"]
        assert "|open in the digest>" in row["text"]["text"]
        done = row["accessory"]
        assert done["action_id"] == ACTION_DONE and done["value"].isdigit()
        opener = block_with(home, "*Design review*")["accessory"]
        assert opener["action_id"] == ACTION_OPEN_DIGEST
        assert "/archives/C0ENG/p" in opener["url"]
        mine = "\n".join(text[text.index("*Assigned by you to others*") :])
        assert "Benchmark the queue — <@U0GRACE>" in mine
        assert "Fix the reminder time zones" not in mine, "suggested by Otter, not by Ada"
        assert "Turn off" in json.dumps(block_with(home, "Daily reminder"))

        # Grace, in New York, sees her own list: the item Ada gave her and Otter's suggestions.
        grace = "\n".join(lines(await open_home(r, "U0GRACE")))
        assert "Benchmark the queue" in grace and "Fix the reminder time zones" in grace
        assert "Write the rollout plan" not in grace


async def test_done_from_home_updates_the_digest_and_the_tab(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, product_sync())
        home = await open_home(r, "U0ADA")
        row = block_with(home, "Write the rollout plan")
        delivery = await r.slack.click(
            app_url(r), home, ACTION_DONE, block_id=row["block_id"], user_id="U0ADA"
        )
        assert delivery.status == 200
        await r.drain()
        assert (await items(r))[1].status == "done"
        assert item_text(current(r, parent), 1).startswith("✅ ~Write the rollout plan~")
        after = "\n".join(lines(r.slack.home("U0ADA") or home))
        assert "Write the rollout plan" not in after
        assert "Nothing open on your list" in after


async def test_reminders_can_be_turned_off_and_on_from_home(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        await deliver(r, product_sync())
        home = await open_home(r, "U0ADA")
        toggle = block_with(home, "Daily reminder")
        await r.slack.click(
            app_url(r), home, ACTION_REMINDERS, block_id=toggle["block_id"], user_id="U0ADA"
        )
        await r.drain()
        assert not await reminders_enabled(r.services.sessions, "U0ADA")
        home = r.slack.home("U0ADA") or home
        assert "*Daily reminder* is off" in text_of([block_with(home, "Daily reminder")])
        toggle = block_with(home, "Daily reminder")
        assert toggle["accessory"]["text"]["text"] == "Turn on"
        await r.slack.click(
            app_url(r), home, ACTION_REMINDERS, block_id=toggle["block_id"], user_id="U0ADA"
        )
        await r.drain()
        assert await reminders_enabled(r.services.sessions, "U0ADA")


async def test_the_messages_tab_publishes_nothing(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        event = {"type": "app_home_opened", "user": "U0ADA", "channel": "D0ADA", "tab": "messages"}
        assert (await r.slack.event(app_url(r), event)).status == 200
        await open_home(r, "U0ADA")
        assert len(r.slack.calls_of("views.publish")) == 1, "for the Home tab only"


async def test_todo_lists_the_callers_open_items(sqlite_url: str) -> None:
    async with rig(sqlite_url, clock=Clock()) as r:
        await deliver(r, product_sync())
        await set_due(r, "sync-1", 2, date(2026, 11, 2))
        delivery = await r.slack.command(
            app_url(r), "/debrief", "todo", user_id="U0GRACE", channel_id="C0ENG"
        )
        assert delivery.body == "", "the list is the answer"
        await r.drain()
        answer = r.slack.ephemerals("U0GRACE")[-1]
        assert answer.text == "You have 1 open action item (1 overdue)"
        shown = text_of(answer.blocks)
        assert (
            f"Fix the reminder time zones — 🔴 *overdue* (was due {slack_day(date(2026, 11, 2))})"
            in shown
        )
        assert "/archives/C0MEETINGS/p" in shown, "a link to the digest"

        await r.slack.command(app_url(r), "/debrief", "todo", user_id="U0KATHERINE")
        await r.drain()
        assert "no open action items" in r.slack.ephemerals("U0KATHERINE")[-1].text
