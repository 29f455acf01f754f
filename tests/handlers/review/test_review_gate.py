"""Review before sharing: an external meeting's digest goes to its owner first, and reaches a
channel only after *Share*. Driven like Slack drives Debrief: `/debrief summary` typed in the
Slack stand-in against the Otter stand-in, clicks and the modal signed like Slack's."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from handlers.digest import HeldForReview
from handlers.otter.mapping import RELATIONSHIPS, to_meeting
from handlers.review.blocks import (
    ACTION_EDIT,
    ACTION_PRIVATE,
    ACTION_SHARE,
    SUMMARY_INPUT,
)
from handlers.review.gate import JOB_DECIDE, DecideJob
from handlers.review.tables import DigestReview
from handlers.routing import publish_digest
from handlers.search.tables import StoredMeeting
from providers.otter import OtterClient
from sandbox.otter import OtterStandIn
from sandbox.slack import Delivery, Message
from tests.handlers.action_items.support import eventually, settle
from tests.handlers.digest.support import Rig, rig, text_of

CHANNEL = "C0ENG"
OUTSIDER = "alex.taylor@acme.example"
SUMMARY = "ACME wants automated summaries; we quoted per-seat pricing."


@pytest.fixture
async def otter() -> AsyncIterator[OtterStandIn]:
    async with OtterStandIn(seed=False, requests_per_second=None) as stand_in:
        yield stand_in


def acme_call(otter: OtterStandIn, *, guests: tuple[str, ...] = (OUTSIDER,)) -> str:
    """A processed conversation owned by Ada, with (by default) a guest from outside."""
    return otter.add_conversation(
        "Customer call with ACME",
        owner="ada@example.com",
        processing=False,
        guests=guests,
        summary=SUMMARY,
        action_items=[("Send the pricing summary", "grace@example.com")],
    )


def app_url(r: Rig) -> str:
    return str(r.client.make_url("")).rstrip("/")


async def summary(r: Rig, conversation_id: str, user: str = "U0ADA") -> None:
    delivery = await r.slack.command(
        app_url(r), "/debrief", f"summary {conversation_id}", user_id=user, channel_id=CHANNEL
    )
    assert delivery.status == 200, delivery.body
    await settle(r)


def posted(r: Rig, channel: str = CHANNEL) -> list[Message]:
    return [m for m in r.slack.messages(channel) if m.bot_id]


def review_message(r: Rig, user: str = "U0ADA") -> Message:
    (message,) = r.slack.dms(user)
    return message


def buttons(message: Message) -> list[str]:
    return [
        str(element.get("action_id"))
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


async def press(
    r: Rig, message: Message, action_id: str, user: str = "U0ADA", *, stale: bool = False
) -> Delivery:
    """Click a button of ``message`` as it is now (or, ``stale``, as given: a screen not yet
    refreshed)."""
    found = message if stale else r.slack.workspace.find(message.channel, message.ts)
    assert found is not None
    delivery = await r.slack.click(app_url(r), found, action_id, user_id=user)
    assert delivery.status == 200, delivery.body
    return delivery


def said(r: Rig, user: str) -> str:
    return "\n".join(e.text + "\n" + text_of(e.blocks) for e in r.slack.ephemerals(user))


async def reviews(r: Rig) -> list[DigestReview]:
    async with r.services.sessions() as session:
        return list((await session.execute(select(DigestReview))).scalars())


async def test_an_external_digest_goes_to_its_owner_and_not_the_channel(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        assert posted(r) == [], "nothing external is posted unseen"
        dm = review_message(r)
        shown = text_of(dm.blocks)
        assert "Customer call with ACME" in shown and SUMMARY in shown
        assert OUTSIDER in shown and f"<#{CHANNEL}>" in shown
        assert buttons(dm) == [ACTION_SHARE, ACTION_EDIT, ACTION_PRIVATE]
        assert "went to you, by DM, to review first" in said(r, "U0ADA")

        # Asked again: still one review, one DM, nothing in the channel.
        await summary(r, conversation_id)
        assert len(r.slack.dms("U0ADA")) == 1 and posted(r) == []
        assert len(await reviews(r)) == 1


async def test_share_posts_it_once_whoever_clicks_twice(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        dm = review_message(r)
        await press(r, dm, ACTION_SHARE)
        await press(r, dm, ACTION_SHARE)  # a double click
        await settle(r)
        # A second worker deciding the same (a decision that came another way): still once.
        (row,) = await reviews(r)
        await r.services.queue.submit(
            JOB_DECIDE, DecideJob(review_id=row.id, decision="share", user_id="U0ADA")
        )
        await settle(r)

        (parent,) = posted(r)
        assert SUMMARY in text_of(parent.blocks)
        parents = [c for c in r.slack.calls_of("chat.postMessage") if c["channel"] == CHANNEL]
        assert len([c for c in parents if not c.get("thread_ts")]) == 1, "posted once"
        dm = review_message(r)
        assert f"Shared in <#{CHANNEL}> by <@U0ADA>" in text_of(dm.blocks)
        assert buttons(dm) == [], "decided: no more buttons"


async def test_edit_summary_changes_what_is_shared(database_url: str, otter: OtterStandIn) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        await press(r, review_message(r), ACTION_EDIT)
        # The modal opens from the listener, which Bolt may finish after answering Slack.
        await eventually(r, lambda: r.slack.modals("U0ADA"))
        (modal,) = r.slack.modals("U0ADA")
        assert SUMMARY in str(modal.blocks)
        edited = "We met a prospect; details with Ada."
        delivery = await r.slack.view_submission(
            app_url(r), modal, values={SUMMARY_INPUT: edited}, user_id="U0ADA"
        )
        assert delivery.status == 200, delivery.body
        await settle(r)
        assert edited in text_of(review_message(r).blocks)
        assert posted(r) == [], "editing is not sharing"

        await press(r, review_message(r), ACTION_SHARE)
        await settle(r)
        (parent,) = posted(r)
        assert edited in text_of(parent.blocks)
        assert "per-seat pricing" not in text_of(parent.blocks)

        # Otter sends it again later (re-processed): the owner's summary stays.
        await summary(r, conversation_id)
        (parent,) = posted(r)
        assert edited in text_of(parent.blocks)


async def test_keep_private_never_posts_it_and_keeps_it_the_owners(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        before = copy.deepcopy(review_message(r))
        await press(r, before, ACTION_PRIVATE)
        await settle(r)
        assert posted(r) == []
        dm = review_message(r)
        assert "Kept private by <@U0ADA>" in text_of(dm.blocks) and buttons(dm) == []

        async with r.services.sessions() as session:
            (stored,) = (await session.execute(select(StoredMeeting))).scalars()
        assert stored.requester_id == "U0ADA" and stored.channel_id is None

        # A stale Share, and the same digest asked for again: never posted.
        await press(r, before, ACTION_SHARE, stale=True)
        await summary(r, conversation_id)
        assert posted(r) == []
        assert "already kept private" in said(r, "U0ADA")
        assert "kept private by its owner" in said(r, "U0ADA")


async def test_only_the_owner_may_decide(database_url: str, otter: OtterStandIn) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        message = review_message(r)
        for action in (ACTION_SHARE, ACTION_EDIT, ACTION_PRIVATE):
            await press(r, message, action, user="U0GRACE")
        await settle(r)
        refused = "Only the person this meeting belongs to"
        await eventually(r, lambda: said(r, "U0GRACE").count(refused) == 3)
        assert posted(r) == [] and r.slack.modals("U0GRACE") == []
        (row,) = await reviews(r)
        assert row.state == "pending"


async def test_an_internal_meeting_is_posted_as_before(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = acme_call(otter, guests=("grace@example.com",))
    async with rig(database_url, otter) as r:
        await summary(r, conversation_id)
        (parent,) = posted(r)
        assert SUMMARY in text_of(parent.blocks)
        assert r.slack.dms("U0ADA") == [] and await reviews(r) == []


async def test_with_review_off_an_external_meeting_is_posted(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = acme_call(otter)
    async with rig(database_url, otter, review_external=False) as r:
        await summary(r, conversation_id)
        (parent,) = posted(r)
        assert SUMMARY in text_of(parent.blocks)
        assert r.slack.dms("U0ADA") == [] and await reviews(r) == []


async def routed(r: Rig, otter: OtterStandIn, conversation_id: str) -> Any:
    """The digest as a webhook or the poller publishes it: routed, its owner unknown to the
    caller (matched by the Otter owner's email, if at all)."""
    client = r.services.require(OtterClient)
    conversation = await client.get_conversation(conversation_id, RELATIONSHIPS)
    return await publish_digest(r.services, to_meeting(conversation))


async def test_a_routed_digest_finds_its_owner_by_email(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation(
        "Customer call with ACME",
        owner="grace@example.com",
        processing=False,
        guests=(OUTSIDER,),
        summary=SUMMARY,
    )
    async with rig(database_url, otter, digest_channel="C0MEETINGS") as r:
        held = await routed(r, otter, conversation_id)
        assert isinstance(held, HeldForReview) and held.owner == "U0GRACE"
        await settle(r)
        assert posted(r, "C0MEETINGS") == []
        assert "<#C0MEETINGS>" in text_of(review_message(r, "U0GRACE").blocks)


async def test_with_no_owner_the_operators_are_asked_and_an_admin_decides(
    database_url: str, otter: OtterStandIn
) -> None:
    conversation_id = otter.add_conversation(
        "Customer call with ACME",
        owner="someone@elsewhere.example",
        processing=False,
        guests=(OUTSIDER,),
        summary=SUMMARY,
    )
    async with rig(database_url, otter, digest_channel="C0MEETINGS", ops_channel="C0GENERAL") as r:
        held = await routed(r, otter, conversation_id)
        assert isinstance(held, HeldForReview) and held.owner is None
        await settle(r)
        assert posted(r, "C0MEETINGS") == []
        (notice,) = posted(r, "C0GENERAL")
        assert "found no owner" in text_of(notice.blocks)
        assert buttons(notice) == [ACTION_SHARE, ACTION_EDIT, ACTION_PRIVATE]

        await press(r, notice, ACTION_SHARE, user="U0ALAN")  # not an admin
        await settle(r)
        assert posted(r, "C0MEETINGS") == []
        await eventually(r, lambda: "Only the person this meeting belongs to" in said(r, "U0ALAN"))

        await press(r, notice, ACTION_SHARE, user="U0ADA")  # a workspace admin
        await settle(r)
        (parent,) = posted(r, "C0MEETINGS")
        assert SUMMARY in text_of(parent.blocks)
        assert "Shared in <#C0MEETINGS> by <@U0ADA>" in text_of(posted(r, "C0GENERAL")[0].blocks)


async def test_asked_about_a_private_channels_digest_the_operators_see_none_of_it(
    database_url: str, otter: OtterStandIn
) -> None:
    """Nobody owns it and it is going to private #leadership: the operators' channel is asked
    to decide without being shown what only #leadership's members may read."""
    conversation_id = otter.add_conversation(
        "Board prep with ACME",
        owner="someone@elsewhere.example",
        processing=False,
        guests=(OUTSIDER,),
        summary=SUMMARY,
    )
    async with rig(
        database_url, otter, digest_channel="C0LEADERSHIP", ops_channel="C0GENERAL"
    ) as r:
        held = await routed(r, otter, conversation_id)
        assert isinstance(held, HeldForReview) and held.owner is None
        await settle(r)
        (notice,) = posted(r, "C0GENERAL")
        shown = text_of(notice.blocks) + notice.text
        assert SUMMARY not in shown and "Board prep" not in shown
        assert "private channel" in shown
        assert buttons(notice) == [ACTION_SHARE, ACTION_PRIVATE]

        await press(r, notice, ACTION_SHARE, user="U0ADA")  # a workspace admin
        await settle(r)
        (parent,) = posted(r, "C0LEADERSHIP")
        assert SUMMARY in text_of(parent.blocks)
