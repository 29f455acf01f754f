"""Storing every provider's items at delivery: what a redelivery keeps, what it drops, and the
``users.lookupByEmail`` cache."""

from __future__ import annotations

from bot.meetings import ActionItem, Meeting
from handlers.action_items import repo
from handlers.digest.items import ACTION_ASSIGN
from tests.handlers.action_items.support import (
    Clock,
    click,
    current,
    deliver,
    item_text,
    items,
    product_sync,
    rig,
)


def todos(*texts: str, ids: bool = True) -> Meeting:
    """A Claritalk-like meeting; without ids its items are known by their place."""
    return Meeting(
        provider="claritalk",
        meeting_id="c-1",
        title="Claritalk retro",
        action_items=[
            ActionItem(
                text=text,
                assignee_email="grace@example.com" if "Grace" in text else None,
                provider_id=text.split(":")[0] if ids else None,
            )
            for text in texts
        ],
    )


async def test_a_redelivery_keeps_what_people_did_and_drops_what_is_gone(database_url: str) -> None:
    async with rig(database_url) as r:
        parent = await deliver(r, todos("a: Plan", "b: Build", "c: Ship"))
        await click(r, parent, ACTION_ASSIGN, 2, user="U0ADA", selected_user="U0ALAN")
        await r.drain()

        # The provider processed the meeting again: "b" reworded and first, "a" and "c" gone.
        await deliver(r, todos("b: Build it properly", "d: Document, Grace"))
        shown = current(r, parent)
        assert "Build it properly" in item_text(shown, 1)
        assert "👤 <@U0ALAN> · _assigned by <@U0ADA>_" in item_text(shown, 1)
        assert "<@U0GRACE> · _suggested by Claritalk_" in item_text(shown, 2)
        stored = await items(r, "c-1")
        assert sorted(k for k in stored if k > 0) == [1, 2]
        assert sorted(row.item_key for row in stored.values() if row.position is None) == [
            "id:a",
            "id:c",
        ]
        assert [i.text for i in await repo.open_items_of(r.services.sessions, "U0ALAN")] == [
            "b: Build it properly"
        ]


async def test_items_without_ids_are_known_by_their_place(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        parent = await deliver(r, todos("Plan", "Build", ids=False))
        await click(r, parent, ACTION_ASSIGN, 1, user="U0ADA", selected_user="U0ALAN")
        await r.drain()
        await deliver(r, todos("Plan well", "Build", "Ship", ids=False))
        shown = current(r, parent)
        assert "Plan well" in item_text(shown, 1) and "<@U0ALAN>" in item_text(shown, 1)
        assert "_unassigned_" in item_text(shown, 3)


async def test_email_lookups_are_cached_a_miss_for_less_long(sqlite_url: str) -> None:
    clock = Clock()
    async with rig(sqlite_url, clock=clock) as r:
        await deliver(r, product_sync("m1"))
        assert len(r.slack.calls_of("users.lookupByEmail")) == 3
        await deliver(r, product_sync("m2"))
        assert len(r.slack.calls_of("users.lookupByEmail")) == 3, "all three remembered"
        clock.advance(hours=2)
        await deliver(r, product_sync("m3"))
        asked = [c["email"] for c in r.slack.calls_of("users.lookupByEmail")[3:]]
        assert asked == ["alex@acme.example"], "only the miss is asked again after an hour"
        clock.advance(days=1)
        await deliver(r, product_sync("m4"))
        assert len(r.slack.calls_of("users.lookupByEmail")) == 7


async def test_a_failing_lookup_leaves_the_item_unassigned_and_uncached(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        r.slack.fail(
            r"^/api/users\.lookupByEmail$",
            status=200,
            times=3,
            body={
                "ok": False,
                "error": "fatal_error",
            },
        )
        parent = await deliver(r, product_sync("m1"))
        assert "_unassigned_ (Otter.ai: Ada Lovelace)" in item_text(parent, 1)
        await deliver(r, product_sync("m2"))
        assert "<@U0ADA> · _suggested by Otter.ai_" in item_text(
            r.slack.messages("C0MEETINGS")[-1], 1
        )
