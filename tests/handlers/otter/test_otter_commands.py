"""`/debrief summary` and `/debrief recent`, typed in the Slack stand-in and signed like Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from handlers.otter.blocks import ACTION_POST_DIGEST
from handlers.otter.jobs import JOB_AWAIT
from sandbox.otter import ADA_EMAIL, ALAN_EMAIL, GRACE_EMAIL, OtterStandIn
from sandbox.slack import Delivery
from tests.handlers.digest.support import Rig, rig, text_of

CHANNEL = "C0ENG"


@pytest.fixture
async def otter() -> AsyncIterator[OtterStandIn]:
    async with OtterStandIn(seed=False, requests_per_second=None) as stand_in:
        yield stand_in


async def command(r: Rig, text: str, user: str = "U0ADA", channel: str = CHANNEL) -> Delivery:
    app_url = str(r.client.make_url("")).rstrip("/")
    delivery = await r.slack.command(app_url, "/debrief", text, user_id=user, channel_id=channel)
    assert delivery.status == 200, delivery.body
    return delivery


def said(r: Rig, user: str = "U0ADA") -> str:
    return "\n".join(e.text + "\n" + text_of(e.blocks) for e in r.slack.ephemerals(user))


async def test_summary_posts_the_digest_here_with_one_fetch(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation(
        "Weekly product sync",
        processing=False,
        summary="We shipped.",
        action_items=[("Ship", None)],
    )
    async with rig(sqlite_url, otter) as r:
        answer = await command(r, f"summary <https://otter.ai/u/{conversation_id}?tab=summary>")
        assert answer.body == "", "the digest is the answer"
        await r.drain()
        (parent,) = r.slack.messages(CHANNEL)
        assert "Weekly product sync" in text_of(parent.blocks)
        (fetch,) = otter.calls
        assert fetch.query == {"include": "action_items,insights,outlines,transcript"}

        await command(r, f"summary {conversation_id}")
        await r.drain()
        assert len(r.slack.messages(CHANNEL)) == 1
        assert "already in this channel, up to date" in said(r)


async def test_summary_of_a_conversation_still_processing(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation("Design review", summary="Layout settled.")
    async with rig(sqlite_url, otter) as r:
        await command(r, f"summary {conversation_id}")
        await r.drain()
        assert "not ready yet" in said(r) and "post the digest here" in said(r)
        assert r.slack.messages(CHANNEL) == []
        await command(r, f"summary {conversation_id}")
        await r.drain()
        assert "already waiting" in said(r)
        assert len(await r.jobs(JOB_AWAIT)) == 1
        await otter.finish_processing(conversation_id)
        await r.make_due()
        await r.drain()
        (parent,) = r.slack.messages(CHANNEL)
        assert "Layout settled." in text_of(parent.blocks)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("summary", "Usage: `/debrief summary &lt;otter-url-or-id&gt;`"),
        ("summary https://example.com/u/abc", "is not an Otter conversation"),
        ("summary https://otter.ai/u/a/b", "is not an Otter conversation"),
    ],
)
async def test_summary_refuses_what_is_not_a_conversation(
    sqlite_url: str, otter: OtterStandIn, text: str, answer: str
) -> None:
    async with rig(sqlite_url, otter) as r:
        delivery = await command(r, text)
        assert answer in delivery.json["text"]
        assert await r.jobs("otter.summary") == []


async def test_summary_without_otter_configured(sqlite_url: str) -> None:
    async with rig(sqlite_url) as r:
        assert "OTTER_API_KEY" in (await command(r, "summary abc")).json["text"]


async def test_summary_of_an_unknown_conversation(sqlite_url: str, otter: OtterStandIn) -> None:
    async with rig(sqlite_url, otter) as r:
        await command(r, "summary doesNotExist42")
        await r.drain()
        assert "cannot find the Otter.ai conversation `doesNotExist42`" in said(r)


async def test_summary_where_debrief_cannot_post_says_how_to_fix_it(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation("Sync", processing=False)
    async with rig(sqlite_url, otter) as r:
        await command(r, f"summary {conversation_id}", channel="C0HR")
        await r.drain()
        assert "/invite @Debrief" in said(r)


async def test_recent_lists_the_callers_ten_and_posts_one_on_click(
    sqlite_url: str, otter: OtterStandIn
) -> None:
    now = datetime.now(UTC)
    for n in range(12):
        otter.add_conversation(f"Ada's {n}", created_at=now - timedelta(hours=n), processing=n == 0)
    otter.add_conversation("Grace alone", owner=GRACE_EMAIL, created_at=now, processing=False)
    otter.add_conversation(
        "Grace with Ada",
        owner=GRACE_EMAIL,
        guests=[ADA_EMAIL],
        created_at=now - timedelta(minutes=90),
        processing=False,
    )
    async with rig(sqlite_url, otter) as r:
        assert (await command(r, "recent")).body == "", "the list is the answer"
        await r.drain()
        listing = r.slack.ephemerals("U0ADA")[-1]
        assert listing.blocks[0]["text"]["text"] == "*Your recent Otter.ai conversations*"
        assert listing.text == "10 recent Otter.ai conversations"
        shown = [b for b in listing.blocks if b.get("block_id", "").startswith("otter.recent.")]
        names = [b["text"]["text"].split("|", 1)[1].split(">", 1)[0] for b in shown]
        assert names == [
            "Ada's 0",
            "Ada's 1",
            "Grace with Ada",
            *(f"Ada's {n}" for n in range(2, 9)),
        ]
        assert "still processing" in shown[0]["text"]["text"]
        assert all(b["accessory"]["text"]["text"] == "Post digest here" for b in shown)

        await r.slack.click(
            str(r.client.make_url("")).rstrip("/"),
            listing,
            ACTION_POST_DIGEST,
            block_id="otter.recent.2",
            user_id="U0ADA",
        )
        await r.drain()
        (parent,) = r.slack.messages(CHANNEL)
        assert "Ada's 1" in text_of(parent.blocks)


async def test_a_digest_in_a_private_channel_is_not_posted_elsewhere_by_an_outsider(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation(
        "Board prep", owner=ALAN_EMAIL, processing=False, summary="Numbers are down."
    )
    async with rig(database_url, otter) as r:
        await command(r, f"summary {conversation_id}", user="U0ADA", channel="C0LEADERSHIP")
        await r.drain()
        assert len(r.slack.messages("C0LEADERSHIP")) == 1

        # Katherine is neither in #leadership nor the conversation's owner in Otter.
        await command(r, f"summary {conversation_id}", user="U0KATHERINE", channel=CHANNEL)
        await r.drain()
        assert r.slack.messages(CHANNEL) == []
        assert "in a channel you are not in" in said(r, "U0KATHERINE")

        # Alan, not in #leadership, owns it in Otter: he may; so may Ada, a member of it.
        await command(r, f"summary {conversation_id}", user="U0ALAN", channel="C0GENERAL")
        await r.drain()
        assert len(r.slack.messages("C0GENERAL")) == 1
        await command(r, f"summary {conversation_id}", user="U0ADA", channel=CHANNEL)
        await r.drain()
        assert len(r.slack.messages(CHANNEL)) == 1
        assert "Numbers are down" in text_of(r.slack.messages(CHANNEL)[0].blocks)
