"""The digest's item controls: a pure function of the meeting and the stored states, within
Slack's limits however many items, and the blocks the pages of the Home tab and DMs use.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.meetings import ActionItem, Meeting
from handlers.action_items.blocks import build_home_view, build_reminder, build_todo_reply
from handlers.action_items.repo import ItemState
from handlers.digest.items import (
    ACTION_ASSIGN,
    ACTION_DONE,
    ACTION_DUE,
    ACTION_REOPEN,
    ItemView,
    item_number,
    item_part,
    thread_part,
)
from handlers.digest.limits import MESSAGE_BLOCKS
from handlers.digest.render import render_digest
from sandbox.slack import validate_blocks, validate_view
from tests.handlers.digest.support import huge_meeting, problems, text_of


def views(count: int) -> dict[int, ItemView]:
    return {
        n: ItemView(
            item_id=n,
            done=n % 5 == 0,
            assignee="U0ADA" if n % 2 else None,
            suggested=n % 3 == 0,
            assigned_by="U0GRACE" if n % 2 and n % 3 else None,
            closed_by="U0ALAN" if n % 5 == 0 else None,
            due=date(2026, 12, n % 28 + 1) if n % 4 == 0 else None,
        )
        for n in range(1, count + 1)
    }


def test_the_huge_meeting_with_controls_fits_every_message() -> None:
    big = huge_meeting()
    digest = render_digest(big, views(len(big.action_items)))
    parts = [digest.parent, *digest.thread]
    for part in parts:
        assert problems(part) == [], part.text
        assert len(part.blocks) <= MESSAGE_BLOCKS
    # Each item is in the part item_part says, with its controls right under it.
    names = {"digest": digest.parent} | {thread_part(n): p for n, p in enumerate(digest.thread, 1)}
    for number in range(1, len(big.action_items) + 1):
        blocks = names[item_part(number)].blocks
        ids = [b.get("block_id") for b in blocks]
        at = ids.index(f"digest.item.{number}")
        assert ids[at + 1] == f"digest.controls.{number}"


def test_controls_follow_the_stored_state() -> None:
    meeting = Meeting(
        provider="claritalk",
        meeting_id="m",
        title="Retro",
        action_items=[ActionItem(text="Open one"), ActionItem(text="Closed one", status="open")],
    )
    states = {
        1: ItemView(item_id=7, due=date(2026, 11, 27)),
        2: ItemView(item_id=8, done=True, assignee="U0ADA", assigned_by="U0GRACE"),
    }
    blocks = render_digest(meeting, states).parent.blocks
    first = next(b for b in blocks if b.get("block_id") == "digest.controls.1")["elements"]
    assert [(e["action_id"], e.get("value")) for e in first] == [
        (ACTION_DONE, "7"),
        (ACTION_DUE, None),
    ]
    assert first[1]["initial_date"] == "2026-11-27"
    second = next(b for b in blocks if b.get("block_id") == "digest.item.2")
    # The stored state wins over the provider's: people closed it in Slack.
    assert second["text"]["text"] == (
        "✅ ~Closed one~\n👤 <@U0ADA> · _assigned by <@U0GRACE>_ · done"
    )
    assert second["accessory"]["action_id"] == ACTION_ASSIGN
    controls = next(b for b in blocks if b.get("block_id") == "digest.controls.2")
    assert controls["elements"][0]["action_id"] == ACTION_REOPEN
    assert "(2, 1 done)" in text_of(blocks)
    assert render_digest(meeting, states) == render_digest(meeting, dict(states))


def test_items_without_a_stored_state_are_plain_lines() -> None:
    meeting = Meeting(
        provider="otter", meeting_id="m", title="T", action_items=[ActionItem(text="A")]
    )
    (section,) = [b for b in render_digest(meeting).parent.blocks if b.get("block_id")]
    assert section == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "◻️ A"},
        "block_id": "digest.item.1",
    }


@pytest.mark.parametrize(
    ("block_id", "number"),
    [
        ("digest.item.3", 3),
        ("digest.controls.120", 120),
        ("digest.item.0", None),
        ("digest.item.-1", None),
        ("digest.item.1x", None),
        ("digest.items.1", None),
        ("", None),
    ],
)
def test_item_numbers_are_read_strictly(block_id: str, number: int | None) -> None:
    assert item_number(block_id) == number


def state(n: int, *, due: date | None = None, meeting: str = "m1", **fields: object) -> ItemState:
    values: dict[str, object] = {
        "id": n,
        "provider": "otter",
        "meeting_id": meeting,
        "position": n,
        "meeting_title": f"Meeting {meeting}",
        "text": f"Task {n} <script>",
        "provider_assignee": None,
        "assignee": "U0ADA",
        "suggested": False,
        "assigned_by": None,
        "due": due,
        "status": "open",
        "closed_by": None,
        "version": 1,
        "created_at": datetime(2026, 11, 1),
    }
    values.update(fields)
    return ItemState(**values)  # type: ignore[arg-type]


def test_the_home_tab_stays_within_a_views_limits_however_long_the_list() -> None:
    today = date(2026, 11, 23)
    own = [state(n, meeting=f"m{n % 30}", due=date(2026, 11, n % 28 + 1)) for n in range(1, 200)]
    assigned = [state(1000 + n, assignee="U0GRACE", assigned_by="U0ADA") for n in range(40)]
    view = build_home_view(
        today=today,
        own=own,
        assigned=assigned,
        links={},
        reminders_on=True,
        reminder_hour=9,
        notice="x" * 3000,
    )
    assert validate_view(view) == []
    text = text_of(view["blocks"])
    assert "`/debrief todo` lists them all" in text and "&lt;script&gt;" in text
    assert "<script>" not in text


def test_messages_listing_items_stay_within_a_messages_limits() -> None:
    today = date(2026, 11, 23)
    items = [state(n, meeting=f"m{n}", text="word " * 400) for n in range(1, 80)]
    for build in (build_todo_reply, build_reminder):
        text, blocks = build(items, today, {})
        assert validate_blocks(blocks) == [] and len(blocks) <= MESSAGE_BLOCKS
        assert "79 open action items" in text
